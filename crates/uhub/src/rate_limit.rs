//! The optional global request rate limiter, shared by every clone of a client and
//! awaited before every HTTP request, retries included. It is a GCRA limiter from the
//! `governor` crate; waiting happens on tokio's timer and never beyond a call's deadline.
//!
//! Requests that must wait queue in order, and only the first of them sleeps on the
//! timer. Without the queue every waiter slept until the same next slot, all woke, one
//! took it and the rest slept again (with `--concurrency` polls waiting, each slot cost
//! that many wake-ups), and a request arriving as a slot freed could take it from one
//! that had waited longer.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::config::RateLimit;

/// A shared GCRA rate limiter.
#[derive(Clone, Debug)]
pub(crate) struct RateLimiter {
    limiter: Arc<DefaultDirectRateLimiter>,
    clock: DefaultClock,
    /// Held by the request waiting for the next slot; the others wait for it in order
    /// (tokio's mutex is fair).
    queue: Arc<Mutex<()>>,
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
            queue: Arc::new(Mutex::new(())),
        }
    }

    /// Waits until a request may be sent and takes its slot; returns how long it waited.
    /// When the slot would come after `deadline`, takes nothing and returns as the error
    /// how long it would have waited at least (the wait for the next slot, or the time
    /// spent queued behind earlier requests when the deadline came first).
    pub async fn acquire(&self, deadline: Option<Instant>) -> Result<Duration, Duration> {
        let started = Instant::now();
        let turn = self.queue.try_lock();
        // Nobody queued and a free slot: no wait, no wake-up.
        if turn.is_ok() && self.limiter.check().is_ok() {
            return Ok(Duration::ZERO);
        }
        let _turn = match turn {
            Ok(turn) => turn,
            Err(_) => match before(deadline, self.queue.lock()).await {
                Some(turn) => turn,
                None => return Err(started.elapsed()),
            },
        };
        loop {
            let wait = match self.limiter.check() {
                Ok(()) => return Ok(started.elapsed()),
                Err(not_until) => not_until.wait_time_from(self.clock.now()),
            };
            let wake = Instant::now() + wait;
            if deadline.is_some_and(|d| wake > d) {
                return Err(started.elapsed() + wait);
            }
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// `future`'s output, or `None` when `deadline` comes first.
async fn before<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
        None => Some(future.await),
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

    /// `acquire` wrapped so that it counts how often it was polled: once per wake-up.
    async fn counting_polls(
        limiter: RateLimiter,
        deadline: Option<Instant>,
    ) -> (Result<Duration, Duration>, u32) {
        let mut polls = 0;
        let mut acquire = std::pin::pin!(limiter.acquire(deadline));
        let result = std::future::poll_fn(|cx| {
            polls += 1;
            acquire.as_mut().poll(cx)
        })
        .await;
        (result, polls)
    }

    #[tokio::test]
    async fn waiting_requests_take_slots_in_order_each_woken_about_once() {
        // A slot every 5 ms, no burst: eight requests at once wait 0 to 35 ms.
        let limiter = RateLimiter::new(RateLimit::new(200.0, 1).unwrap());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..8 {
            let (limiter, order) = (limiter.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let (result, polls) = counting_polls(limiter, None).await;
                order.lock().unwrap().push(i);
                (result, polls)
            }));
            // Each is queued before the next starts.
            tokio::task::yield_now().await;
        }
        for waiter in waiters {
            let (result, polls) = waiter.await.unwrap();
            assert!(result.is_ok());
            // Queued, its turn, and the timer of its own slot (one more when the timer
            // fires a hair early): not once per slot taken before it.
            assert!(polls <= 4, "woken {polls} times");
        }
        assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_request_queued_past_its_deadline_gives_up_without_a_slot() {
        let limiter = RateLimiter::new(RateLimit::new(10.0, 1).unwrap());
        assert_eq!(limiter.acquire(None).await, Ok(Duration::ZERO));
        // The next slot is 100 ms away: the first waiter holds the queue until then.
        let first = tokio::spawn(counting_polls(limiter.clone(), None));
        tokio::task::yield_now().await;
        let deadline = Instant::now() + Duration::from_millis(20);
        let queued = limiter.acquire(Some(deadline)).await;
        let waited = queued.unwrap_err();
        assert!(waited >= Duration::from_millis(20), "{waited:?}");
        assert!(first.await.unwrap().0.is_ok(), "the slot went to the first");
    }
}
