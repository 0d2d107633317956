//! What a reconcile writes and publishes: the next status and the events, computed from
//! the previous status, the spec and the poll's result ([`after_success`],
//! [`after_failure`], or [`unchanged`] when there was no poll), and whether that status
//! must be written at all ([`needs_write`]). Pure: no I/O, no clock (the caller passes
//! the time), so every branch is unit-tested.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tags::Tag;
use tags::announce::announcements;
use tags::observe::{Observation, Previous};
use tags::snapshot::Snapshot;
use tags::window;

use super::conditions;
use super::events::Draft;
use super::failure::PollFailure;
use crate::api::conditions::{READY, find};
use crate::api::v1alpha1::{TagStatus, TagWatch, TagWatchStatus};

/// The status to write and the events to publish first.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The next status.
    pub status: TagWatchStatus,
    /// The events, in the order they are published.
    pub events: Vec<Draft>,
}

/// What status recorded of the previous successful poll, as tags.
#[derive(Clone, Debug, Default)]
pub struct Recorded {
    window: Vec<Tag>,
    tag_count: Option<usize>,
    latest: Option<String>,
}

impl Recorded {
    /// Reads `tw`'s status.
    pub fn of(tw: &TagWatch) -> Self {
        let Some(status) = &tw.status else {
            return Recorded::default();
        };
        Recorded {
            window: status.tags.iter().map(Tag::from).collect(),
            tag_count: status
                .last_sync_time
                .is_some()
                .then(|| usize::try_from(status.tag_count.unwrap_or_default()).unwrap_or(0)),
            latest: status.latest_tag.clone(),
        }
    }

    /// The previous state a poll is observed against.
    pub fn previous(&self) -> Previous<'_> {
        Previous {
            snapshot: self.tag_count.map(|tag_count| Snapshot {
                window: &self.window,
                tag_count,
            }),
            latest: self.latest.as_deref(),
        }
    }
}

impl From<&TagStatus> for Tag {
    fn from(t: &TagStatus) -> Self {
        Tag {
            name: t.name.clone(),
            update_time: t.update_time.clone(),
            digest: t.digest.clone(),
        }
    }
}

impl From<&Tag> for TagStatus {
    fn from(t: &Tag) -> Self {
        TagStatus {
            name: t.name.clone(),
            update_time: t.update_time.clone(),
            digest: t.digest.clone(),
        }
    }
}

/// The status a poll starts from, with the fields every outcome refreshes.
fn next_status(tw: &TagWatch) -> TagWatchStatus {
    let mut status = tw.status.clone().unwrap_or_default();
    status.observed_generation = tw.metadata.generation;
    if let Some(requested) = crate::controller::reconcile_request(tw) {
        status.last_handled_reconcile_at = Some(requested.to_string());
    }
    status
}

/// No poll: the status as it is, and no events (notifications may still change it).
pub fn unchanged(tw: &TagWatch) -> Outcome {
    Outcome {
        status: tw.status.clone().unwrap_or_default(),
        events: Vec::new(),
    }
}

/// `<registry_host>/<repoName>/<imageName>:<tag>`: the image reference of `tag`.
pub fn image_reference(registry_host: &str, tw: &TagWatch, tag: &str) -> String {
    format!(
        "{registry_host}/{}/{}:{tag}",
        tw.spec.repo_name, tw.spec.image_name
    )
}

/// After a successful poll that saw `seen`: the tracked tags' window, counts, latest tag
/// (with its image reference on `registry_host` and its digest) and revision,
/// `Ready=True`, and the announcements of what changed.
pub fn after_success(
    tw: &TagWatch,
    seen: &Observation,
    registry_host: &str,
    now: &Time,
) -> Outcome {
    let tracked = &seen.tracked;
    let mut status = next_status(tw);
    let limit = tw.spec.history_limit.max(1) as usize;
    status.tags = window(tracked, limit).iter().map(TagStatus::from).collect();
    status.tag_count = Some(tracked.len() as i64);
    status.upstream_tag_count = Some(i64::try_from(seen.upstream_total).unwrap_or(i64::MAX));
    status.latest_update_time = tracked.first().map(|t| t.update_time.clone());
    status.latest_tag = seen.latest_name().map(str::to_string);
    status.latest_image = seen
        .latest_name()
        .map(|tag| image_reference(registry_host, tw, tag));
    status.latest_digest = seen.latest.as_ref().and_then(|t| t.digest.clone());
    status.revision = Some(seen.revision.clone());
    status.last_sync_time = Some(now.clone());
    let message = match &status.latest_tag {
        Some(latest) => format!("found {} tags, latest {latest}", tracked.len()),
        None => format!("found {} tags, none selected by the policy", tracked.len()),
    };
    conditions::succeeded(
        &mut status.conditions,
        &message,
        tw.metadata.generation,
        now,
    );
    Outcome {
        status,
        events: announcements(seen).into_iter().map(Draft::from).collect(),
    }
}

/// After a failed poll: the previous tags and counts stay as they were; `Ready=False`
/// says why, and a `SyncFailed` event is due only when the failure is new or its
/// message changed, not on every retry.
pub fn after_failure(tw: &TagWatch, failure: &PollFailure, now: &Time) -> Outcome {
    let message = failure.message.as_str();
    let previous_failure = tw
        .status
        .as_ref()
        .and_then(|s| find(&s.conditions, READY))
        .filter(|c| c.status == "False")
        .map(|c| c.message.as_str());
    let mut events = Vec::new();
    if previous_failure != Some(message) {
        // The same failure after a recovery is a new event: key it by the last success.
        let last_sync = tw.status.as_ref().and_then(|s| s.last_sync_time.as_ref());
        let key = format!(
            "{}|{message}",
            last_sync.map(|t| t.0.to_string()).unwrap_or_default()
        );
        events.push(Draft::sync_failed(message, key));
    }
    let mut status = next_status(tw);
    conditions::failed(
        &mut status.conditions,
        failure.reason,
        message,
        tw.metadata.generation,
        now,
    );
    Outcome { status, events }
}

/// Whether `next` must be written over `previous`. A poll that changed nothing but
/// `lastSyncTime` writes nothing (no apiserver request, no watch event, no reconcile
/// it triggers), unless the stored `lastSyncTime` is `refresh` old or older: then it
/// is written so that `lastSyncTime` stays at most about `refresh` behind while polls
/// succeed. A zero `refresh` writes every poll.
pub fn needs_write(
    previous: Option<&TagWatchStatus>,
    next: &TagWatchStatus,
    refresh: std::time::Duration,
) -> bool {
    let Some(previous) = previous else {
        return true;
    };
    let (Some(before), Some(after)) = (&previous.last_sync_time, &next.last_sync_time) else {
        return previous != next;
    };
    let mut unchanged = next.clone();
    unchanged.last_sync_time = Some(before.clone());
    if unchanged != *previous {
        return true;
    }
    let age = before
        .0
        .until(after.0)
        .ok()
        .and_then(|span| std::time::Duration::try_from(span).ok());
    before != after && age.is_none_or(|age| age >= refresh)
}

#[cfg(test)]
#[path = "outcome_tests.rs"]
mod tests;
