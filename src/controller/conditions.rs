//! The conditions a poll sets: `Ready` (the last poll succeeded), `Stalled` (retrying
//! alone cannot help) and `Reconciling` (a new generation is being polled).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::failure::FailureReason;
use crate::api::conditions::{PROGRESSING, READY, RECONCILING, STALLED, SUCCEEDED, set};

/// Whether a poll of `generation` starts something new: the status is missing or
/// reflects another generation.
pub fn starts_generation(observed: Option<i64>, generation: Option<i64>) -> bool {
    observed.is_none() || observed != generation
}

/// `Reconciling=True` while generation `generation` is polled for the first time.
pub fn reconciling(conditions: &mut Vec<Condition>, generation: Option<i64>, now: &Time) {
    let message = match generation {
        Some(generation) => format!("polling generation {generation}"),
        None => "polling".to_string(),
    };
    let value = Some((true, PROGRESSING, message.as_str()));
    set(conditions, RECONCILING, value, generation, now);
}

/// Conditions after a successful poll: Ready=True, no Stalled.
pub fn succeeded(
    conditions: &mut Vec<Condition>,
    message: &str,
    generation: Option<i64>,
    now: &Time,
) {
    set(
        conditions,
        READY,
        Some((true, SUCCEEDED, message)),
        generation,
        now,
    );
    set(conditions, STALLED, None, generation, now);
    set(conditions, RECONCILING, None, generation, now);
}

/// Conditions after a failed poll: Ready=False with the reason, and Stalled=True only
/// when nothing but a spec change can help.
pub fn failed(
    conditions: &mut Vec<Condition>,
    reason: FailureReason,
    message: &str,
    generation: Option<i64>,
    now: &Time,
) {
    set(
        conditions,
        READY,
        Some((false, reason.into(), message)),
        generation,
        now,
    );
    let stalled = reason.stalls().then_some((true, reason.into(), message));
    set(conditions, STALLED, stalled, generation, now);
    set(conditions, RECONCILING, None, generation, now);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::conditions::find;

    fn time(seconds: i64) -> Time {
        Time(jiff::Timestamp::from_second(seconds).unwrap())
    }

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let mut conditions = Vec::new();
        succeeded(&mut conditions, "found 1 tag", Some(1), &time(10));
        succeeded(&mut conditions, "found 2 tags", Some(2), &time(20));
        let ready = find(&conditions, READY).unwrap();
        assert_eq!(ready.last_transition_time, time(10));
        assert_eq!(ready.message, "found 2 tags");
        assert_eq!(ready.observed_generation, Some(2));

        failed(
            &mut conditions,
            FailureReason::Throttled,
            "slow down",
            Some(2),
            &time(30),
        );
        let ready = find(&conditions, READY).unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "Throttled")
        );
        assert_eq!(ready.last_transition_time, time(30));
        assert!(find(&conditions, STALLED).is_none());
    }

    #[test]
    fn persistent_failures_stall_and_transient_ones_do_not() {
        for reason in <FailureReason as strum::VariantArray>::VARIANTS {
            let mut conditions = Vec::new();
            failed(&mut conditions, *reason, "m", Some(1), &time(1));
            let stalled = find(&conditions, STALLED).is_some();
            let transient = matches!(
                reason,
                FailureReason::Throttled | FailureReason::UpstreamUnavailable
            );
            assert_eq!(stalled, !transient, "{reason}");
        }
    }

    #[test]
    fn reconciling_lasts_until_the_poll_result() {
        let mut conditions = Vec::new();
        reconciling(&mut conditions, Some(3), &time(1));
        let c = find(&conditions, RECONCILING).unwrap();
        assert_eq!(
            (c.status.as_str(), c.message.as_str()),
            ("True", "polling generation 3")
        );
        succeeded(&mut conditions, "ok", Some(3), &time(2));
        assert!(find(&conditions, RECONCILING).is_none());
        reconciling(&mut conditions, Some(4), &time(3));
        failed(
            &mut conditions,
            FailureReason::Throttled,
            "m",
            Some(4),
            &time(4),
        );
        assert!(find(&conditions, RECONCILING).is_none());
        assert!(starts_generation(None, Some(1)));
        assert!(starts_generation(Some(1), Some(2)));
        assert!(!starts_generation(Some(2), Some(2)));
    }

    #[test]
    fn spec_errors_stall_and_success_clears_stalled() {
        let mut conditions = Vec::new();
        failed(
            &mut conditions,
            FailureReason::InvalidSpec,
            "bad regex",
            Some(1),
            &time(1),
        );
        let stalled = find(&conditions, STALLED).unwrap();
        assert_eq!(
            (stalled.status.as_str(), stalled.reason.as_str()),
            ("True", "InvalidSpec")
        );
        succeeded(&mut conditions, "ok", Some(2), &time(2));
        assert!(find(&conditions, STALLED).is_none());
        assert_eq!(conditions.len(), 1);
    }
}
