//! Exact Kubernetes API checks, as kube-rs's controller-rs does them: a [`kube::Client`]
//! over kube's tower-test mock, and an [`ApiServerVerifier`] that answers each request
//! the code under test makes after checking its method and path. A [`Context`] over such
//! a client and a UCloud endpoint is [`Context::test`].

use std::sync::Arc;

use http::{Method, Request, Response};
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock::{Handle, pair};

use crate::controller::context::{Context, NoObserver, Settings};
use crate::controller::credentials::CredentialStore;
use crate::controller::events::EventPublisher;
use crate::notify::{Notifier, NotifierConfig, observe};

/// The API server side of a mocked client.
pub struct ApiServerVerifier(Handle<Request<Body>, Response<Body>>);

/// A request the verifier answered: its query string and JSON body (`Null` when empty).
#[derive(Clone, Debug)]
pub struct Seen {
    /// The query string.
    pub query: String,
    /// The body.
    pub body: Value,
}

/// A client whose requests the returned verifier answers.
pub fn mock_client() -> (kube::Client, ApiServerVerifier) {
    let (service, handle) = pair::<Request<Body>, Response<Body>>();
    (
        kube::Client::new(service, "default"),
        ApiServerVerifier(handle),
    )
}

impl ApiServerVerifier {
    /// Answers the next request with `status` and `answer` (or, when `answer` is null,
    /// the request's own body, as the API server echoes a create) after checking its
    /// method and path.
    pub async fn expect(&mut self, method: Method, path: &str, status: u16, answer: Value) -> Seen {
        let (request, send) = self.0.next_request().await.expect("another request");
        assert_eq!(
            (request.method(), request.uri().path()),
            (&method, path),
            "{}",
            request.uri()
        );
        let query = request.uri().query().unwrap_or_default().to_string();
        let body = request.into_body().collect_bytes().await.unwrap();
        let body: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).unwrap()
        };
        let answer = if answer.is_null() {
            body.clone()
        } else {
            answer
        };
        send.send_response(
            Response::builder()
                .status(status)
                .body(serde_json::to_vec(&answer).unwrap().into())
                .unwrap(),
        );
        Seen { query, body }
    }

    /// Answers every further request with `answer` until the client is gone; returns
    /// `METHOD path` of each.
    pub async fn answer_all(mut self, answer: Value) -> Vec<String> {
        let mut seen = Vec::new();
        while let Some((request, send)) = self.0.next_request().await {
            seen.push(format!("{} {}", request.method(), request.uri().path()));
            send.send_response(Response::new(serde_json::to_vec(&answer).unwrap().into()));
        }
        seen
    }
}

/// The Status the API server answers with for a failed request.
pub fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "reason": reason, "code": code, "message": message,
    })
}

impl Context {
    /// A context whose Kubernetes requests the returned verifier answers, polling the
    /// UCloud API at `endpoint`, with default settings and no metrics.
    pub fn test(endpoint: &str, settings: Settings) -> (Arc<Context>, ApiServerVerifier) {
        let (kube, verifier) = mock_client();
        let uhub = uhub::UhubClient::new(uhub::ClientConfig::with_endpoint(endpoint))
            .expect("a valid endpoint");
        let notifier = Notifier::new(
            kube.clone(),
            NotifierConfig::default(),
            Arc::new(observe::NoObserver),
        )
        .expect("a notifier");
        let ctx = Context::new(
            kube.clone(),
            uhub,
            CredentialStore::new(kube.clone(), None),
            EventPublisher::new(kube, "test"),
            notifier,
            Arc::new(NoObserver),
            settings,
        );
        (ctx, verifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_poll_limit_follows_the_settings() {
        let settings = Settings {
            concurrency: 40,
            ..Settings::default()
        };
        let (ctx, _verifier) = Context::test("http://127.0.0.1:9", settings);
        assert_eq!(ctx.polls.available_permits(), 40);
        let (ctx, _verifier) = Context::test("http://127.0.0.1:9", Settings::default());
        assert_eq!(
            ctx.polls.available_permits(),
            usize::from(crate::controller::context::DEFAULT_CONCURRENCY)
        );
    }
}
