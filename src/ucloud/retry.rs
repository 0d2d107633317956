//! When and how long to wait before retrying a failed UCloud request: only throttled
//! and unavailable errors are retried, within a configurable budget, after a capped
//! exponential backoff with full jitter (a uniformly random wait between zero and
//! `min(max_delay, base_delay * 2^retry)`), so that many clients spread out.

use std::time::Duration;

use rand::Rng;

use super::error::Error;

/// The retry budget and backoff of one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// The backoff ceiling of the first retry.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, starting at up to 250 ms, never more than 10 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub const fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// Whether `error`, after `retries_done` retries, should be retried.
    pub fn should_retry(&self, error: &Error, retries_done: u32) -> bool {
        error.is_retryable() && retries_done < self.max_retries
    }

    /// The largest wait before retry number `retry` (0-based):
    /// `min(max_delay, base_delay * 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }

    /// A random wait in `[0, ceiling(retry)]` (full jitter).
    pub fn delay(&self, retry: u32) -> Duration {
        self.delay_at(retry, rand::rng().random::<f64>())
    }

    /// The wait at fraction `unit` (in `[0, 1]`) of `ceiling(retry)`.
    pub fn delay_at(&self, retry: u32, unit: f64) -> Duration {
        self.ceiling(retry).mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ucloud::error::{ErrorClass, Failure};

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        }
    }

    #[test]
    fn ceiling_grows_exponentially_and_is_capped() {
        let ceilings: Vec<u128> = (0..6).map(|n| policy().ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy().ceiling(31).as_millis(), 1000);
        assert_eq!(policy().ceiling(u32::MAX).as_millis(), 1000);
        assert_eq!(RetryPolicy::none().ceiling(3), Duration::ZERO);
    }

    #[test]
    fn full_jitter_spans_zero_to_ceiling() {
        let p = policy();
        assert_eq!(p.delay_at(2, 0.0), Duration::ZERO);
        assert_eq!(p.delay_at(2, 0.5), Duration::from_millis(200));
        assert_eq!(p.delay_at(2, 1.0), Duration::from_millis(400));
        assert_eq!(p.delay_at(2, 7.0), Duration::from_millis(400));
        for retry in 0..8 {
            let d = p.delay(retry);
            assert!(d <= p.ceiling(retry), "{d:?} > {:?}", p.ceiling(retry));
        }
    }

    #[test]
    fn only_throttled_and_unavailable_are_retried_within_budget() {
        for class in ErrorClass::ALL {
            if class == ErrorClass::TooManyPages {
                continue;
            }
            let err = Error::new(class, Failure::new("GetImageTag", "x"));
            let expected = matches!(class, ErrorClass::Throttled | ErrorClass::Unavailable);
            assert_eq!(policy().should_retry(&err, 0), expected, "{class}");
            assert_eq!(policy().should_retry(&err, 3), expected, "{class}");
            assert!(!policy().should_retry(&err, 4), "{class}");
            assert!(!RetryPolicy::none().should_retry(&err, 0), "{class}");
        }
    }
}
