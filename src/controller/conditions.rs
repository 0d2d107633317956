//! The conditions a poll sets: `Ready` (the last poll succeeded) and `Stalled` (only a
//! spec change can help).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::failure::{FailureReason, Retry};
use crate::api::conditions::{READY, STALLED, SUCCEEDED, set};

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
    let stalled = (reason.retry() == Retry::SpecChange).then_some((true, reason.into(), message));
    set(conditions, STALLED, stalled, generation, now);
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
    fn only_spec_errors_stall_and_success_clears_stalled() {
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
