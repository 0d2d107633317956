//! Backoff and jitter, for everything that waits before trying again: UCloud request
//! retries here, and in the operator the poll schedule, retried notifications and leader
//! election.
//!
//! A [`Backoff`] is capped exponential: retry `n` (0 for the first) has the ceiling
//! `min(cap, base * 2^n)`. Two ways to wait for it:
//!
//! - [`Backoff::full_jitter`]: uniformly random between zero and the ceiling, so that
//!   many clients retrying one failed server spread out (for retries within one call,
//!   where waiting less is better than waiting in step);
//! - [`Backoff::stretched`]: the ceiling [`stretch`]ed by up to 100%, capped: never
//!   sooner than the ceiling (for retries of a whole poll or delivery, which must not
//!   come back at once).
//!
//! [`stretch`] itself lengthens a period by a random fraction, so that TagWatches created
//! together, or election candidates, drift apart instead of acting in lockstep.

use std::time::Duration;

use rand::Rng;

/// Capped exponential backoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first retry.
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
}

impl Backoff {
    /// The largest wait before retry number `retry` (0-based): `min(cap, base * 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// A random wait in `[0, ceiling(retry)]`.
    pub fn full_jitter(&self, retry: u32) -> Duration {
        self.full_jitter_at(retry, rand::rng().random::<f64>())
    }

    /// The wait at fraction `unit` (in `[0, 1]`) of `ceiling(retry)`.
    pub fn full_jitter_at(&self, retry: u32, unit: f64) -> Duration {
        self.ceiling(retry).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// A random wait in `[ceiling(retry), 2 * ceiling(retry)]`, at most `cap`.
    pub fn stretched(&self, retry: u32) -> Duration {
        stretch(self.ceiling(retry), 1.0).min(self.cap)
    }
}

/// `period` lengthened by a random fraction of itself in `[0, fraction]`.
pub fn stretch(period: Duration, fraction: f64) -> Duration {
    stretch_at(period, fraction, rand::rng().random::<f64>())
}

/// `period` lengthened by `unit` (in `[0, 1]`) times `fraction` of itself.
pub fn stretch_at(period: Duration, fraction: f64, unit: f64) -> Duration {
    period.mul_f64(1.0 + unit.clamp(0.0, 1.0) * fraction.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1000),
        }
    }

    #[test]
    fn ceiling_grows_exponentially_and_is_capped() {
        let ceilings: Vec<u128> = (0..6).map(|n| backoff().ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff().ceiling(31).as_millis(), 1000);
        assert_eq!(backoff().ceiling(u32::MAX).as_millis(), 1000);
        let none = Backoff {
            base: Duration::ZERO,
            cap: Duration::ZERO,
        };
        assert_eq!(none.ceiling(3), Duration::ZERO);
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        let b = backoff();
        assert_eq!(b.full_jitter_at(2, 0.0), Duration::ZERO);
        assert_eq!(b.full_jitter_at(2, 0.5), Duration::from_millis(200));
        assert_eq!(b.full_jitter_at(2, 1.0), Duration::from_millis(400));
        assert_eq!(b.full_jitter_at(2, 7.0), Duration::from_millis(400));
        for retry in 0..8 {
            assert!(b.full_jitter(retry) <= b.ceiling(retry));
        }
    }

    #[test]
    fn stretched_waits_at_least_the_ceiling_and_at_most_the_cap() {
        let b = backoff();
        for _ in 0..100 {
            for retry in [0, 1, 2, 3, 10] {
                let d = b.stretched(retry);
                assert!(d >= b.ceiling(retry) && d <= b.cap, "{retry}: {d:?}");
                assert!(d <= b.ceiling(retry) * 2);
            }
        }
        // Late retries reach the cap region rather than staying near the base.
        assert!((0..50).any(|_| b.stretched(3) > Duration::from_millis(850)));
    }

    #[test]
    fn stretch_stays_within_the_fraction() {
        let period = Duration::from_secs(60);
        assert_eq!(stretch_at(period, 0.1, 0.0), period);
        assert_eq!(stretch_at(period, 0.1, 1.0), Duration::from_secs(66));
        assert_eq!(stretch_at(period, 0.2, 0.5), Duration::from_secs(66));
        for _ in 0..100 {
            let d = stretch(period, 0.2);
            assert!(d >= period && d <= Duration::from_secs(72), "{d:?}");
        }
    }
}
