//! A webhook receiver for notification tests: an axum server on 127.0.0.1 (port 0) in
//! the test's runtime that records every request and answers as the test says (200,
//! 503, or never), over HTTP or, with a [`TestCa`]'s certificate, HTTPS.
//!
//! It can also play a chat service ([`Service`]): it then checks each body against the
//! service's documented message schema and verifies its signature exactly as the service
//! documents it, and answers the way the service does, including the failures Feishu,
//! DingTalk and WeCom report inside an HTTP 200 answer (see [`chat`]).

pub mod chat;
pub mod cloudevents;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

pub use chat::Service;

use crate::tls::TestCa;

/// How the receiver answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 200 OK; as a chat service, its answer to the request (success when the body and
    /// signature are right).
    Accept,
    /// 503 Service Unavailable.
    Unavailable,
    /// Reads the request and never answers.
    Hang,
    /// As a chat service: the service's answer when it rate-limits (inside a 200 for
    /// Feishu, DingTalk and WeCom).
    Throttle,
}

/// One request as received, and how it was answered.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    /// The query string of the request's URL, if any.
    pub query: Option<String>,
    pub body: String,
    /// The status answered (`None`: never).
    pub answered: Option<u16>,
    /// The body answered.
    pub reply: String,
    /// Whether the receiver took the message: a 2xx answer reporting success.
    pub delivered: bool,
    /// As a chat service: why the message was refused, if it was.
    pub refused: Option<String>,
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
    service: Option<Service>,
    received: Mutex<Vec<Received>>,
    handshake_failures: Mutex<Vec<String>>,
}

/// A running receiver; stops with the test's runtime.
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hooks/<random>`, `https://...` with TLS, or a path and
    /// query shaped like the chat service's webhook URLs.
    pub url: String,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Starts a receiver answering with `mode`.
    pub async fn start(mode: Mode) -> Receiver {
        Self::start_with(mode, None, None).await
    }

    /// Starts a receiver playing `service`, answering with `mode`.
    pub async fn start_as(service: Service, mode: Mode) -> Receiver {
        Self::start_with(mode, Some(service), None).await
    }

    /// Starts an HTTPS receiver with a certificate `ca` signed for 127.0.0.1.
    pub async fn start_tls(mode: Mode, ca: &TestCa) -> Receiver {
        Self::start_with(mode, None, Some(ca)).await
    }

    async fn start_with(mode: Mode, service: Option<Service>, ca: Option<&TestCa>) -> Receiver {
        let shared = Arc::new(Shared {
            mode: Mutex::new(Some(mode)),
            service: service.clone(),
            ..Shared::default()
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let random = uuid::Uuid::new_v4().simple().to_string();
        let path = match &service {
            Some(service) => service.webhook_path(&random),
            None => format!("/hooks/{random}"),
        };
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let scheme = match ca {
            None => {
                tokio::spawn(async move { axum::serve(listener, app).await });
                "http"
            }
            Some(ca) => {
                let tls = TlsListener {
                    tcp: listener,
                    acceptor: TlsAcceptor::from(ca.server_config()),
                    shared: Arc::clone(&shared),
                };
                tokio::spawn(async move { axum::serve(tls, app).await });
                "https"
            }
        };
        let url = format!("{scheme}://{address}{path}");
        Receiver { url, shared }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = Some(mode);
    }

    /// Every request so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The requests whose message was taken (answered 2xx with success).
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.delivered)
            .collect()
    }

    /// TLS handshakes that failed (HTTPS only), each with its error.
    pub fn handshake_failures(&self) -> Vec<String> {
        self.shared.handshake_failures.lock().unwrap().clone()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mode = shared.mode.lock().unwrap().expect("a mode");
    let answer = match (&shared.service, mode) {
        (_, Mode::Hang) => None,
        (_, Mode::Unavailable) => Some(chat::Answer::status(503, "")),
        (None, _) => Some(chat::Answer::status(200, "")),
        (Some(service), mode) => Some(service.answer(mode, uri.query(), &headers, &body)),
    };
    let received = Received {
        headers,
        query: uri.query().map(str::to_string),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered: answer.as_ref().map(|a| a.status),
        reply: answer.as_ref().map(|a| a.body.clone()).unwrap_or_default(),
        delivered: answer.as_ref().is_some_and(|a| a.delivered),
        refused: answer.as_ref().and_then(|a| a.refused.clone()),
    };
    shared.received.lock().unwrap().push(received);
    match answer {
        Some(answer) => (
            StatusCode::from_u16(answer.status).unwrap(),
            [("content-type", answer.content_type)],
            answer.body,
        )
            .into_response(),
        None => std::future::pending().await,
    }
}

/// Accepts TCP connections and completes their TLS handshake; failed handshakes are
/// recorded and skipped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.tcp.accept().await else {
                continue;
            };
            let handshake = self.acceptor.accept(stream);
            match tokio::time::timeout(Duration::from_secs(10), handshake).await {
                Ok(Ok(tls)) => return (tls, address),
                Ok(Err(e)) => self
                    .shared
                    .handshake_failures
                    .lock()
                    .unwrap()
                    .push(e.to_string()),
                Err(_) => self
                    .shared
                    .handshake_failures
                    .lock()
                    .unwrap()
                    .push("handshake timed out".to_string()),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
