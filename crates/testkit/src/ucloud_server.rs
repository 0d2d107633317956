//! A tiny scripted UCloud API server for tests and benchmarks: it listens on
//! 127.0.0.1 (port 0), verifies every request's signature with tagwatch's own
//! `signature::sign` (170/171/172 like UCloud), records the requests, and answers with
//! whatever the test's script returns. It runs on its own thread and runtime, so both
//! synchronous and asynchronous tests can use it, and stops when dropped.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use tags::Tag;
use tokio::sync::oneshot;
use uhub::signature::{sign, signatures_match};

pub const PUBLIC_KEY: &str = "test-public-key-5c3f";
pub const PRIVATE_KEY: &str = "test-private-key-9d2a71e0b4c84f6e";

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    pub headers: HeaderMap,
    pub body: String,
    pub params: Vec<(String, String)>,
}

impl Request {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn number(&self, key: &str, default: u64) -> u64 {
        self.param(key).map_or(default, |v| v.parse().unwrap())
    }
}

/// What the script answers.
pub enum Reply {
    /// A complete body with a status and content type.
    Full {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// A body sent in chunks without a Content-Length.
    Chunked { chunk: Vec<u8>, count: usize },
    /// Never answer.
    Hang,
}

impl Reply {
    pub fn json(value: Value) -> Reply {
        Reply::status_json(200, value)
    }

    pub fn status_json(status: u16, value: Value) -> Reply {
        Reply::Full {
            status,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
        }
    }

    pub fn ret_code(code: i64, message: &str) -> Reply {
        Reply::json(json!({"Action": "GetImageTagResponse", "RetCode": code, "Message": message}))
    }

    pub fn html(status: u16, body: impl Into<String>) -> Reply {
        Reply::Full {
            status,
            content_type: "text/html",
            body: body.into().into_bytes(),
        }
    }
}

type Script = dyn Fn(&Request) -> Reply + Send + Sync;

struct Shared {
    script: Box<Script>,
    requests: Mutex<Vec<Request>>,
    counter: AtomicU64,
}

/// A running scripted server; stops when dropped.
pub struct Server {
    pub url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server answering signed requests with `script`.
    pub fn start(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        let shared = Arc::new(Shared {
            script: Box::new(script),
            requests: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = oneshot::channel::<()>();
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    result = axum::serve(listener, app) => result.unwrap(),
                    _ = stop => {}
                }
            });
        });
        Server {
            url,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = shared.counter.fetch_add(1, Ordering::SeqCst) + 1;
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let request = Request {
        method,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        params,
    };
    shared.requests.lock().unwrap().push(request.clone());
    let reply = match verify(&request) {
        Some(rejection) => rejection,
        None => (shared.script)(&request),
    };
    let builder = Response::builder().header("X-UCLOUD-REQUEST-UUID", format!("req-{id}"));
    match reply {
        Reply::Full {
            status,
            content_type,
            body,
        } => builder
            .status(StatusCode::from_u16(status).unwrap())
            .header("Content-Type", content_type)
            .body(Body::from(body))
            .unwrap(),
        Reply::Chunked { chunk, count } => {
            let chunks = std::iter::repeat_n(Bytes::from(chunk), count);
            let stream = futures::stream::iter(chunks.map(Ok::<_, Infallible>));
            builder.body(Body::from_stream(stream)).unwrap()
        }
        Reply::Hang => std::future::pending().await,
    }
}

/// UCloud's signature check: 170 without a signature, 172 for an unknown public key,
/// 171 for a wrong signature.
fn verify(request: &Request) -> Option<Reply> {
    let Some(received) = request.param("Signature") else {
        return Some(Reply::ret_code(170, "Missing signature"));
    };
    if request.param("PublicKey") != Some(PUBLIC_KEY) {
        return Some(Reply::ret_code(172, "User Not Exists"));
    }
    let expected = sign(&request.params, PRIVATE_KEY);
    (!signatures_match(&expected, received))
        .then(|| Reply::ret_code(171, "Signature VerifyAC Error"))
}

/// Tag `n` of a generated image: name `v<n>`, created `n` seconds after a base time,
/// every other tag with a digest.
pub fn generated_tag(n: u64) -> Tag {
    Tag {
        name: format!("v{n}"),
        update_time: (1_790_000_000 + n).to_string(),
        digest: n.is_multiple_of(2).then(|| format!("sha256:{n:064x}")),
    }
}

/// `count` generated tags, newest first (as UHub lists them).
pub fn generated_tags(count: u64) -> Vec<Tag> {
    (0..count).rev().map(generated_tag).collect()
}

/// A GetImageTag page of `tags` for `request` (Offset, Limit capped at `max_limit`,
/// TagName), as UHub serves it.
pub fn tag_page(tags: &[Tag], request: &Request, max_limit: u64) -> Reply {
    let offset = request.number("Offset", 0) as usize;
    let limit = request.number("Limit", 20).min(max_limit) as usize;
    let matching: Vec<&Tag> = match request.param("TagName") {
        Some(name) => tags.iter().filter(|t| t.name == name).collect(),
        None => tags.iter().collect(),
    };
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|t| {
            let mut wire = json!({"TagName": t.name, "UpdateTime": t.update_time});
            if let Some(digest) = &t.digest {
                wire["Digest"] = json!(digest);
            }
            wire
        })
        .collect();
    Reply::json(json!({
        "Action": "GetImageTagResponse",
        "RetCode": 0,
        "TotalCount": matching.len(),
        "TagSet": page,
    }))
}

/// A script serving `tags` of any repo/image, at most `max_limit` per page.
pub fn serve_tags(tags: Vec<Tag>, max_limit: u64) -> impl Fn(&Request) -> Reply + Send + Sync {
    move |request| tag_page(&tags, request, max_limit)
}
