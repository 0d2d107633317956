//! What a poll writes: the next status and the events to publish, computed from the
//! previous status, the spec and the listing. Pure: no I/O, no clock (the caller passes
//! the time), so every branch is unit-tested.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::v1alpha1::{PolicySpec, SortOrder, TagStatus, TagWatch, TagWatchStatus};
use crate::controller::conditions::{self, FailureReason};
use crate::tags::announce::{self, Announcement, PollOutcome};
use crate::tags::diff::{Changes, diff};
use crate::tags::filter::TagFilter;
use crate::tags::policy::{CompiledPolicy, Order, Policy};
use crate::tags::revision::revision;
use crate::tags::snapshot::Snapshot;
use crate::tags::{Tag, sort_newest_first, window};

/// A TagWatch's filter and policy, compiled once per poll.
pub struct Selection {
    filter: TagFilter,
    policy: CompiledPolicy,
}

impl Selection {
    /// Compiles `spec.filter` and `spec.policy`; the error is a message for the user.
    pub fn compile(tw: &TagWatch) -> Result<Self, String> {
        let filter = tw.spec.filter.as_ref();
        let filter = TagFilter::new(
            filter.and_then(|f| f.include.as_deref()),
            filter.map(|f| f.exclude.as_slice()).unwrap_or_default(),
        )
        .map_err(|e| format!("spec.filter: {e}"))?;
        let policy = CompiledPolicy::new(&policy(tw.spec.policy.as_ref()))
            .map_err(|e| format!("spec.policy: {e}"))?;
        Ok(Self { filter, policy })
    }
}

fn policy(spec: Option<&PolicySpec>) -> Policy {
    let order = |o: SortOrder| match o {
        SortOrder::Asc => Order::Asc,
        SortOrder::Desc => Order::Desc,
    };
    match spec {
        Some(PolicySpec {
            semver: Some(s), ..
        }) => Policy::Semver {
            range: s.range.clone(),
        },
        Some(PolicySpec {
            alphabetical: Some(a),
            ..
        }) => Policy::Alphabetical {
            order: order(a.order),
        },
        Some(PolicySpec {
            numerical: Some(n), ..
        }) => Policy::Numerical {
            order: order(n.order),
        },
        _ => Policy::Newest,
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

/// What a successful poll produces.
#[derive(Clone, Debug)]
pub struct Polled {
    /// The status to write.
    pub status: TagWatchStatus,
    /// The events to publish.
    pub events: Vec<Announcement>,
    /// What changed since the previous sync.
    pub changes: Changes,
    /// The policy's pick, with its UpdateTime and digest.
    pub latest: Option<Tag>,
}

/// After a successful listing: the tracked tags (filtered, newest first), the diff
/// against the previous status, the policy's pick, and the events announcing them.
pub fn after_success(
    tw: &TagWatch,
    selection: &Selection,
    listed: Vec<Tag>,
    upstream_total: u64,
    now: &Time,
) -> Polled {
    let mut tracked = selection.filter.apply(listed);
    sort_newest_first(&mut tracked);
    let previous_window: Vec<Tag> = tw
        .status
        .as_ref()
        .map(|s| s.tags.iter().map(Tag::from).collect())
        .unwrap_or_default();
    let previous = tw
        .status
        .as_ref()
        .filter(|s| s.last_sync_time.is_some())
        .map(|s| Snapshot {
            window: &previous_window,
            tag_count: s.tag_count.unwrap_or_default() as usize,
        });
    let changes = diff(previous, &tracked);
    let latest_tag = selection.policy.select(&tracked).cloned();
    let latest = latest_tag.as_ref().map(|t| t.name.clone());
    let revision = revision(&tracked);
    let previous_latest = tw.status.as_ref().and_then(|s| s.latest_tag.as_deref());
    let announcements = announce::announcements(&PollOutcome {
        changes: &changes,
        previous_latest,
        latest: latest.as_deref(),
        tag_count: tracked.len(),
        revision: &revision,
    });

    let mut status = next_status(tw);
    let limit = tw.spec.history_limit.max(1) as usize;
    status.tags = window(&tracked, limit)
        .iter()
        .map(TagStatus::from)
        .collect();
    status.tag_count = Some(tracked.len() as i64);
    status.upstream_tag_count = Some(i64::try_from(upstream_total).unwrap_or(i64::MAX));
    status.latest_update_time = tracked.first().map(|t| t.update_time.clone());
    status.latest_tag = latest;
    status.revision = Some(revision);
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
    Polled {
        status,
        events: announcements,
        changes,
        latest: latest_tag,
    }
}

/// After a failed poll: the previous tags and counts stay as they were; `Ready=False`
/// says why, and a `SyncFailed` event is due only when the failure is new or its
/// message changed.
pub fn after_failure(
    tw: &TagWatch,
    reason: FailureReason,
    message: &str,
    now: &Time,
) -> (TagWatchStatus, Vec<Announcement>) {
    let previous_failure = tw
        .status
        .as_ref()
        .and_then(|s| conditions::find(&s.conditions, conditions::READY))
        .filter(|c| c.status == "False")
        .map(|c| c.message.as_str());
    let mut events = Vec::new();
    if announce::should_report_failure(previous_failure, message) {
        let mut event = announce::sync_failed(message);
        // The same failure after a recovery is a new event: key it by the last success.
        let last_sync = tw.status.as_ref().and_then(|s| s.last_sync_time.as_ref());
        event.key = format!(
            "{}|{message}",
            last_sync.map(|t| t.0.to_string()).unwrap_or_default()
        );
        events.push(event);
    }
    let mut status = next_status(tw);
    conditions::failed(
        &mut status.conditions,
        reason,
        message,
        tw.metadata.generation,
        now,
    );
    (status, events)
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
#[path = "status_tests.rs"]
mod tests;
