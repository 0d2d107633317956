//! When and how long to wait before retrying a failed UCloud request: only throttled
//! and unavailable errors are retried, within a configurable budget, after a capped
//! exponential [`Backoff`] with full jitter (a uniformly random wait between zero and
//! `min(max_delay, base_delay * 2^retry)`), so that many clients spread out.

use std::time::Duration;

use super::backoff::Backoff;
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

    /// The backoff between attempts.
    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: self.base_delay,
            cap: self.max_delay,
        }
    }

    /// A random wait before retry number `retry` (0-based), in
    /// `[0, min(max_delay, base_delay * 2^retry)]` (full jitter).
    pub fn delay(&self, retry: u32) -> Duration {
        self.backoff().full_jitter(retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    use crate::error::{ErrorKind, Failure};

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        }
    }

    #[test]
    fn delays_are_full_jitter_of_the_capped_exponential() {
        let p = policy();
        assert_eq!(p.backoff().ceiling(5), Duration::from_millis(1000));
        for retry in 0..8 {
            let d = p.delay(retry);
            assert!(d <= p.backoff().ceiling(retry), "{d:?}");
        }
        assert_eq!(RetryPolicy::none().delay(3), Duration::ZERO);
    }

    #[test]
    fn only_throttled_and_unavailable_are_retried_within_budget() {
        for &kind in ErrorKind::VARIANTS {
            let err = Error::new(kind, Failure::new("GetImageTag", "x"));
            let expected = matches!(kind, ErrorKind::Throttled | ErrorKind::Unavailable);
            assert_eq!(policy().should_retry(&err, 0), expected, "{kind}");
            assert_eq!(policy().should_retry(&err, 3), expected, "{kind}");
            assert!(!policy().should_retry(&err, 4), "{kind}");
            assert!(!RetryPolicy::none().should_retry(&err, 0), "{kind}");
        }
    }
}
