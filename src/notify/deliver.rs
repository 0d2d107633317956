//! One delivery attempt: POST the body to the target with the notification headers and
//! what its format adds at each attempt ([`format::outgoing`]), within a timeout, TLS
//! verified, redirects not followed, reading at most [`RESPONSE_BODY_CAP`] bytes of the
//! answer, in which a chat service may report a failure inside a 2xx answer
//! ([`format::check_reply`]). Error messages never contain the target's URL (or its
//! host, path or tokens), token or secret.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::CONTENT_TYPE;
use tokio::time::Instant;

use super::format::{self, OutgoingError, Stored};
use super::sign::{HUB_SIGNATURE_HEADER, SIGNATURE_HEADER, signature};
use super::target::Target;
use crate::api::v1alpha1::{CloudEventsMode, NotifyEvent, NotifyFormat};
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
pub struct ClientError(#[from] pub reqwest::Error);

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
    /// The target answered another status than 2xx (with a chat service's short
    /// error code, such as Slack's `invalid_payload`, when it sent one).
    #[error("HTTP {status}{}", code.as_ref().map(|c| format!(": {c}")).unwrap_or_default())]
    Status {
        /// The status.
        status: reqwest::StatusCode,
        /// The service's error code.
        code: Option<String>,
    },
    /// The service answered 2xx but reported a failure in the body.
    #[error("{0}")]
    Rejected(String),
    /// The recorded body cannot be sent in its format.
    #[error("{0}")]
    Body(#[from] OutgoingError),
}

/// An HTTP client for deliveries: rustls with the webpki roots and `extra_roots`
/// (certificates are verified), no redirects, the tagwatch User-Agent.
pub fn http_client(
    connect_timeout: Duration,
    extra_roots: &[reqwest::Certificate],
) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(USER_AGENT)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none());
    for certificate in extra_roots {
        builder = builder.add_root_certificate(certificate.clone());
    }
    Ok(builder.build()?)
}

/// One notification to send.
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    /// The delivery id.
    pub id: &'a str,
    /// The kind of change.
    pub kind: NotifyEvent,
    /// The body's format.
    pub format: NotifyFormat,
    /// For CloudEvents, the content mode.
    pub mode: CloudEventsMode,
    /// The body as recorded.
    pub body: &'a str,
}

/// Sends `delivery` to `target`: `Ok` with the HTTP status when it answered 2xx within
/// `timeout` (and, for a chat format, the reply reports no failure), otherwise why not,
/// fit for status and events.
pub async fn send(
    http: &reqwest::Client,
    target: &Target,
    delivery: Delivery<'_>,
    timeout: Duration,
) -> Result<u16, SendError> {
    let stored = Stored {
        format: delivery.format,
        mode: delivery.mode,
        body: delivery.body,
    };
    let outgoing = format::outgoing(stored, target.secret.as_deref(), Timestamp::now())?;
    let mut url = target.url.clone();
    if !outgoing.query.is_empty() {
        url.query_pairs_mut().extend_pairs(&outgoing.query);
    }
    let mut request = http
        .post(url)
        .header(CONTENT_TYPE, outgoing.content_type)
        .header(DELIVERY_HEADER, delivery.id)
        .header(EVENT_HEADER, <&str>::from(delivery.kind));
    for (name, value) in &outgoing.headers {
        request = request.header(*name, value);
    }
    if let Some(token) = &target.token {
        let signature = signature(token, outgoing.body.as_bytes());
        request = request
            .header(HUB_SIGNATURE_HEADER, &signature)
            .header(SIGNATURE_HEADER, signature);
    }
    let request = request.body(outgoing.body);
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
    let mut reply = Vec::new();
    let _ = tokio::time::timeout_at(drain_until, read(response, &mut reply)).await;
    let secrets = target.secrets();
    if status.is_success() {
        format::check_reply(delivery.format, &reply)
            .map_err(|rejection| SendError::Rejected(scrub(&rejection.to_string(), &secrets)))?;
        Ok(status.as_u16())
    } else if status.is_redirection() {
        Err(SendError::Redirect(status))
    } else {
        let code = error_code(&reply).map(|c| scrub(c, &secrets));
        Err(SendError::Status { status, code })
    }
}

/// Reads up to [`RESPONSE_BODY_CAP`] bytes of the body into `reply`.
async fn read(mut response: reqwest::Response, reply: &mut Vec<u8>) {
    while reply.len() < RESPONSE_BODY_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = RESPONSE_BODY_CAP - reply.len();
                reply.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
}

/// A plain-text error code such as Slack's `invalid_payload` or `no_team`: one word of
/// lower-case letters and underscores, at most 64 bytes.
fn error_code(reply: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(reply).ok()?.trim();
    let word = |c: char| c.is_ascii_lowercase() || c == '_';
    (!text.is_empty() && text.len() <= 64 && text.chars().all(word)).then_some(text)
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
    fn plain_error_codes_are_kept() {
        assert_eq!(error_code(b"invalid_payload\n"), Some("invalid_payload"));
        assert_eq!(error_code(b"no_team"), Some("no_team"));
        assert_eq!(error_code(b"<html>Bad Gateway</html>"), None);
        assert_eq!(error_code(b""), None);
        assert_eq!(
            SendError::Status {
                status: reqwest::StatusCode::NOT_FOUND,
                code: Some("no_team".into())
            }
            .to_string(),
            "HTTP 404 Not Found: no_team"
        );
        assert_eq!(
            SendError::Status {
                status: reqwest::StatusCode::SERVICE_UNAVAILABLE,
                code: None
            }
            .to_string(),
            "HTTP 503 Service Unavailable"
        );
    }

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
