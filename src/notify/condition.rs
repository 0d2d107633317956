//! The `Notified` condition, computed from `spec.notify` and the pending notifications:
//! True when nothing is pending; False with reason `InvalidTarget` (a target's Secret is
//! missing or unusable), `DeliveryFailed` (attempts failed) or `Pending` (not sent yet),
//! and a message naming the targets by index in `spec.notify`, how many notifications
//! each has pending and the last error. Absent when there are no targets and nothing
//! is pending. Never contains a URL or token: errors are scrubbed where they arise.

use crate::api::v1alpha1::{NotifyTarget, PendingNotification};
use tags::announce::cut;

use super::pending::{AttemptReason, MAX_PENDING};

/// The condition type.
pub const NOTIFIED: &str = "Notified";
/// Reason when nothing is pending.
pub const DELIVERED: &str = "Delivered";
/// Reason when notifications wait for their first attempt.
pub const PENDING: &str = "Pending";
/// The most bytes of the message.
const MESSAGE_LIMIT: usize = 2048;

/// `(status, reason, message)` of the `Notified` condition, or `None` to remove it.
/// `overflowed` counts notifications just given up because too many were pending.
pub fn notified(
    targets: &[NotifyTarget],
    pending: &[PendingNotification],
    overflowed: usize,
) -> Option<(bool, &'static str, String)> {
    if pending.is_empty() && overflowed == 0 {
        return (!targets.is_empty())
            .then(|| (true, DELIVERED, "no notifications pending".to_string()));
    }
    let mut groups: Vec<(&str, Vec<&PendingNotification>)> = Vec::new();
    for notification in pending {
        match groups
            .iter_mut()
            .find(|(name, _)| *name == notification.secret_name)
        {
            Some((_, members)) => members.push(notification),
            None => groups.push((&notification.secret_name, vec![notification])),
        }
    }
    let mut reason = PENDING;
    let mut parts = Vec::new();
    for (secret, members) in &groups {
        let index = targets
            .iter()
            .position(|t| t.secret_ref.name == *secret)
            .map_or(members[0].target as usize, |i| i);
        let count = match members.len() {
            1 => "1 notification pending".to_string(),
            n => format!("{n} notifications pending"),
        };
        let last = members
            .iter()
            .filter_map(|n| n.last_error.as_ref().map(|e| (n.attempts, e)))
            .max_by(|a, b| a.1.time.0.cmp(&b.1.time.0));
        let part = match last {
            None => format!("notify[{index}]: {count}"),
            Some((attempts, error)) => {
                let invalid: &'static str = AttemptReason::InvalidTarget.into();
                if error.reason == invalid {
                    reason = invalid;
                } else if reason == PENDING {
                    reason = AttemptReason::DeliveryFailed.into();
                }
                let tries = if attempts == 1 { "attempt" } else { "attempts" };
                format!(
                    "notify[{index}]: {count}, {attempts} {tries} failed, last: {}",
                    error.message
                )
            }
        };
        parts.push(part);
    }
    if overflowed > 0 {
        parts.push(format!(
            "{overflowed} older notifications given up: more than {} were pending",
            MAX_PENDING
        ));
    }
    Some((false, reason, cut(parts.join("; "), MESSAGE_LIMIT)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::v1alpha1::{DeliveryError, NotifyEvent};
    use crate::testing::notify_target as target;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn pending(secret: &str, error: Option<(AttemptReason, &str, i64)>) -> PendingNotification {
        PendingNotification {
            id: "id".into(),
            target: 7,
            secret_name: secret.into(),
            type_: NotifyEvent::NewTag,
            format: Default::default(),
            cloud_events_mode: None,
            body: "{}".into(),
            attempts: error.map_or(0, |_| 2),
            created_at: Time(jiff::Timestamp::UNIX_EPOCH),
            next_attempt_at: None,
            last_error: error.map(|(reason, message, at)| DeliveryError {
                reason: reason.to_string(),
                message: message.into(),
                time: Time(jiff::Timestamp::from_second(at).unwrap()),
            }),
        }
    }

    #[test]
    fn absent_without_targets_and_true_when_nothing_is_pending() {
        assert_eq!(notified(&[], &[], 0), None);
        assert_eq!(
            notified(&[target("a")], &[], 0),
            Some((true, DELIVERED, "no notifications pending".to_string()))
        );
    }

    #[test]
    fn names_targets_counts_and_the_worst_reason() {
        let targets = [target("a"), target("b")];
        let waiting = [pending("b", None), pending("b", None)];
        assert_eq!(
            notified(&targets, &waiting, 0),
            Some((false, PENDING, "notify[1]: 2 notifications pending".into()))
        );
        let failing = [
            pending("a", Some((AttemptReason::DeliveryFailed, "HTTP 503", 1))),
            pending("a", Some((AttemptReason::DeliveryFailed, "no answer", 2))),
            pending("b", None),
        ];
        assert_eq!(
            notified(&targets, &failing, 0),
            Some((
                false,
                "DeliveryFailed",
                "notify[0]: 2 notifications pending, 2 attempts failed, last: no answer; \
                 notify[1]: 1 notification pending"
                    .into()
            ))
        );
        let invalid = [
            pending("a", Some((AttemptReason::DeliveryFailed, "HTTP 503", 1))),
            pending(
                "b",
                Some((
                    AttemptReason::InvalidTarget,
                    "Secret ns/b: key url is missing",
                    1,
                )),
            ),
        ];
        let (_, reason, message) = notified(&targets, &invalid, 0).unwrap();
        assert_eq!(reason, "InvalidTarget");
        assert!(message.ends_with("notify[1]: 1 notification pending, 2 attempts failed, last: Secret ns/b: key url is missing"), "{message}");
    }

    #[test]
    fn reports_overflow_and_removed_targets_by_recorded_index() {
        let (status, reason, message) = notified(&[], &[pending("gone", None)], 3).unwrap();
        assert!(!status);
        assert_eq!(reason, PENDING);
        assert_eq!(
            message,
            "notify[7]: 1 notification pending; 3 older notifications given up: more than 100 were pending"
        );
    }
}
