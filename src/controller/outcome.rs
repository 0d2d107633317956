//! What a reconcile writes and publishes: the next status and the events, computed from
//! the previous status, the spec and the poll's result ([`after_listing`] after a full
//! listing, [`after_probe`] after a probe that found nothing new, [`after_failure`], or
//! [`unchanged`] when there was no poll), and whether that status must be written at
//! all ([`needs_write`]). Pure: no I/O, no clock (the caller passes the time), so every
//! branch is unit-tested.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tags::Tag;
use tags::announce::announcements;
use tags::observe::Previous;
use tags::snapshot::Snapshot;
use tags::window;

use super::conditions;
use super::events::Draft;
use super::failure::PollFailure;
use super::listing::{Listed, record};
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
    revision: Option<String>,
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
            revision: status.revision.clone(),
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
            revision: self.revision.as_deref(),
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

/// After a full listing that saw `listed`: the tracked tags' window, counts, latest tag
/// (with its image reference on `registry_host` and its digest) and revision, what the
/// listing showed for the next probe (`status.listing`), `Ready=True`, and the
/// announcements of what changed.
pub fn after_listing(tw: &TagWatch, listed: &Listed, registry_host: &str, now: &Time) -> Outcome {
    let seen = &listed.seen;
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
    status.listing = Some(record(
        listed.order,
        seen.upstream_total,
        listed.newest_page.as_ref(),
        tw.metadata.generation,
        now,
    ));
    succeeded(tw, status, now, announcements(seen))
}

/// After a probe that found the newest page as status records it: the recorded tags
/// stand (the cache need not hold them), `Ready=True`, nothing to announce.
/// `full_listing_at` is when this process last listed every page, which status may not
/// say yet (a full listing that finds nothing writes nothing): it goes with the next
/// write.
pub fn after_probe(tw: &TagWatch, now: &Time, full_listing_at: Option<Timestamp>) -> Outcome {
    let mut status = next_status(tw);
    if let (Some(listing), Some(at)) = (status.listing.as_mut(), full_listing_at)
        && at > listing.time.0
    {
        listing.time = Time(at);
    }
    succeeded(tw, status, now, Vec::new())
}

/// `status` after a successful poll at `now`: synced, `Ready=True` with a message from
/// what it records, and the events of `announced`.
fn succeeded(
    tw: &TagWatch,
    mut status: TagWatchStatus,
    now: &Time,
    announced: Vec<tags::announce::Announcement>,
) -> Outcome {
    status.last_sync_time = Some(now.clone());
    let count = status.tag_count.unwrap_or_default();
    let message = match &status.latest_tag {
        Some(latest) => format!("found {count} tags, latest {latest}"),
        None => format!("found {count} tags, none selected by the policy"),
    };
    conditions::succeeded(
        &mut status.conditions,
        &message,
        tw.metadata.generation,
        now,
    );
    Outcome {
        status,
        events: announced.into_iter().map(Draft::from).collect(),
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
/// `lastSyncTime` (and the time of the last full listing, `status.listing.time`) writes
/// nothing (no apiserver request, no watch event, no reconcile it triggers), unless the
/// stored `lastSyncTime` is `refresh` old or older: then it is written so that
/// `lastSyncTime` stays at most about `refresh` behind while polls succeed. A zero
/// `refresh` writes every poll.
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
    // The recorded window follows from the tracked set (its revision) and the spec (its
    // generation); the cached TagWatch does not hold it, so a full listing that found
    // the same set must not read as a change of `tags`.
    if next.revision == previous.revision
        && next.observed_generation == previous.observed_generation
    {
        unchanged.tags = previous.tags.clone();
    }
    if let (Some(listing), Some(recorded)) = (&mut unchanged.listing, &previous.listing) {
        listing.time = recorded.time.clone();
    }
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
