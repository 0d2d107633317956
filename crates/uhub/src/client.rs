//! The UCloud API wire client: signs a request, POSTs it form-encoded to the endpoint,
//! reads the response body up to a size cap, decodes it, and retries throttled or
//! unavailable requests. All clones share one connection pool, one rate limiter and one
//! observer; credentials are given per call.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::config::{ClientConfig, ConfigError, USER_AGENT};
use super::credentials::Credentials;
use super::error::{Error, ErrorKind, Failure};
use super::observe::{RequestObserver, RequestOutcome};
use super::rate_limit::RateLimiter;
use super::signature::sign;
use super::wire::{self, CappedBody, RawResponse};

/// The response header carrying UCloud's request id.
pub const REQUEST_ID_HEADER: &str = "X-UCLOUD-REQUEST-UUID";

/// Parameters the client sets itself; callers' values for them are dropped.
const RESERVED_PARAMS: [&str; 4] = ["Action", "PublicKey", "SecurityToken", "Signature"];

/// Per-call settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// When the whole call (rate-limit waits, requests, retries) must be over. Each
    /// request's timeout is the smaller of the client's request timeout and the time
    /// left; no retry is started that could not finish in time.
    pub deadline: Option<Instant>,
}

impl CallOptions {
    /// A deadline `timeout` from now.
    pub fn with_timeout(timeout: Duration) -> Self {
        CallOptions {
            deadline: Some(Instant::now() + timeout),
        }
    }

    fn time_left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// A UCloud API client. Cheap to clone; clones share the HTTP connection pool, the
/// rate limiter and the observer, so one client serves many concurrent polls.
#[derive(Clone)]
pub struct UhubClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Url,
    config: ClientConfig,
    limiter: Option<RateLimiter>,
    observer: Option<Arc<dyn RequestObserver>>,
}

impl fmt::Debug for UhubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UhubClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("config", &self.inner.config)
            .field("observer", &self.inner.observer.is_some())
            .finish()
    }
}

impl UhubClient {
    /// A client for `config`, without an observer.
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        Self::with_observer(config, None)
    }

    /// A client for `config` that reports every HTTP request to `observer`.
    pub fn with_observer(
        config: ClientConfig,
        observer: Option<Arc<dyn RequestObserver>>,
    ) -> Result<Self, ConfigError> {
        let endpoint = config.validate()?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(USER_AGENT)
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        Ok(UhubClient {
            inner: Arc::new(Inner {
                http,
                endpoint,
                limiter: config.rate_limit.map(RateLimiter::new),
                config,
                observer,
            }),
        })
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Calls `action` with `params` signed by `credentials` and decodes the successful
    /// response as `T`. `Action`, `PublicKey`, `SecurityToken` and `Signature` are set
    /// by the client. Throttled and unavailable failures are retried per the client's
    /// retry policy, within `options.deadline`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        credentials: &Credentials,
        action: &str,
        params: Vec<(String, String)>,
        options: CallOptions,
    ) -> Result<T, Error> {
        self.call_counted(credentials, action, params, options, &mut 0)
            .await
    }

    /// [`UhubClient::call`], adding the number of HTTP requests made to `requests`.
    pub(crate) async fn call_counted<T: DeserializeOwned>(
        &self,
        credentials: &Credentials,
        action: &str,
        params: Vec<(String, String)>,
        options: CallOptions,
        requests: &mut u32,
    ) -> Result<T, Error> {
        let (body, signature) = signed_form(credentials, action, params);
        let secrets: Vec<&str> = credentials
            .secrets()
            .chain(std::iter::once(signature.as_str()))
            .collect();
        let retry = self.inner.config.retry;
        let mut last_error: Option<Error> = None;
        let mut attempt = 0;
        loop {
            let rate_limit_wait = match self.wait_for_slot(action, options).await {
                Ok(wait) => wait,
                Err(err) => return Err(last_error.unwrap_or(err)),
            };
            let timeout = match options.time_left() {
                Some(left) if left.is_zero() => {
                    return Err(last_error.unwrap_or_else(|| deadline_passed(action)));
                }
                Some(left) => left.min(self.inner.config.request_timeout),
                None => self.inner.config.request_timeout,
            };
            let started = Instant::now();
            *requests += 1;
            let (result, http_status) = self.attempt::<T>(action, &body, timeout, &secrets).await;
            let result = result.map_err(|e| e.scrubbed(secrets.iter().copied()));
            self.observe(RequestOutcome {
                action,
                attempt,
                http_status,
                ret_code: match &result {
                    Ok(_) => Some(0),
                    Err(e) => e.ret_code(),
                },
                error: result.as_ref().err().map(Error::kind),
                latency: started.elapsed(),
                rate_limit_wait,
            });
            let err = match result {
                Ok(value) => return Ok(value),
                Err(err) if retry.should_retry(&err, attempt) => err,
                Err(err) => return Err(err),
            };
            let delay = retry.delay(attempt);
            if options
                .deadline
                .is_some_and(|d| Instant::now() + delay >= d)
            {
                return Err(err);
            }
            tracing::debug!(action, attempt, error = %err, ?delay, "retrying UCloud request");
            last_error = Some(err);
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn wait_for_slot(&self, action: &str, options: CallOptions) -> Result<Duration, Error> {
        let Some(limiter) = &self.inner.limiter else {
            return Ok(Duration::ZERO);
        };
        limiter.acquire(options.deadline).await.map_err(|needed| {
            let message = format!(
                "the client's rate limit has no free request slot before the call's deadline (the next is at least {} away)",
                humantime::format_duration(round_up_to_tenths(needed))
            );
            Error::new(ErrorKind::Throttled, Failure::new(action, message))
        })
    }

    /// One HTTP exchange; also returns the HTTP status when a response arrived.
    async fn attempt<T: DeserializeOwned>(
        &self,
        action: &str,
        body: &str,
        timeout: Duration,
        secrets: &[&str],
    ) -> (Result<T, Error>, Option<u16>) {
        let exchange = async {
            let response = self
                .inner
                .http
                .post(self.inner.endpoint.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("U-Timestamp-Ms", unix_millis().to_string())
                .body(body.to_owned())
                .send()
                .await?;
            read_capped(response, self.inner.config.max_body_bytes).await
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(raw)) => (wire::decode(action, &raw, secrets), Some(raw.status)),
            Ok(Err(err)) => (
                Err(transport_error(action, &self.inner.endpoint, &err)),
                None,
            ),
            Err(_) => {
                let message = format!(
                    "no complete response from {} within {}",
                    self.inner.endpoint,
                    humantime::format_duration(round_up_to_tenths(timeout))
                );
                (
                    Err(Error::new(
                        ErrorKind::Unavailable,
                        Failure::new(action, message),
                    )),
                    None,
                )
            }
        }
    }

    fn observe(&self, outcome: RequestOutcome<'_>) {
        tracing::debug!(
            action = outcome.action,
            attempt = outcome.attempt,
            http_status = outcome.http_status,
            ret_code = outcome.ret_code,
            result = outcome.result_label(),
            latency_ms = outcome.latency.as_millis() as u64,
            rate_limit_wait_ms = outcome.rate_limit_wait.as_millis() as u64,
            "UCloud request"
        );
        if let Some(observer) = &self.inner.observer {
            observer.observe(&outcome);
        }
    }
}

/// The form body of a signed request, and its signature. The signature covers exactly
/// the strings that are encoded into the body.
pub(crate) fn signed_form(
    credentials: &Credentials,
    action: &str,
    params: Vec<(String, String)>,
) -> (String, String) {
    let mut wire = Vec::with_capacity(params.len() + 4);
    wire.push(("Action".to_string(), action.to_string()));
    wire.push((
        "PublicKey".to_string(),
        credentials.public_key().to_string(),
    ));
    if let Some(token) = credentials.security_token() {
        wire.push(("SecurityToken".to_string(), token.to_string()));
    }
    wire.extend(
        params
            .into_iter()
            .filter(|(key, _)| !RESERVED_PARAMS.contains(&key.as_str())),
    );
    let signature = sign(&wire, credentials.private_key());
    wire.push(("Signature".to_string(), signature.clone()));
    let body = serde_urlencoded::to_string(&wire).expect("string pairs always form-encode");
    (body, signature)
}

async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<RawResponse, reqwest::Error> {
    let status = response.status().as_u16();
    let request_id = response.headers().get(REQUEST_ID_HEADER).map(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .chars()
            .take(128)
            .collect()
    });
    let mut body = CappedBody::new(limit, response.content_length());
    while !body.is_over() {
        match response.chunk().await? {
            Some(chunk) => body.push(&chunk),
            None => break,
        };
    }
    Ok(body.finish(status, request_id))
}

fn transport_error(action: &str, endpoint: &Url, err: &reqwest::Error) -> Error {
    let what = if err.is_connect() {
        "cannot connect to"
    } else if err.is_body() || err.is_decode() {
        "failed reading the response from"
    } else {
        "request failed to"
    };
    let mut message = format!("{what} {endpoint}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::new(ErrorKind::Unavailable, Failure::new(action, message))
}

fn deadline_passed(action: &str) -> Error {
    Error::new(
        ErrorKind::Unavailable,
        Failure::new(
            action,
            "the call's deadline passed before a request could be sent",
        ),
    )
}

/// Rounded up to a tenth of a second: the time left of a deadline varies by
/// milliseconds from one attempt to the next, and messages about the same timeout
/// should read the same.
fn round_up_to_tenths(d: Duration) -> Duration {
    let tenths = d.as_nanos().div_ceil(100_000_000);
    Duration::from_millis(u64::try_from(tenths * 100).unwrap_or(u64::MAX))
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::signatures_match;

    const PRIVATE: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";

    #[test]
    fn form_body_carries_exactly_the_signed_strings() {
        let creds = Credentials::new("pub key+1", PRIVATE)
            .unwrap()
            .with_security_token("tok&en");
        let params = vec![
            ("RepoName".to_string(), "team a".to_string()),
            ("Signature".to_string(), "forged".to_string()),
            ("PublicKey".to_string(), "other".to_string()),
            ("Offset".to_string(), "0".to_string()),
        ];
        let (body, signature) = signed_form(&creds, "GetImageTag", params);
        let decoded: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap();
        let keys: Vec<&str> = decoded.iter().map(|(k, _)| k.as_str()).collect();
        let expected = "Action PublicKey SecurityToken RepoName Offset Signature";
        assert_eq!(keys.join(" "), expected);
        assert_eq!(decoded[1].1, "pub key+1");
        assert_eq!(decoded[2].1, "tok&en");
        assert_eq!(decoded[3].1, "team a");
        assert_eq!(decoded[5].1, signature);
        assert!(signatures_match(&sign(&decoded, PRIVATE), &signature));
        assert!(!body.contains(PRIVATE));
    }

    #[test]
    fn clones_share_one_client_and_debug_shows_no_secret() {
        let client = UhubClient::new(ClientConfig::with_endpoint("http://127.0.0.1:9")).unwrap();
        let clone = client.clone();
        assert!(Arc::ptr_eq(&client.inner, &clone.inner));
        assert_eq!(clone.endpoint().as_str(), "http://127.0.0.1:9/");
        let text = format!("{client:?}");
        assert!(text.contains("http://127.0.0.1:9/"), "{text}");
    }

    #[test]
    fn invalid_settings_are_refused() {
        let err = UhubClient::new(ClientConfig::with_endpoint("api.ucloud.cn")).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidEndpoint { .. }), "{err}");
    }
}
