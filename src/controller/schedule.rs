//! When a TagWatch is polled next: the decision whether a reconcile is due to poll at
//! all ([`due`]), what is remembered of each TagWatch between reconciles
//! ([`PollMemory`], in [`Memories`]), and when a poll's result schedules the next one
//! ([`after_poll`]: the interval with jitter, or backoff after transient failures, due
//! on a whole second: [`on_tick`]).
//!
//! Reconciles are also triggered by the controller's own status writes and by Secret
//! changes; only the rules below decide whether UCloud is asked again, so that extra
//! wake-ups never turn into extra requests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::{RoundMode, Timestamp, TimestampRound, Unit};
use kube::runtime::reflector::ObjectRef;
use uhub::backoff::{Backoff, stretch};

use super::failure::{FailureReason, Retry};
use crate::api::conditions::{READY, find};
use crate::api::v1alpha1::TagWatch;

/// The first retry delay after a transient failure.
const BACKOFF_BASE: Duration = Duration::from_secs(2);
/// Jitter added to every interval, as a fraction of it.
const JITTER_FRACTION: f64 = 0.1;

/// `t` rounded up to a whole second. Scheduled polls are due on whole seconds so that
/// the polls due within one second start together: they then share the runtime's
/// wake-ups (timer, I/O readiness, hand-offs between worker threads), which otherwise
/// cost a quiet poll about as much as its request. The jitter still spreads TagWatches
/// over the seconds of their interval; rounding adds less than a second to it.
pub fn on_tick(t: Timestamp) -> Timestamp {
    let ceil = TimestampRound::new()
        .smallest(Unit::Second)
        .mode(RoundMode::Ceil);
    t.round(ceil).unwrap_or(t)
}

/// The interval stretched by a random jitter of up to 10%, so that TagWatches created
/// together drift apart instead of polling in lockstep.
pub fn jittered(interval: Duration) -> Duration {
    stretch(interval, JITTER_FRACTION)
}

/// Delay before retry number `failures` (1 for the first) after a transient failure:
/// exponential from 2s, stretched by up to 100% at random, never longer than the
/// interval.
pub fn backoff(failures: u32, interval: Duration) -> Duration {
    let backoff = Backoff {
        base: BACKOFF_BASE,
        cap: interval,
    };
    backoff.stretched(failures.saturating_sub(1))
}

/// What the controller remembers of one TagWatch between reconciles (lost on restart).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollMemory {
    /// When the next poll is due; `None` waits for a spec change.
    pub next_poll: Option<Timestamp>,
    /// Consecutive failed polls.
    pub failures: u32,
    /// When a poll last listed every page (status says so only when that poll wrote).
    pub full_listing_at: Option<Timestamp>,
}

/// What a poll's result makes of `previous`: after a success the next poll is an
/// interval (with jitter) from `now`; after a failure, depending on its reason, after a
/// backoff, an interval, or not before the spec changes. `listed_fully` says that the
/// poll listed every page.
pub fn after_poll(
    previous: Option<PollMemory>,
    failure: Option<FailureReason>,
    interval: Duration,
    now: Timestamp,
    listed_fully: bool,
) -> PollMemory {
    let full_listing_at = if listed_fully {
        Some(now)
    } else {
        previous.and_then(|m| m.full_listing_at)
    };
    let Some(reason) = failure else {
        return PollMemory {
            next_poll: Some(on_tick(now + jittered(interval))),
            failures: 0,
            full_listing_at,
        };
    };
    let failures = previous.map_or(0, |m| m.failures).saturating_add(1);
    let next_poll = match reason.retry() {
        Retry::Backoff => Some(on_tick(now + backoff(failures, interval))),
        Retry::Interval => Some(on_tick(now + jittered(interval))),
        Retry::SpecChange => None,
    };
    PollMemory {
        next_poll,
        failures,
        full_listing_at,
    }
}

/// The [`PollMemory`] of every TagWatch this process polled.
#[derive(Debug, Default)]
pub struct Memories(Mutex<HashMap<ObjectRef<TagWatch>, PollMemory>>);

impl Memories {
    /// What is remembered of `key`.
    pub fn get(&self, key: &ObjectRef<TagWatch>) -> Option<PollMemory> {
        self.lock().get(key).copied()
    }

    /// Remembers `memory` for `key`.
    pub fn remember(&self, key: ObjectRef<TagWatch>, memory: PollMemory) {
        self.lock().insert(key, memory);
    }

    /// Forgets `key` (suspended, or its credentials changed).
    pub fn forget(&self, key: &ObjectRef<TagWatch>) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectRef<TagWatch>, PollMemory>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether a reconcile should poll now or wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Poll now.
    Now {
        /// How long after the time the schedule made it due (the interval or a retry's
        /// backoff); `None` when nothing scheduled it: a spec change, a requested poll,
        /// or no schedule known.
        late: Option<Duration>,
    },
    /// Nothing to do for this long.
    After(Duration),
    /// Nothing to do until the TagWatch changes.
    Never,
}

/// Decides whether `tw` must be polled at `now`, given what was remembered of it.
///
/// A new generation or a new `reconcile-requested-at` value polls at once. Otherwise the
/// remembered schedule applies; without one (after a restart), a TagWatch whose last
/// poll succeeded is due one interval after `status.lastSyncTime`, any other at once.
pub fn due(tw: &TagWatch, interval: Duration, memory: Option<&PollMemory>, now: Timestamp) -> Due {
    let next = match scheduled(tw, interval, memory) {
        Scheduled::Now => return Due::Now { late: None },
        Scheduled::Never => return Due::Never,
        Scheduled::At(next) => next,
    };
    let between = |a: Timestamp, b: Timestamp| {
        a.until(b)
            .ok()
            .and_then(|span| Duration::try_from(span).ok())
    };
    if next > now
        && let Some(wait) = between(now, next).filter(|wait| !wait.is_zero())
    {
        return Due::After(wait);
    }
    Due::Now {
        late: between(next, now),
    }
}

/// When the schedule has `tw` polled next.
enum Scheduled {
    /// At once: the spec changed, a poll was requested, or nothing is known.
    Now,
    /// At this time.
    At(Timestamp),
    /// Not until the TagWatch changes.
    Never,
}

fn scheduled(tw: &TagWatch, interval: Duration, memory: Option<&PollMemory>) -> Scheduled {
    let status = tw.status.as_ref();
    let generation_changed = tw.metadata.generation != status.and_then(|s| s.observed_generation);
    if generation_changed || crate::controller::reconcile_request_pending(tw) {
        return Scheduled::Now;
    }
    if let Some(m) = memory {
        return m.next_poll.map_or(Scheduled::Never, Scheduled::At);
    }
    let ready = status
        .and_then(|s| find(&s.conditions, READY))
        .is_some_and(|c| c.status == "True");
    match status.and_then(|s| s.last_sync_time.as_ref()) {
        Some(last) if ready => last
            .0
            .checked_add(interval)
            .map_or(Scheduled::Now, Scheduled::At),
        _ => Scheduled::Now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::v1alpha1::{TagWatchSpec, TagWatchStatus};
    use crate::controller::conditions;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ts(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    fn tagwatch(generation: i64, status: Option<TagWatchStatus>) -> TagWatch {
        let spec: TagWatchSpec =
            serde_json::from_value(serde_json::json!({"repoName": "r", "imageName": "i"})).unwrap();
        let mut tw = TagWatch::new("w", spec);
        tw.metadata.generation = Some(generation);
        tw.status = status;
        tw
    }

    fn synced_at(seconds: i64, ready: bool) -> TagWatchStatus {
        let mut status = TagWatchStatus {
            observed_generation: Some(1),
            last_sync_time: Some(Time(ts(seconds))),
            ..Default::default()
        };
        if ready {
            conditions::succeeded(&mut status.conditions, "ok", Some(1), &Time(ts(seconds)));
        } else {
            conditions::failed(
                &mut status.conditions,
                crate::controller::failure::FailureReason::Throttled,
                "x",
                Some(1),
                &Time(ts(seconds)),
            );
        }
        status
    }

    #[test]
    fn a_poll_result_schedules_the_next_poll() {
        let interval = Duration::from_secs(60);
        let now = ts(1000);
        let ok = after_poll(None, None, interval, now, false);
        assert_eq!(ok.failures, 0);
        let next = ok.next_poll.unwrap();
        assert!(next >= ts(1060) && next <= ts(1066), "{next}");

        let throttled = after_poll(
            Some(ok),
            Some(FailureReason::Throttled),
            interval,
            now,
            false,
        );
        assert_eq!(throttled.failures, 1);
        let next = throttled.next_poll.unwrap();
        assert!(
            next >= ts(1002) && next <= ts(1004),
            "first backoff from 2 s: {next}"
        );
        let again = after_poll(
            Some(throttled),
            Some(FailureReason::Throttled),
            interval,
            now,
            false,
        );
        assert_eq!(again.failures, 2);

        let denied = after_poll(
            Some(again),
            Some(FailureReason::PermissionDenied),
            interval,
            now,
            false,
        );
        assert_eq!(denied.failures, 3);
        assert!(denied.next_poll.unwrap() >= ts(1060));

        let stalled = after_poll(None, Some(FailureReason::InvalidSpec), interval, now, false);
        assert_eq!(stalled.next_poll, None);
        assert_eq!(
            after_poll(Some(stalled), None, interval, now, false).failures,
            0
        );
    }

    #[test]
    fn scheduled_polls_are_due_on_whole_seconds() {
        let at = |nanos: i128| Timestamp::from_nanosecond(nanos).unwrap();
        assert_eq!(on_tick(ts(1000)), ts(1000));
        assert_eq!(on_tick(at(1_000_000_000_001)), ts(1001));
        assert_eq!(on_tick(at(1_000_999_999_999)), ts(1001));
        assert_eq!(on_tick(at(-1_500_000_000)), ts(-1));
        let now = at(1_000_300_000_000);
        let interval = Duration::from_secs(60);
        for failure in [
            None,
            Some(FailureReason::Throttled),
            Some(FailureReason::PermissionDenied),
        ] {
            let next = after_poll(None, failure, interval, now, false)
                .next_poll
                .unwrap();
            assert_eq!(next.subsec_nanosecond(), 0, "{failure:?}: {next}");
            assert!(next > now, "{failure:?}: {next}");
        }
    }

    #[test]
    fn the_last_full_listing_is_remembered_until_the_next() {
        let interval = Duration::from_secs(60);
        let listed = after_poll(None, None, interval, ts(100), true);
        assert_eq!(listed.full_listing_at, Some(ts(100)));
        let probed = after_poll(Some(listed), None, interval, ts(160), false);
        assert_eq!(probed.full_listing_at, Some(ts(100)));
        let failed = after_poll(
            Some(probed),
            Some(FailureReason::Throttled),
            interval,
            ts(220),
            false,
        );
        assert_eq!(failed.full_listing_at, Some(ts(100)));
        let again = after_poll(Some(failed), None, interval, ts(280), true);
        assert_eq!(again.full_listing_at, Some(ts(280)));
    }

    #[test]
    fn memories_remember_and_forget() {
        let memories = Memories::default();
        let key = ObjectRef::from_obj(&tagwatch(1, None));
        assert_eq!(memories.get(&key), None);
        let memory = PollMemory {
            next_poll: None,
            failures: 2,
            ..PollMemory::default()
        };
        memories.remember(key.clone(), memory);
        assert_eq!(memories.get(&key), Some(memory));
        memories.forget(&key);
        assert_eq!(memories.get(&key), None);
    }

    #[test]
    fn jitter_and_backoff_stay_in_bounds() {
        let interval = Duration::from_secs(60);
        for _ in 0..100 {
            let j = jittered(interval);
            assert!(j >= interval && j <= interval.mul_f64(1.1));
            for failures in [0, 1, 2, 5, 50, u32::MAX] {
                assert!(backoff(failures, interval) <= interval);
            }
        }
        // Late retries reach the cap region rather than staying at the base.
        let late: Vec<_> = (0..50).map(|_| backoff(20, interval)).collect();
        assert!(late.iter().any(|d| *d > BACKOFF_BASE * 4));
    }

    #[test]
    fn new_generation_and_reconcile_request_poll_at_once() {
        let memory = PollMemory {
            next_poll: Some(ts(1000)),
            failures: 0,
            ..PollMemory::default()
        };
        let tw = tagwatch(2, Some(synced_at(0, true)));
        assert_eq!(
            due(&tw, Duration::from_secs(60), Some(&memory), ts(1)),
            Due::Now { late: None }
        );

        let mut tw = tagwatch(1, Some(synced_at(0, true)));
        tw.metadata.annotations = Some(
            [(
                crate::api::RECONCILE_REQUESTED_AT.to_string(),
                "a".to_string(),
            )]
            .into(),
        );
        assert_eq!(
            due(&tw, Duration::from_secs(60), Some(&memory), ts(1)),
            Due::Now { late: None }
        );
        tw.status.as_mut().unwrap().last_handled_reconcile_at = Some("a".into());
        assert_eq!(
            due(&tw, Duration::from_secs(60), Some(&memory), ts(1)),
            Due::After(Duration::from_secs(999))
        );
    }

    #[test]
    fn remembered_schedule_wins_and_spec_errors_wait() {
        let tw = tagwatch(1, Some(synced_at(0, true)));
        let memory = PollMemory {
            next_poll: Some(ts(100)),
            failures: 0,
            ..PollMemory::default()
        };
        assert_eq!(
            due(&tw, Duration::from_secs(60), Some(&memory), ts(40)),
            Due::After(Duration::from_secs(60))
        );
        assert_eq!(
            due(&tw, Duration::from_secs(60), Some(&memory), ts(100)),
            Due::Now {
                late: Some(Duration::ZERO)
            }
        );
        let stalled = PollMemory {
            next_poll: None,
            failures: 1,
            ..PollMemory::default()
        };
        assert_eq!(
            due(&tw, Duration::from_secs(60), Some(&stalled), ts(40)),
            Due::Never
        );
    }

    #[test]
    fn after_restart_status_decides() {
        let interval = Duration::from_secs(60);
        assert_eq!(
            due(&tagwatch(1, None), interval, None, ts(5)),
            Due::Now { late: None }
        );
        let ok = tagwatch(1, Some(synced_at(100, true)));
        assert_eq!(
            due(&ok, interval, None, ts(130)),
            Due::After(Duration::from_secs(30))
        );
        assert_eq!(
            due(&ok, interval, None, ts(200)),
            Due::Now {
                late: Some(Duration::from_secs(40))
            }
        );
        let failing = tagwatch(1, Some(synced_at(100, false)));
        assert_eq!(
            due(&failing, interval, None, ts(130)),
            Due::Now { late: None }
        );
    }

    #[test]
    fn lateness_counts_from_the_scheduled_time_only() {
        let interval = Duration::from_secs(60);
        let memory = PollMemory {
            next_poll: Some(ts(100)),
            failures: 0,
            ..PollMemory::default()
        };
        let late = |tw: &TagWatch, memory: Option<&PollMemory>, now| match due(
            tw,
            interval,
            memory,
            ts(now),
        ) {
            Due::Now { late } => late,
            other => panic!("not due: {other:?}"),
        };
        let ok = tagwatch(1, Some(synced_at(50, true)));
        assert_eq!(late(&ok, Some(&memory), 103), Some(Duration::from_secs(3)));
        // After a restart the schedule is lastSyncTime + interval.
        assert_eq!(late(&ok, None, 111), Some(Duration::from_secs(1)));
        // A spec change or a first poll is not late: nothing scheduled it.
        let changed = tagwatch(2, Some(synced_at(50, true)));
        assert_eq!(late(&changed, Some(&memory), 200), None);
        assert_eq!(late(&tagwatch(1, None), None, 200), None);
    }
}
