//! When a TagWatch is polled next: interval parsing, jitter, per-object backoff after
//! transient failures, and the decision whether a reconcile is due to poll at all.
//!
//! Reconciles are also triggered by the controller's own status writes and by Secret
//! changes; only the rules below decide whether UCloud is asked again, so that extra
//! wake-ups never turn into extra requests.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use jiff::Timestamp;

use crate::api::v1alpha1::TagWatch;

/// The shortest interval allowed (the CRD enforces it too).
pub const MIN_INTERVAL: Duration = Duration::from_secs(10);
/// The default per-poll timeout cap.
pub const MAX_DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The first retry delay after a transient failure.
const BACKOFF_BASE: Duration = Duration::from_secs(2);
/// Jitter added to every interval, as a fraction of it.
const JITTER_FRACTION: f64 = 0.1;

/// Poll interval and per-poll timeout of one TagWatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Time between polls.
    pub interval: Duration,
    /// How long one poll may take.
    pub timeout: Duration,
}

impl Timing {
    /// Reads `spec.interval` and `spec.timeout`; errors are messages for the user.
    pub fn from_spec(interval: &str, timeout: Option<&str>) -> Result<Self, String> {
        let interval = parse_duration("interval", interval)?;
        if interval < MIN_INTERVAL {
            return Err(format!(
                "spec.interval {interval:?} is shorter than the minimum of 10s"
            ));
        }
        let timeout = match timeout {
            Some(text) => parse_duration("timeout", text)?,
            None => interval.min(MAX_DEFAULT_TIMEOUT),
        };
        if timeout.is_zero() || timeout > interval {
            return Err(format!(
                "spec.timeout {timeout:?} must be between 1ms and the interval"
            ));
        }
        Ok(Self { interval, timeout })
    }
}

fn parse_duration(field: &str, text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("spec.{field} {text:?} is not a duration like 30s, 5m or 1h30m: {e}"))
}

/// The interval stretched by a random jitter of up to 10%, so that TagWatches created
/// together drift apart instead of polling in lockstep.
pub fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(1.0 + rand::random::<f64>() * JITTER_FRACTION)
}

/// Delay before retry number `failures` (1 for the first) after a transient failure:
/// exponential from 2s with full jitter, never longer than the interval.
pub fn backoff(failures: u32, interval: Duration) -> Duration {
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(BACKOFF_BASE)
        .with_max_delay(interval)
        .with_jitter()
        .without_max_times()
        .build();
    let n = failures.saturating_sub(1).min(30) as usize;
    delays.nth(n).unwrap_or(interval).min(interval)
}

/// What the controller remembers of one TagWatch between reconciles (lost on restart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollMemory {
    /// When the next poll is due; `None` waits for a spec change.
    pub next_poll: Option<Timestamp>,
    /// Consecutive failed polls.
    pub failures: u32,
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
    let requested = crate::controller::reconcile_request(tw);
    let request_pending = requested.is_some()
        && requested != status.and_then(|s| s.last_handled_reconcile_at.as_deref());
    if generation_changed || request_pending {
        return Scheduled::Now;
    }
    if let Some(m) = memory {
        return m.next_poll.map_or(Scheduled::Never, Scheduled::At);
    }
    let ready = status
        .and_then(|s| super::conditions::find(&s.conditions, super::conditions::READY))
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
                conditions::FailureReason::Throttled,
                "x",
                Some(1),
                &Time(ts(seconds)),
            );
        }
        status
    }

    #[test]
    fn timing_defaults_and_errors() {
        let t = Timing::from_spec("5m", None).unwrap();
        assert_eq!(
            (t.interval, t.timeout),
            (Duration::from_secs(300), Duration::from_secs(60))
        );
        let t = Timing::from_spec("1h30m", Some("2m")).unwrap();
        assert_eq!(
            (t.interval, t.timeout),
            (Duration::from_secs(5400), Duration::from_secs(120))
        );
        assert_eq!(
            Timing::from_spec("20s", None).unwrap().timeout,
            Duration::from_secs(20)
        );
        assert!(
            Timing::from_spec("abc", None)
                .unwrap_err()
                .contains("spec.interval \"abc\"")
        );
        assert!(
            Timing::from_spec("1s", None)
                .unwrap_err()
                .contains("minimum of 10s")
        );
        assert!(
            Timing::from_spec("1m", Some("2m"))
                .unwrap_err()
                .contains("spec.timeout")
        );
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
