//! Notifications in a reconcile: fold the notifier's attempt results into
//! `status.pendingNotifications`, add a poll's new notifications, give up on those too
//! old (reported as [`GivenUp`] for a `NotificationFailed` Warning event, published
//! before status is written, so exactly once), set the `Notified` condition, and once
//! status is written hand what is due to the notifier. Whether UCloud is polled is not
//! decided here.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::reflector::ObjectRef;

use super::Notifier;
use super::condition::{NOTIFIED, notified};
use super::pending::{self, Dropped, GiveUp, Merged, Rules};
use crate::api::conditions;
use crate::api::v1alpha1::{PendingNotification, TagWatch, TagWatchStatus};

/// How many given-up notifications an event note lists by id.
const LISTED: usize = 5;

/// The notification part of one reconcile.
pub struct Review {
    merged: Merged,
    overflowed: usize,
}

impl Review {
    /// Folds the results of `key`'s attempts into its pending notifications at `now`.
    pub fn new(
        notifier: &Notifier,
        key: &ObjectRef<TagWatch>,
        tw: &TagWatch,
        now: Timestamp,
    ) -> Self {
        let results = notifier.results(key);
        let recorded = tw
            .status
            .as_ref()
            .map(|s| s.pending_notifications.as_slice())
            .unwrap_or_default();
        let backoff = |attempts| notifier.backoff(attempts);
        let rules = Rules {
            max_age: notifier.config().max_age,
            backoff: &backoff,
        };
        let in_flight = |id: &str| notifier.is_in_flight(id);
        let merged = pending::merge(&tw.spec.notify, recorded, &results, &in_flight, now, &rules);
        Self {
            merged,
            overflowed: 0,
        }
    }

    /// Adds a successful poll's new notifications.
    pub fn admit(&mut self, new: Vec<PendingNotification>) {
        let before = self.merged.dropped.len();
        pending::admit(&mut self.merged, new);
        self.overflowed = self.merged.dropped.len() - before;
    }

    /// Writes the pending notifications and the `Notified` condition into `status`.
    pub fn apply(&self, tw: &TagWatch, status: &mut TagWatchStatus, now: &Time) {
        status.pending_notifications = self.merged.pending.clone();
        let value = notified(&tw.spec.notify, &self.merged.pending, self.overflowed);
        let value = value.as_ref().map(|(s, r, m)| (*s, *r, m.as_str()));
        conditions::set(
            &mut status.conditions,
            NOTIFIED,
            value,
            tw.metadata.generation,
            now,
        );
    }

    /// What was given up, one report per reason.
    pub fn given_up(&self, tw: &TagWatch) -> Vec<GivenUp> {
        [GiveUp::Expired, GiveUp::TargetRemoved, GiveUp::Overflow]
            .into_iter()
            .filter_map(|why| {
                let dropped: Vec<&Dropped> = self
                    .merged
                    .dropped
                    .iter()
                    .filter(|d| d.why == why)
                    .collect();
                (!dropped.is_empty()).then(|| given_up_event(tw, why, &dropped))
            })
            .collect()
    }

    /// Called once status holding `written` is stored: lets the notifier forget what was
    /// folded in and start the attempts due now. Returns when the next attempt or
    /// expiry is due.
    pub fn committed(
        &self,
        notifier: &Arc<Notifier>,
        key: &ObjectRef<TagWatch>,
        written: &[PendingNotification],
        now: Timestamp,
    ) -> Option<Timestamp> {
        notifier.committed(key, &self.merged);
        notifier.dispatch(key, written, now);
        pending::next_wake(written, notifier.config().max_age, now)
    }
}

/// Notifications given up for one reason: the note of their `NotificationFailed` event,
/// and its key (their ids), so that the event is published once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GivenUp {
    /// Why, which notifications, and the last error of each.
    pub note: String,
    /// The ids, sorted and comma-separated.
    pub key: String,
}

fn given_up_event(tw: &TagWatch, why: GiveUp, dropped: &[&Dropped]) -> GivenUp {
    let cause = match why {
        GiveUp::Expired => "not delivered in time (--notify-max-age)",
        GiveUp::TargetRemoved => "their target was removed from spec.notify",
        GiveUp::Overflow => "too many notifications were pending",
    };
    let listed: Vec<String> = dropped
        .iter()
        .take(LISTED)
        .map(|d| {
            let n = &d.notification;
            let index = tw
                .spec
                .notify
                .iter()
                .position(|t| t.secret_ref.name == n.secret_name)
                .map_or(n.target as usize, |i| i);
            let mut text = format!(
                "{} {} to notify[{index}] after {} attempts",
                n.type_, n.id, n.attempts
            );
            if let Some(error) = &n.last_error {
                text.push_str(&format!(" (last: {})", error.message));
            }
            text
        })
        .collect();
    let more = dropped.len().saturating_sub(LISTED);
    let mut note = format!(
        "gave up {} notification{}, {cause}: {}",
        dropped.len(),
        if dropped.len() == 1 { "" } else { "s" },
        listed.join("; ")
    );
    if more > 0 {
        note.push_str(&format!(" ... and {more} more"));
    }
    let mut ids: Vec<&str> = dropped.iter().map(|d| d.notification.id.as_str()).collect();
    ids.sort_unstable();
    GivenUp {
        note,
        key: ids.join(","),
    }
}
