//! A webhook receiver for notification tests: an axum server on 127.0.0.1 (port 0) in
//! the test's runtime that records every request and answers as the test says (200,
//! 503, or never).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

/// How the receiver answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 200 OK.
    Accept,
    /// 503 Service Unavailable.
    Unavailable,
    /// Reads the request and never answers.
    Hang,
}

/// One request as received, and the status it was answered with (`None`: never).
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
    pub answered: Option<u16>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Shared {
    mode: Mutex<Option<Mode>>,
    received: Mutex<Vec<Received>>,
}

/// A running receiver; stops with the test's runtime.
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hooks/<random>`.
    pub url: String,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Starts a receiver answering with `mode`.
    pub async fn start(mode: Mode) -> Receiver {
        let shared = Arc::new(Shared::default());
        *shared.mode.lock().unwrap() = Some(mode);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let path = format!("/hooks/{}", uuid::Uuid::new_v4().simple());
        let url = format!("http://{}{path}", listener.local_addr().unwrap());
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, shared }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = Some(mode);
    }

    /// Every request so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The requests answered 200.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.answered == Some(200))
            .collect()
    }
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mode = shared.mode.lock().unwrap().expect("a mode");
    let answered = match mode {
        Mode::Accept => Some(200),
        Mode::Unavailable => Some(503),
        Mode::Hang => None,
    };
    shared.received.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    match answered {
        Some(code) => StatusCode::from_u16(code).unwrap(),
        None => std::future::pending().await,
    }
}
