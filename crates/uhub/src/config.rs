//! Client settings: endpoint, timeouts, body size cap, retry policy and the optional
//! global rate limit, with validation that names what is wrong.

use std::time::Duration;

use reqwest::Url;

use super::retry::RetryPolicy;

/// UCloud's public API endpoint, the default of both official SDKs.
pub const DEFAULT_ENDPOINT: &str = "https://api.ucloud.cn";
/// The `User-Agent` header of every request.
pub const USER_AGENT: &str = concat!("tagwatch/", env!("CARGO_PKG_VERSION"));
/// The default per-request timeout, as in the official SDKs.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The default cap on a response body: a 1,000-tag page is about 150 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 << 20;

/// Settings of a [`UhubClient`](super::UhubClient).
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    /// The API endpoint URL (`http` or `https`), e.g. a private or local endpoint.
    pub endpoint: String,
    /// The longest one HTTP request may take, from connecting until the body is read.
    pub request_timeout: Duration,
    /// The longest establishing a connection may take.
    pub connect_timeout: Duration,
    /// The largest response body accepted; larger ones are a malformed response.
    pub max_body_bytes: usize,
    /// Retries of throttled and unavailable requests.
    pub retry: RetryPolicy,
    /// A limit on the request rate of this client and all its clones, if any.
    pub rate_limit: Option<RateLimit>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            endpoint: DEFAULT_ENDPOINT.to_string(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            retry: RetryPolicy::default(),
            rate_limit: None,
        }
    }
}

impl ClientConfig {
    /// The default settings with another endpoint.
    pub fn with_endpoint(endpoint: impl Into<String>) -> Self {
        ClientConfig {
            endpoint: endpoint.into(),
            ..ClientConfig::default()
        }
    }

    /// Checks every setting; returns the parsed endpoint.
    pub fn validate(&self) -> Result<Url, ConfigError> {
        if self.request_timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(ConfigError::Invalid("timeouts must be positive".into()));
        }
        if self.max_body_bytes == 0 {
            return Err(ConfigError::Invalid(
                "the response body limit must be positive".into(),
            ));
        }
        if let Some(limit) = self.rate_limit {
            RateLimit::new(limit.qps, limit.burst)?;
        }
        parse_endpoint(&self.endpoint)
    }
}

/// Parses and checks an endpoint URL: `http` or `https`, a host, no user info.
pub fn parse_endpoint(endpoint: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidEndpoint {
        endpoint: endpoint.to_string(),
        reason: reason.to_string(),
    };
    let url = Url::parse(endpoint.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not carry user info"));
    }
    Ok(url)
}

/// A request rate limit: `qps` requests per second on average, bursts of up to `burst`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second (may be fractional, e.g. 0.5).
    pub qps: f64,
    /// Requests that may be sent at once after a quiet period.
    pub burst: u32,
}

impl RateLimit {
    /// A checked rate limit: `qps` finite in `(0, 10^9]`, `burst` at least 1.
    pub fn new(qps: f64, burst: u32) -> Result<Self, ConfigError> {
        if !(qps.is_finite() && qps > 0.0 && qps <= 1e9) {
            return Err(ConfigError::InvalidRateLimit(format!(
                "qps must be a positive number up to 10^9, not {qps}"
            )));
        }
        if burst == 0 {
            return Err(ConfigError::InvalidRateLimit(
                "burst must be at least 1".into(),
            ));
        }
        Ok(RateLimit { qps, burst })
    }

    /// The time in which one request slot is refilled.
    pub fn period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.qps)
    }
}

/// A client setting that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The endpoint is not a usable URL.
    #[error("invalid UCloud endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The rate limit is out of range.
    #[error("invalid UCloud rate limit: {0}")]
    InvalidRateLimit(String),
    /// Another setting is out of range.
    #[error("invalid UCloud client setting: {0}")]
    Invalid(String),
    /// The HTTP client could not be built (e.g. no TLS backend).
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_points_at_ucloud() {
        let config = ClientConfig::default();
        assert_eq!(
            config.validate().unwrap().as_str(),
            "https://api.ucloud.cn/"
        );
        assert_eq!(config.request_timeout, Duration::from_secs(30));
        assert!(USER_AGENT.starts_with("tagwatch/"));
    }

    #[test]
    fn endpoints_are_checked() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://api.service.ucloud.cn",
            "https://gateway.example/ucloud/",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
        for (bad, reason) in [
            ("api.ucloud.cn", "relative URL without a base"),
            ("ftp://api.ucloud.cn", "the scheme must be http or https"),
            ("https://user:pw@api.ucloud.cn", "user info"),
            ("", "relative URL"),
        ] {
            let err = parse_endpoint(bad).unwrap_err();
            assert!(err.to_string().contains(reason), "{bad}: {err}");
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn settings_are_checked() {
        let mut config = ClientConfig::with_endpoint("http://127.0.0.1:1");
        config.request_timeout = Duration::ZERO;
        assert!(matches!(config.validate(), Err(ConfigError::Invalid(_))));
        config.request_timeout = Duration::from_secs(1);
        config.max_body_bytes = 0;
        assert!(matches!(config.validate(), Err(ConfigError::Invalid(_))));
        config.max_body_bytes = 1;
        config.rate_limit = Some(RateLimit { qps: 0.0, burst: 1 });
        assert!(matches!(
            config.validate(),
            Err(ConfigError::InvalidRateLimit(_))
        ));
    }

    #[test]
    fn rate_limits_are_checked() {
        assert_eq!(
            RateLimit::new(0.5, 1).unwrap().period(),
            Duration::from_secs(2)
        );
        assert_eq!(
            RateLimit::new(20.0, 5).unwrap().period(),
            Duration::from_millis(50)
        );
        for (qps, burst) in [
            (0.0, 1),
            (-1.0, 1),
            (f64::NAN, 1),
            (f64::INFINITY, 1),
            (1.0, 0),
        ] {
            assert!(RateLimit::new(qps, burst).is_err(), "{qps} {burst}");
        }
    }
}
