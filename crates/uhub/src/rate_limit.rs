//! The optional global request rate limiter, shared by every clone of a client and
//! awaited before every HTTP request, retries included. It is a GCRA limiter from the
//! `governor` crate; waiting happens on tokio's timer and never beyond a call's deadline.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};
use tokio::time::Instant;

use super::config::RateLimit;

/// A shared GCRA rate limiter.
#[derive(Clone, Debug)]
pub(crate) struct RateLimiter {
    limiter: Arc<DefaultDirectRateLimiter>,
    clock: DefaultClock,
}

impl RateLimiter {
    /// A limiter for a validated [`RateLimit`].
    pub fn new(limit: RateLimit) -> Self {
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(limit.period())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(burst);
        let clock = DefaultClock::default();
        RateLimiter {
            limiter: Arc::new(DefaultDirectRateLimiter::direct_with_clock(
                quota,
                clock.clone(),
            )),
            clock,
        }
    }

    /// Waits until a request may be sent and takes its slot; returns how long it waited.
    /// When the slot would come after `deadline`, takes nothing and returns the wait
    /// that would have been needed as the error.
    pub async fn acquire(&self, deadline: Option<Instant>) -> Result<Duration, Duration> {
        let started = Instant::now();
        let mut slept = false;
        loop {
            let wait = match self.limiter.check() {
                Ok(()) if slept => return Ok(started.elapsed()),
                Ok(()) => return Ok(Duration::ZERO),
                Err(not_until) => not_until.wait_time_from(self.clock.now()),
            };
            let wake = Instant::now() + wait;
            if deadline.is_some_and(|d| wake > d) {
                return Err(started.elapsed() + wait);
            }
            tokio::time::sleep_until(wake).await;
            slept = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn burst_passes_at_once_then_requests_wait() {
        let limiter = RateLimiter::new(RateLimit::new(50.0, 2).unwrap());
        let shared = limiter.clone();
        assert_eq!(limiter.acquire(None).await, Ok(Duration::ZERO));
        assert_eq!(shared.acquire(None).await, Ok(Duration::ZERO));
        let waited = limiter.acquire(None).await.unwrap();
        assert!(waited > Duration::ZERO, "{waited:?}");
    }

    #[tokio::test]
    async fn a_slot_beyond_the_deadline_is_refused_without_being_taken() {
        let limiter = RateLimiter::new(RateLimit::new(0.001, 1).unwrap());
        assert_eq!(limiter.acquire(None).await, Ok(Duration::ZERO));
        let deadline = Instant::now() + Duration::from_secs(1);
        let needed = limiter.acquire(Some(deadline)).await.unwrap_err();
        assert!(needed > Duration::from_secs(900), "{needed:?}");
        let again = limiter.acquire(Some(deadline)).await.unwrap_err();
        assert!(again > Duration::from_secs(900), "{again:?}");
    }
}
