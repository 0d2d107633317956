//! The bookkeeping of `status.pendingNotifications`. Pure: the caller passes the time,
//! the attempt results, what is in flight and the backoff, so every rule is unit-tested.
//!
//! - a delivered notification is removed;
//! - a failed one counts the attempt, records the error and waits
//!   `backoff(attempts)` from the end of the attempt;
//! - one older than the maximum age, or whose target is no longer in `spec.notify`, is
//!   given up (unless an attempt is in flight: its result decides first);
//! - a poll's new notifications are appended (oldest first); beyond [`MAX_PENDING`]
//!   notifications or [`MAX_PENDING_BYTES`] of bodies, the oldest are given up, so that
//!   status stays far below the API server's object size limit.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::v1alpha1::{DeliveryError, NotifyTarget, PendingNotification};

/// The most notifications status keeps.
pub const MAX_PENDING: usize = 100;
/// The most bytes of bodies status keeps.
pub const MAX_PENDING_BYTES: usize = 256 * 1024;

/// Why an attempt failed, as `lastError.reason` and the `Notified` condition say it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, strum::Display, strum::IntoStaticStr, strum::EnumString,
)]
pub enum AttemptReason {
    /// The target could not be reached, timed out, did not answer 2xx, or (a chat
    /// service) reported a failure in its answer.
    DeliveryFailed,
    /// The target's Secret is missing or unusable (including its `ca.crt`).
    InvalidTarget,
}

/// A failed attempt: why, and what went wrong (naming no URL or token).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct AttemptFailure {
    /// Why.
    pub reason: AttemptReason,
    /// What went wrong.
    pub message: String,
}

impl AttemptFailure {
    /// A failure of `reason` described by `message`.
    pub fn new(reason: AttemptReason, message: impl Into<String>) -> Self {
        AttemptFailure {
            reason,
            message: message.into(),
        }
    }
}

/// The result of one attempt, as the notifier reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptResult {
    /// The delivery id.
    pub id: String,
    /// When the attempt ended.
    pub finished_at: Timestamp,
    /// `None` when delivered, otherwise why not.
    pub failure: Option<AttemptFailure>,
}

/// Why a notification was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum GiveUp {
    /// Older than the maximum age.
    Expired,
    /// Its target is no longer in `spec.notify`.
    TargetRemoved,
    /// Too many notifications were pending.
    Overflow,
}

/// A notification given up, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The notification as it was last recorded.
    pub notification: PendingNotification,
    /// Why.
    pub why: GiveUp,
}

/// The pending notifications after folding in results and giving up on some.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    /// What stays pending, oldest first.
    pub pending: Vec<PendingNotification>,
    /// Ids delivered.
    pub delivered: Vec<String>,
    /// Notifications given up.
    pub dropped: Vec<Dropped>,
    /// Ids of the results folded in. A result for a notification not in `pending` is
    /// left alone: the caller's status may be older than the write that recorded it.
    pub consumed: Vec<String>,
}

/// How old a notification may get, and the retry delay after `n` failed attempts.
pub struct Rules<'a> {
    /// Notifications older than this are given up.
    pub max_age: Duration,
    /// The delay before the next attempt after `n` (>= 1) failed attempts.
    pub backoff: &'a dyn Fn(u32) -> Duration,
}

/// Folds `results` into `pending` and gives up on notifications that are too old or
/// whose target is gone; `in_flight` says which ids are being sent right now.
pub fn merge(
    targets: &[NotifyTarget],
    pending: &[PendingNotification],
    results: &[AttemptResult],
    in_flight: &dyn Fn(&str) -> bool,
    now: Timestamp,
    rules: &Rules<'_>,
) -> Merged {
    let by_id: HashMap<&str, &AttemptResult> = results.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut merged = Merged::default();
    for notification in pending {
        let mut notification = notification.clone();
        if let Some(result) = by_id.get(notification.id.as_str()) {
            merged.consumed.push(result.id.clone());
            let Some(failure) = &result.failure else {
                merged.delivered.push(notification.id);
                continue;
            };
            notification.attempts = notification.attempts.saturating_add(1);
            let delay = (rules.backoff)(u32::try_from(notification.attempts).unwrap_or(1));
            notification.next_attempt_at = Some(Time(add(result.finished_at, delay)));
            notification.last_error = Some(DeliveryError {
                reason: failure.reason.to_string(),
                message: failure.message.clone(),
                time: Time(result.finished_at),
            });
        } else if in_flight(&notification.id) {
            merged.pending.push(notification);
            continue;
        }
        let why = if !targets
            .iter()
            .any(|t| t.secret_ref.name == notification.secret_name)
        {
            Some(GiveUp::TargetRemoved)
        } else if expires_at(&notification, rules.max_age) <= now {
            Some(GiveUp::Expired)
        } else {
            None
        };
        match why {
            Some(why) => merged.dropped.push(Dropped { notification, why }),
            None => merged.pending.push(notification),
        }
    }
    merged
}

/// Appends a poll's `new` notifications and gives up on the oldest beyond the caps.
pub fn admit(merged: &mut Merged, new: Vec<PendingNotification>) {
    merged.pending.extend(new);
    let mut bytes: usize = merged.pending.iter().map(|n| n.body.len()).sum();
    let mut excess = 0;
    while merged.pending.len() - excess > MAX_PENDING || bytes > MAX_PENDING_BYTES {
        bytes -= merged.pending[excess].body.len();
        excess += 1;
    }
    merged
        .dropped
        .extend(merged.pending.drain(..excess).map(|notification| Dropped {
            notification,
            why: GiveUp::Overflow,
        }));
}

/// When a reconcile is next needed for `pending`: the earliest future attempt or
/// expiry. Notifications due now are being sent, and their results wake the TagWatch.
pub fn next_wake(
    pending: &[PendingNotification],
    max_age: Duration,
    now: Timestamp,
) -> Option<Timestamp> {
    pending
        .iter()
        .flat_map(|n| {
            let attempt = n.next_attempt_at.as_ref().map(|t| t.0);
            attempt.into_iter().chain([expires_at(n, max_age)])
        })
        .filter(|t| *t > now)
        .min()
}

fn expires_at(notification: &PendingNotification, max_age: Duration) -> Timestamp {
    add(notification.created_at.0, max_age)
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
#[path = "pending_tests.rs"]
pub(crate) mod tests;
