//! Status conditions as Kubernetes conventions and kstatus expect them: `Ready` (the last
//! poll succeeded) and `Stalled` (only a spec change can help), each with a CamelCase
//! reason, a message a user can act on and the generation it was computed for.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// Condition type: the last poll succeeded and status reflects UHub.
pub const READY: &str = "Ready";
/// Condition type: polling cannot succeed until the spec changes.
pub const STALLED: &str = "Stalled";
/// Reason of a successful poll.
pub const SUCCEEDED: &str = "Succeeded";

/// Why a poll did not succeed; each is a `Ready=False` reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// The referenced Secret does not exist (or no credentials are configured at all).
    CredentialsNotFound,
    /// The Secret exists but lacks a key or holds a value that is not usable text.
    InvalidCredentials,
    /// UCloud rejected the keys (RetCode 170-174).
    AuthenticationFailed,
    /// UCloud refused access (RetCode 292-299).
    PermissionDenied,
    /// The repository or image does not exist (or is not visible to these keys).
    ImageNotFound,
    /// UCloud rejected the request for another reason (another RetCode).
    RequestRejected,
    /// UCloud rate-limited the request (RetCode 153 or HTTP 429).
    Throttled,
    /// UCloud could not be reached or answered with a server error.
    UpstreamUnavailable,
    /// The spec cannot work as written (e.g. an invalid regular expression).
    InvalidSpec,
}

/// When to try again after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Soon, with exponential backoff capped at the interval: the cause is transient.
    Backoff,
    /// At the next interval: retrying sooner would only hammer UCloud. A Secret change
    /// wakes the TagWatch earlier.
    Interval,
    /// Not until the spec changes.
    SpecChange,
}

impl FailureReason {
    /// Every reason, in declaration order.
    pub const ALL: [FailureReason; 9] = [
        Self::CredentialsNotFound,
        Self::InvalidCredentials,
        Self::AuthenticationFailed,
        Self::PermissionDenied,
        Self::ImageNotFound,
        Self::RequestRejected,
        Self::Throttled,
        Self::UpstreamUnavailable,
        Self::InvalidSpec,
    ];

    /// The condition reason, as it appears in status and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CredentialsNotFound => "CredentialsNotFound",
            Self::InvalidCredentials => "InvalidCredentials",
            Self::AuthenticationFailed => "AuthenticationFailed",
            Self::PermissionDenied => "PermissionDenied",
            Self::ImageNotFound => "ImageNotFound",
            Self::RequestRejected => "RequestRejected",
            Self::Throttled => "Throttled",
            Self::UpstreamUnavailable => "UpstreamUnavailable",
            Self::InvalidSpec => "InvalidSpec",
        }
    }

    /// How the controller retries after this failure.
    pub fn retry(self) -> Retry {
        match self {
            Self::Throttled | Self::UpstreamUnavailable => Retry::Backoff,
            Self::InvalidSpec => Retry::SpecChange,
            _ => Retry::Interval,
        }
    }
}

/// Finds the condition of type `type_`.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Sets (or, with `None`, removes) the condition of type `type_`. `lastTransitionTime`
/// only moves when the condition's status changes.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    value: Option<(bool, &str, &str)>,
    generation: Option<i64>,
    now: &Time,
) {
    let previous = conditions.iter().position(|c| c.type_ == type_);
    let Some((status, reason, message)) = value else {
        if let Some(i) = previous {
            conditions.remove(i);
        }
        return;
    };
    let status = if status { "True" } else { "False" }.to_string();
    let transition = previous
        .map(|i| &conditions[i])
        .filter(|c| c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.clone());
    let condition = Condition {
        type_: type_.to_string(),
        status,
        reason: reason.to_string(),
        message: message.to_string(),
        observed_generation: generation,
        last_transition_time: transition,
    };
    match previous {
        Some(i) => conditions[i] = condition,
        None => conditions.push(condition),
    }
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
        Some((false, reason.as_str(), message)),
        generation,
        now,
    );
    let stalled = (reason.retry() == Retry::SpecChange).then_some((true, reason.as_str(), message));
    set(conditions, STALLED, stalled, generation, now);
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn retry_classes() {
        use FailureReason::*;
        for r in [Throttled, UpstreamUnavailable] {
            assert_eq!(r.retry(), Retry::Backoff, "{r:?}");
        }
        for r in [
            CredentialsNotFound,
            InvalidCredentials,
            AuthenticationFailed,
            PermissionDenied,
            ImageNotFound,
            RequestRejected,
        ] {
            assert_eq!(r.retry(), Retry::Interval, "{r:?}");
        }
        assert_eq!(InvalidSpec.retry(), Retry::SpecChange);
    }

    #[test]
    fn all_lists_every_reason_once_in_order() {
        use FailureReason::*;
        // Exhaustive: a new reason does not compile here until it is given a place.
        let position = |r: FailureReason| match r {
            CredentialsNotFound => 0,
            InvalidCredentials => 1,
            AuthenticationFailed => 2,
            PermissionDenied => 3,
            ImageNotFound => 4,
            RequestRejected => 5,
            Throttled => 6,
            UpstreamUnavailable => 7,
            InvalidSpec => 8,
        };
        for (i, r) in FailureReason::ALL.into_iter().enumerate() {
            assert_eq!(position(r), i, "{r:?}");
        }
    }
}
