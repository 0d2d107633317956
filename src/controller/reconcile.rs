//! One reconcile of a TagWatch, as one story:
//!
//! 1. read it afresh when the cache may predate this process's last status write;
//! 2. decide whether a poll is due;
//! 3. poll UHub when it is (first marking a new generation `Reconciling`): probe the
//!    newest page, or list every page and observe it;
//! 4. turn the result (or no poll) into one [`Outcome`]: the next status and its events;
//! 5. apply notifications: results of deliveries, the poll's new notifications, the
//!    `Notified` condition, and events for those given up;
//! 6. publish the events, then write status, when anything changed (reading the
//!    recorded tags first when the status to write keeps them: the cache does not hold
//!    them);
//! 7. make the reconcile requests of `spec.triggers` recorded with the poll, and write
//!    what became of them;
//! 8. remember the schedule, hand due notifications to the notifier, and say when to
//!    come back.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use tracing::Instrument;

use super::conditions;
use super::context::Context;
use super::events::Draft;
use super::failure::PollFailure;
use super::freshness;
use super::listing::Polled;
use super::outcome::{self, Outcome};
use super::poll::poll;
use super::schedule::{self, Due};
use super::spec::Timing;
use super::triggers;
use crate::api::v1alpha1::{TagWatch, TagWatchStatus};
use crate::notify::payload;
use crate::notify::review::Review;

/// The field manager of every status write.
pub const FIELD_MANAGER: &str = "tagwatch";
/// Interval assumed while the spec's interval does not parse (the poll then fails with
/// InvalidSpec and waits for a spec change anyway).
const FALLBACK_INTERVAL: Duration = Duration::from_secs(300);
/// Retry delay after a Kubernetes API error.
const KUBE_RETRY: Duration = Duration::from_secs(5);
/// Retry delay after a status write met a newer TagWatch than the cached one.
const CONFLICT_RETRY: Duration = Duration::from_secs(1);

/// A reconcile that could not write to Kubernetes; retried by [`error_policy`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the TagWatch, publishing an event or writing status failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The cached TagWatch was not the stored one when its recorded tags were read.
    #[error("{0}")]
    Stale(freshness::Error),
}

impl From<freshness::Error> for Error {
    fn from(error: freshness::Error) -> Self {
        match error {
            freshness::Error::Kube(error) => Error::Kube(error),
            stale @ freshness::Error::Stale { .. } => Error::Stale(stale),
        }
    }
}

/// Reconciles one TagWatch.
pub async fn reconcile(tw: Arc<TagWatch>, ctx: Arc<Context>) -> Result<Action, Error> {
    let Some(tw) = freshness::latest(&ctx.kube, &ctx.written, tw).await? else {
        return Ok(Action::await_change()); // deleted meanwhile
    };
    let key = ObjectRef::from_obj(&*tw);
    let interval = Timing::from_spec(&tw.spec.interval, tw.spec.timeout.as_deref())
        .map_or(FALLBACK_INTERVAL, |t| t.interval);
    let due = if tw.spec.suspend {
        ctx.schedules.forget(&key);
        Due::Never
    } else {
        schedule::due(
            &tw,
            interval,
            ctx.schedules.get(&key).as_ref(),
            Timestamp::now(),
        )
    };
    let span = match due {
        // Not `name`: JSON logs put the span's own name under that key.
        Due::Now { .. } => {
            let meta = &tw.metadata;
            let namespace = meta.namespace.as_deref().unwrap_or_default();
            let name = meta.name.as_deref().unwrap_or_default();
            tracing::info_span!("poll", namespace, tagwatch = name)
        }
        _ => tracing::Span::none(),
    };
    async move {
        let tw = match due {
            Due::Now { .. } => mark_reconciling(&ctx, tw).await?,
            Due::After(_) | Due::Never => tw,
        };
        let polled = match due {
            Due::Now { late } => Some(poll(&tw, &ctx, late).await?),
            Due::After(_) | Due::Never => None,
        };
        let now = Timestamp::now();
        let time = Time(now);
        let mut outcome = match &polled {
            Some(Ok(Polled::Listed(listed))) => {
                outcome::after_listing(&tw, listed, &ctx.settings.registry_host, &time)
            }
            Some(Ok(Polled::Unchanged)) => {
                let listed_at = ctx.schedules.get(&key).and_then(|m| m.full_listing_at);
                outcome::after_probe(&tw, &time, listed_at)
            }
            Some(Err(failure)) => outcome::after_failure(&tw, failure, &time),
            None => outcome::unchanged(&tw),
        };
        let notifications = notifications(&ctx, &key, &tw, &polled, &mut outcome, now);
        let seen = polled.as_ref().and_then(|p| p.as_ref().ok()?.seen());
        triggers::admit(&tw, seen, &mut outcome.status, &time);
        let new_tags = seen.map_or(0, |seen| seen.changes.added.len());
        // A listing's status holds the tags it saw; any other keeps the recorded ones.
        let mut holds_tags = seen.is_some();
        let mut stored = tw.clone();
        if !outcome.events.is_empty()
            || outcome::needs_write(
                Some(tw.status.as_ref().unwrap_or(&TagWatchStatus::default())),
                &outcome.status,
                ctx.settings.last_sync_refresh,
            )
        {
            if !holds_tags {
                keep_recorded_tags(&ctx, &tw, &mut outcome.status).await?;
                holds_tags = true;
            }
            publish(&ctx, &tw, &outcome.events).await?;
            stored = Arc::new(write_status(&ctx, &tw, &outcome.status).await?);
            tracing::info!(
                tags = outcome.status.tag_count,
                events = outcome.events.len(),
                "status written"
            );
        }
        if !outcome.status.pending_triggers.is_empty() && !holds_tags {
            keep_recorded_tags(&ctx, &tw, &mut outcome.status).await?;
        }
        let next_trigger = trigger(&ctx, &stored, &mut outcome.status).await?;
        ctx.observer.new_tags(new_tags);
        let next_poll = match &polled {
            Some(result) => {
                let failure = result.as_ref().err().map(|f| f.reason);
                let listed = matches!(result, Ok(Polled::Listed(_)));
                let memory =
                    schedule::after_poll(ctx.schedules.get(&key), failure, interval, now, listed);
                ctx.schedules.remember(key.clone(), memory);
                memory.next_poll
            }
            None => match due {
                Due::After(wait) => Some(now + wait),
                _ => None,
            },
        };
        let written = &outcome.status.pending_notifications;
        let next_attempt = notifications.committed(&ctx.notifier, &key, written, now);
        let next = earliest(earliest(next_poll, next_attempt), next_trigger);
        Ok(requeue_at(next))
    }
    .instrument(span)
    .await
}

/// Applies the notification part of a reconcile to `outcome`: delivery results, a
/// successful poll's new notifications (each with a new random delivery id), the
/// `Notified` condition, and a `NotificationFailed` event per reason some were given up.
fn notifications(
    ctx: &Context,
    key: &ObjectRef<TagWatch>,
    tw: &TagWatch,
    polled: &Option<Result<Polled, PollFailure>>,
    outcome: &mut Outcome,
    now: Timestamp,
) -> Review {
    let mut review = Review::new(&ctx.notifier, key, tw, now);
    let time = Time(now);
    if let Some(seen) = polled.as_ref().and_then(|p| p.as_ref().ok()?.seen()) {
        let new_id = || uuid::Uuid::new_v4().to_string();
        review.admit(payload::notifications(tw, seen, &time, new_id));
    }
    review.apply(tw, &mut outcome.status, &time);
    let given_up = review.given_up(tw).into_iter();
    outcome
        .events
        .extend(given_up.map(|g| Draft::notification_failed(g.note, g.key)));
    review
}

/// Puts the recorded `status.tags` into `status`, read from the apiserver when the cached
/// `tw` does not hold them: a status write keeps the tags it does not change, and the
/// cache drops them.
async fn keep_recorded_tags(
    ctx: &Context,
    tw: &Arc<TagWatch>,
    status: &mut TagWatchStatus,
) -> Result<(), Error> {
    let stored = freshness::with_tags(&ctx.kube, tw).await?;
    status.tags = stored
        .status
        .as_ref()
        .map(|s| s.tags.clone())
        .unwrap_or_default();
    Ok(())
}

/// Writes `Reconciling=True` before the first poll of a new TagWatch or generation, so
/// that tools reading status (kstatus, Argo CD) see it in progress until the result.
async fn mark_reconciling(ctx: &Context, tw: Arc<TagWatch>) -> Result<Arc<TagWatch>, Error> {
    let observed = tw.status.as_ref().and_then(|s| s.observed_generation);
    if !conditions::starts_generation(observed, tw.metadata.generation) {
        return Ok(tw);
    }
    // The write keeps the recorded tags, which the cache does not hold.
    let tw = freshness::with_tags(&ctx.kube, &tw).await?;
    let mut status = tw.status.clone().unwrap_or_default();
    let now = Time(Timestamp::now());
    conditions::reconciling(&mut status.conditions, tw.metadata.generation, &now);
    Ok(Arc::new(write_status(ctx, &tw, &status).await?))
}

/// Makes the reconcile requests pending in `status` (stored as `stored`), then writes
/// what became of them, after their `TriggerFailed` events. Returns when to try the
/// rest again.
async fn trigger(
    ctx: &Context,
    stored: &TagWatch,
    status: &mut TagWatchStatus,
) -> Result<Option<Timestamp>, kube::Error> {
    if status.pending_triggers.is_empty() {
        return Ok(None);
    }
    let namespace = stored.namespace().unwrap_or_default();
    let mut results = Vec::new();
    for pending in &status.pending_triggers {
        let result = triggers::attempt(&ctx.kube, &namespace, pending).await;
        ctx.observer.trigger(
            result
                .as_ref()
                .map_or_else(|e| e.reason(), |()| triggers::TriggerReason::Triggered),
        );
        match &result {
            Ok(()) => {
                tracing::info!(kind = %pending.kind, object = %pending.name, "reconcile requested")
            }
            Err(error) => tracing::warn!(%error, "reconcile request failed"),
        }
        results.push((pending.clone(), result));
    }
    let now = Timestamp::now();
    let events = triggers::settle(stored, status, results, &Time(now));
    publish(ctx, stored, &events).await?;
    write_status(ctx, stored, status).await?;
    Ok((!status.pending_triggers.is_empty()).then(|| now + triggers::RETRY))
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn requeue_at(next: Option<Timestamp>) -> Action {
    match next {
        Some(next) => Action::requeue(duration_until(next)),
        None => Action::await_change(),
    }
}

/// Retries a reconcile that failed to write to Kubernetes. A conflict means the cached
/// TagWatch was older than the stored one: the retry reads it from the apiserver unless
/// the watch has brought it by then.
pub fn error_policy(tw: Arc<TagWatch>, error: &Error, ctx: Arc<Context>) -> Action {
    // A write that failed may still have been applied: read the TagWatch afresh first.
    ctx.written.write_failed(ObjectRef::from_obj(&*tw));
    let conflict = match error {
        Error::Kube(kube::Error::Api(status)) => status.code == 409,
        Error::Stale(_) => true,
        Error::Kube(_) => false,
    };
    if conflict {
        tracing::debug!(namespace = %tw.namespace().unwrap_or_default(), name = %tw.name_any(), "status changed meanwhile, reconciling again");
        return Action::requeue(CONFLICT_RETRY);
    }
    tracing::warn!(namespace = %tw.namespace().unwrap_or_default(), name = %tw.name_any(), %error, "reconcile failed");
    Action::requeue(KUBE_RETRY)
}

async fn publish(ctx: &Context, tw: &TagWatch, events: &[Draft]) -> Result<(), kube::Error> {
    let reference = tw.object_ref(&());
    for event in events {
        ctx.events.publish(&reference, event).await?;
    }
    Ok(())
}

async fn write_status(
    ctx: &Context,
    tw: &TagWatch,
    status: &TagWatchStatus,
) -> Result<TagWatch, kube::Error> {
    let api: Api<TagWatch> = Api::namespaced(ctx.kube.clone(), &tw.namespace().unwrap_or_default());
    // The resourceVersion makes the write conditional: a status computed from a cached
    // TagWatch older than the last write (say, one that still lists a notification
    // since delivered) is refused with 409 Conflict instead of undoing that write.
    let patch = serde_json::json!({
        "apiVersion": "tagwatch.dev/v1alpha1",
        "kind": "TagWatch",
        "metadata": {"resourceVersion": tw.resource_version()},
        "status": status,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let written = api
        .patch_status(&tw.name_any(), &params, &Patch::Apply(&patch))
        .await?;
    ctx.written
        .wrote(ObjectRef::from_obj(tw), written.resource_version());
    Ok(written)
}

fn duration_until(t: Timestamp) -> Duration {
    Timestamp::now()
        .until(t)
        .ok()
        .and_then(|span| Duration::try_from(span).ok())
        .unwrap_or(Duration::ZERO)
        .max(Duration::from_millis(100))
}

#[cfg(test)]
#[path = "reconcile_tests.rs"]
mod tests;
