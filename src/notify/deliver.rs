//! One delivery attempt: POST the body to the target with the notification headers,
//! within a timeout, TLS verified, redirects not followed, reading at most
//! [`RESPONSE_BODY_CAP`] bytes of the answer. Error messages never contain the target's
//! URL (or its host or path) or token.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use tokio::time::Instant;

use super::sign::{HUB_SIGNATURE_HEADER, SIGNATURE_HEADER, signature};
use super::target::Target;
use crate::api::v1alpha1::NotifyEvent;
use uhub::{REDACTED, USER_AGENT};

/// Header carrying the delivery id (also the body's `deliveryId`).
pub const DELIVERY_HEADER: &str = "X-Tagwatch-Delivery";
/// Header carrying the kind of change (also the body's `type`).
pub const EVENT_HEADER: &str = "X-Tagwatch-Event";
/// How much of a response body is read (and then dropped).
pub const RESPONSE_BODY_CAP: usize = 4096;
/// How long the rest of a response body may take once a 2xx status arrived.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// The notification HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the notification HTTP client: {0}")]
pub struct ClientError(#[from] reqwest::Error);

/// Why one delivery attempt failed; never names the target's URL or token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No complete answer within the timeout.
    #[error("no answer within {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The request failed (connection, TLS, ...), described without the URL.
    #[error("{0}")]
    Transport(String),
    /// The target answered a redirect, which is not followed.
    #[error("HTTP {0} (redirects are not followed)")]
    Redirect(reqwest::StatusCode),
    /// The target answered another status than 2xx.
    #[error("HTTP {0}")]
    Status(reqwest::StatusCode),
}

/// The HTTP client deliveries share: rustls with the webpki roots (certificates are
/// verified), no redirects, the tagwatch User-Agent.
pub fn http_client(connect_timeout: Duration) -> Result<reqwest::Client, ClientError> {
    Ok(reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(USER_AGENT)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// One notification to send.
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    /// The delivery id.
    pub id: &'a str,
    /// The kind of change.
    pub kind: NotifyEvent,
    /// The exact body.
    pub body: &'a str,
}

/// Sends `delivery` to `target`: `Ok` with the HTTP status when it answered 2xx within
/// `timeout`, otherwise why not, fit for status and events.
pub async fn send(
    http: &reqwest::Client,
    target: &Target,
    delivery: Delivery<'_>,
    timeout: Duration,
) -> Result<u16, SendError> {
    let mut request = http
        .post(target.url.clone())
        .header(CONTENT_TYPE, "application/json")
        .header(DELIVERY_HEADER, delivery.id)
        .header(EVENT_HEADER, <&str>::from(delivery.kind))
        .body(delivery.body.to_owned());
    if let Some(token) = &target.token {
        let signature = signature(token, delivery.body.as_bytes());
        request = request
            .header(HUB_SIGNATURE_HEADER, &signature)
            .header(SIGNATURE_HEADER, signature);
    }
    let deadline = Instant::now() + timeout;
    let response = match tokio::time::timeout_at(deadline, request.send()).await {
        Err(_) => return Err(SendError::Timeout(timeout)),
        Ok(Err(error)) => {
            return Err(SendError::Transport(scrub(
                &describe(error),
                &target.secrets(),
            )));
        }
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    let drain_until = deadline.min(Instant::now() + DRAIN_TIMEOUT);
    let _ = tokio::time::timeout_at(drain_until, drain(response)).await;
    if status.is_success() {
        Ok(status.as_u16())
    } else if status.is_redirection() {
        Err(SendError::Redirect(status))
    } else {
        Err(SendError::Status(status))
    }
}

/// Reads up to [`RESPONSE_BODY_CAP`] bytes of the body and drops them.
async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while read < RESPONSE_BODY_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            _ => break,
        }
    }
}

/// A transport error and its causes on one line, without the request URL.
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut message = if error.is_connect() {
        "cannot connect".to_string()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `message` with every one of `secrets` replaced by [`REDACTED`], longest first.
pub fn scrub(message: &str, secrets: &[String]) -> String {
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .into_iter()
        .fold(message.to_string(), |m, s| m.replace(s.as_str(), REDACTED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_every_secret_longest_first() {
        let secrets = vec![
            "https://h.example/hook/abc".to_string(),
            "h.example".to_string(),
            "/hook/abc".to_string(),
            "tok".to_string(),
            String::new(),
        ];
        assert_eq!(
            scrub(
                "error sending https://h.example/hook/abc: dns h.example; tok",
                &secrets
            ),
            "error sending <redacted>: dns <redacted>; <redacted>"
        );
        assert_eq!(scrub("plain", &secrets), "plain");
    }
}
