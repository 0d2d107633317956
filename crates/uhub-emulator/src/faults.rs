//! Fault injection for the UCloud API: added latency, error answers (a RetCode, an HTTP
//! status or both), dropped connections and a requests-per-second limit, optionally
//! limited to one repo or one image.
//!
//! For each request in scope, in this order: wait `latencyMs`; drop the connection with
//! probability `resetRate`; answer RetCode 153 when more than `qpsLimit` requests in
//! scope arrived in the current one-second window; answer an error with probability
//! `errorRate` (HTTP `httpStatus`, default 200, with a JSON body carrying `retCode`,
//! default 150). `errorRate` defaults to 1 when `retCode` or `httpStatus` is set and
//! to 0 otherwise.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The RetCode of a request beyond `qpsLimit`.
pub const RATE_LIMITED: i64 = 153;
/// The RetCode of an injected error when `retCode` is not set.
pub const DEFAULT_ERROR_RET_CODE: i64 = 150;

/// The body of `PUT /_emulator/faults`. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qps_limit: Option<u32>,
    /// Limits the faults to requests with this `RepoName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Limits the faults to requests with this `ImageName` (needs `repo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl FaultConfig {
    /// Checks ranges and combinations; the message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        for (field, rate) in [
            ("errorRate", self.error_rate),
            ("resetRate", self.reset_rate),
        ] {
            if let Some(rate) = rate
                && !(0.0..=1.0).contains(&rate)
            {
                return Err(format!("{field}: {rate} is not between 0 and 1"));
            }
        }
        if self.ret_code == Some(0) {
            return Err("retCode: 0 means success; use a failure code such as 150 or 153".into());
        }
        if let Some(status) = self.http_status
            && !(200..=599).contains(&status)
        {
            return Err(format!("httpStatus: {status} is not between 200 and 599"));
        }
        if self.image.is_some() && self.repo.is_none() {
            return Err("image: limiting faults to an image also needs its repo".into());
        }
        Ok(())
    }

    fn effective_error_rate(&self) -> f64 {
        match self.error_rate {
            Some(rate) => rate,
            None if self.ret_code.is_some() || self.http_status.is_some() => 1.0,
            None => 0.0,
        }
    }

    fn covers(&self, repo: Option<&str>, image: Option<&str>) -> bool {
        let matches = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|want| Some(want) == got)
        };
        matches(&self.repo, repo) && matches(&self.image, image)
    }
}

/// What to do to one request instead of answering it normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Injected {
    /// Drop the connection without an answer.
    Reset,
    /// Answer RetCode 153 (over `qpsLimit`).
    RateLimited,
    /// Answer `ret_code` with HTTP status `http_status`.
    Error { ret_code: i64, http_status: u16 },
}

/// Faults in force, with the state of their rate limiter.
#[derive(Debug)]
pub struct ActiveFaults {
    config: FaultConfig,
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    start: Instant,
    count: u32,
}

impl ActiveFaults {
    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    pub fn latency(&self) -> Option<Duration> {
        self.config
            .latency_ms
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
    }

    /// Decides the fate of one request, after its latency; `draw` gives uniform numbers
    /// in `[0, 1)`.
    pub fn decide(&self, mut draw: impl FnMut() -> f64) -> Option<Injected> {
        let c = &self.config;
        if c.reset_rate.is_some_and(|rate| draw() < rate) {
            return Some(Injected::Reset);
        }
        if let Some(limit) = c.qps_limit
            && !self.admit(limit, Instant::now())
        {
            return Some(Injected::RateLimited);
        }
        if draw() < c.effective_error_rate() {
            return Some(Injected::Error {
                ret_code: c.ret_code.unwrap_or(DEFAULT_ERROR_RET_CODE),
                http_status: c.http_status.unwrap_or(200),
            });
        }
        None
    }

    /// Counts one request arriving at `now` in the current one-second window; false
    /// when it is beyond `limit`.
    fn admit(&self, limit: u32, now: Instant) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(window.start) >= Duration::from_secs(1) {
            *window = Window {
                start: now,
                count: 0,
            };
        }
        window.count = window.count.saturating_add(1);
        window.count <= limit
    }
}

/// The fault settings shared by all requests.
#[derive(Debug, Default)]
pub struct Faults {
    current: RwLock<Option<Arc<ActiveFaults>>>,
}

impl Faults {
    /// Replaces the faults in force (and restarts the rate limiter's window).
    pub fn set(&self, config: FaultConfig) -> Result<(), String> {
        config.validate()?;
        let active = ActiveFaults {
            config,
            window: Mutex::new(Window {
                start: Instant::now(),
                count: 0,
            }),
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(active));
        Ok(())
    }

    pub fn clear(&self) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The configuration in force, if any.
    pub fn config(&self) -> Option<FaultConfig> {
        self.current().map(|a| a.config.clone())
    }

    /// The faults that apply to a request naming `repo` and `image`.
    pub fn for_request(
        &self,
        repo: Option<&str>,
        image: Option<&str>,
    ) -> Option<Arc<ActiveFaults>> {
        self.current().filter(|a| a.config.covers(repo, image))
    }

    fn current(&self) -> Option<Arc<ActiveFaults>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(config: FaultConfig) -> Arc<ActiveFaults> {
        let faults = Faults::default();
        faults.set(config).unwrap();
        faults.for_request(None, None).unwrap()
    }

    #[test]
    fn rejects_out_of_range_settings_naming_the_field() {
        let cases = [
            (
                FaultConfig {
                    error_rate: Some(1.5),
                    ..Default::default()
                },
                "errorRate",
            ),
            (
                FaultConfig {
                    reset_rate: Some(-0.1),
                    ..Default::default()
                },
                "resetRate",
            ),
            (
                FaultConfig {
                    ret_code: Some(0),
                    ..Default::default()
                },
                "retCode",
            ),
            (
                FaultConfig {
                    http_status: Some(42),
                    ..Default::default()
                },
                "httpStatus",
            ),
            (
                FaultConfig {
                    image: Some("web".into()),
                    ..Default::default()
                },
                "image",
            ),
        ];
        for (config, field) in cases {
            let err = Faults::default().set(config).unwrap_err();
            assert!(err.starts_with(field), "{err}");
        }
    }

    #[test]
    fn error_rate_defaults_to_one_when_an_error_is_named() {
        let a = active(FaultConfig {
            http_status: Some(502),
            ..Default::default()
        });
        assert_eq!(
            a.decide(|| 0.999),
            Some(Injected::Error {
                ret_code: 150,
                http_status: 502
            })
        );
        let a = active(FaultConfig {
            latency_ms: Some(5),
            ..Default::default()
        });
        assert_eq!(a.decide(|| 0.0), None);
        assert_eq!(a.latency(), Some(Duration::from_millis(5)));
    }

    #[test]
    fn rates_compare_with_the_draw() {
        let a = active(FaultConfig {
            reset_rate: Some(0.25),
            error_rate: Some(0.5),
            ret_code: Some(153),
            ..Default::default()
        });
        assert_eq!(a.decide(|| 0.1), Some(Injected::Reset));
        let mut draws = [0.3, 0.4].into_iter();
        assert_eq!(
            a.decide(|| draws.next().unwrap()),
            Some(Injected::Error {
                ret_code: 153,
                http_status: 200
            })
        );
        let mut draws = [0.3, 0.6].into_iter();
        assert_eq!(a.decide(|| draws.next().unwrap()), None);
    }

    #[test]
    fn qps_limit_admits_the_first_requests_of_each_window() {
        let a = active(FaultConfig {
            qps_limit: Some(2),
            ..Default::default()
        });
        let t0 = Instant::now();
        let admitted: Vec<_> = (0..4).map(|_| a.admit(2, t0)).collect();
        assert_eq!(admitted, [true, true, false, false]);
        let t1 = t0 + Duration::from_secs(1);
        assert!(a.admit(2, t1));
        assert!(a.admit(2, t1 + Duration::from_millis(999)));
        assert!(!a.admit(2, t1 + Duration::from_millis(999)));
    }

    #[test]
    fn scope_limits_faults_to_a_repo_or_image() {
        let faults = Faults::default();
        faults
            .set(FaultConfig {
                repo: Some("team".into()),
                image: Some("web".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(faults.for_request(Some("team"), Some("web")).is_some());
        assert!(faults.for_request(Some("team"), Some("api")).is_none());
        assert!(faults.for_request(None, None).is_none());
        faults
            .set(FaultConfig {
                repo: Some("team".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(faults.for_request(Some("team"), None).is_some());
        faults.clear();
        assert!(faults.config().is_none());
    }
}
