//! One reconcile of a TagWatch: read it afresh when the cache may predate the last status
//! write, decide whether a poll is due, poll UHub, publish the events the poll calls for,
//! write status, and say when to come back.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use tracing::Instrument;

use crate::api::v1alpha1::{PendingNotification, TagWatch, TagWatchStatus};
use crate::controller::conditions::{FailureReason, Retry};
use crate::controller::context::Context;
use crate::controller::freshness;
use crate::controller::notifications::Review;
use crate::controller::schedule::{self, Due, PollMemory, Timing};
use crate::controller::status::{Polled, Selection, after_failure, after_success, needs_write};
use crate::notify::payload::{self, PollChanges};
use crate::tags::announce::Announcement;
use crate::ucloud::{self, ImageRef, ListTagsRequest, TagListing};

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
}

/// A failed poll: the `Ready=False` reason and the message for the user.
type PollFailure = (FailureReason, String);

/// Reconciles one TagWatch.
pub async fn reconcile(tw: Arc<TagWatch>, ctx: Arc<Context>) -> Result<Action, Error> {
    let Some(tw) = freshness::latest(&ctx.kube, &ctx.written, tw).await? else {
        return Ok(Action::await_change()); // deleted meanwhile
    };
    let key = ObjectRef::from_obj(&*tw);
    let review = Review::new(&ctx, &key, &tw, Timestamp::now());
    let timing = Timing::from_spec(&tw.spec.interval, tw.spec.timeout.as_deref());
    let interval = timing.as_ref().map_or(FALLBACK_INTERVAL, |t| t.interval);
    let memory = ctx.memory(&key);
    let due = if tw.spec.suspend {
        ctx.forget(&key);
        Due::Never
    } else {
        schedule::due(&tw, interval, memory.as_ref(), Timestamp::now())
    };
    let next_poll = match due {
        Due::After(wait) => Some(Timestamp::now() + wait),
        Due::Never => None,
        Due::Now { late } => {
            // Not `name`: JSON logs put the span's own name under that key.
            let span = tracing::info_span!("poll", namespace = %tw.namespace().unwrap_or_default(), tagwatch = %tw.name_any());
            return poll_and_record(&tw, &ctx, key, timing, interval, review, late)
                .instrument(span)
                .await;
        }
    };
    // No poll: only notification results or expiries may need writing.
    let now = Time(Timestamp::now());
    let written = match review.changed_status(&tw, &now) {
        Some(status) => {
            publish(&ctx, &tw, &review.events(&tw)).await?;
            write_status(&ctx, &tw, &status).await?;
            status.pending_notifications
        }
        None => tw
            .status
            .as_ref()
            .map(|s| s.pending_notifications.clone())
            .unwrap_or_default(),
    };
    let next_attempt = review.committed(&ctx, &key, &written, now.0);
    Ok(requeue_at(earliest(next_poll, next_attempt)))
}

/// Polls UHub and writes the outcome, with the notifications it calls for.
async fn poll_and_record(
    tw: &TagWatch,
    ctx: &Context,
    key: ObjectRef<TagWatch>,
    timing: Result<Timing, String>,
    interval: Duration,
    mut review: Review,
    late: Option<Duration>,
) -> Result<Action, Error> {
    let queued = std::time::Instant::now();
    let permit = ctx
        .polls
        .acquire()
        .await
        .expect("the poll semaphore is never closed");
    let started = std::time::Instant::now();
    if let Some(late) = late {
        ctx.metrics.observe_schedule_lag(late + (started - queued));
    }
    let outcome = poll(tw, ctx, timing).await;
    drop(permit);
    let failure = outcome.as_ref().err().map(|(reason, _)| *reason);
    ctx.metrics.observe_poll(failure, started.elapsed());
    let now = Time(Timestamp::now());
    let previous = ctx.memory(&key).map_or(0, |m| m.failures);
    let (mut status, events, memory) = match outcome {
        Ok((selection, listing)) => {
            let polled = after_success(tw, &selection, listing.tags, listing.total_count, &now);
            tracing::debug!(
                tags = polled.status.tag_count,
                requests = listing.requests,
                "poll succeeded"
            );
            review.admit(notifications(tw, &polled, &now));
            let next = now.0 + schedule::jittered(interval);
            (
                polled.status,
                polled.events,
                PollMemory {
                    next_poll: Some(next),
                    failures: 0,
                },
            )
        }
        Err((reason, message)) => {
            tracing::warn!(reason = reason.as_str(), %message, "poll failed");
            let (status, events) = after_failure(tw, reason, &message, &now);
            let failures = previous.saturating_add(1);
            let next = match reason.retry() {
                Retry::Backoff => Some(now.0 + schedule::backoff(failures, interval)),
                Retry::Interval => Some(now.0 + schedule::jittered(interval)),
                Retry::SpecChange => None,
            };
            (
                status,
                events,
                PollMemory {
                    next_poll: next,
                    failures,
                },
            )
        }
    };
    review.apply(tw, &mut status, &now);
    let review_events = review.events(tw);
    let refresh = ctx.last_sync_refresh();
    if !events.is_empty()
        || !review_events.is_empty()
        || needs_write(tw.status.as_ref(), &status, refresh)
    {
        publish(ctx, tw, &events).await?;
        publish(ctx, tw, &review_events).await?;
        write_status(ctx, tw, &status).await?;
        tracing::info!(
            tags = status.tag_count,
            events = events.len() + review_events.len(),
            "status written"
        );
    }
    ctx.metrics.count_new_tags(&events);
    ctx.remember(key.clone(), memory);
    let next_attempt = review.committed(ctx, &key, &status.pending_notifications, now.0);
    Ok(requeue_at(earliest(memory.next_poll, next_attempt)))
}

/// The notifications of a successful poll, each with a new random delivery id.
fn notifications(tw: &TagWatch, polled: &Polled, now: &Time) -> Vec<PendingNotification> {
    let previous_latest = tw.status.as_ref().and_then(|s| s.latest_tag.as_deref());
    let changes = PollChanges {
        changes: &polled.changes,
        previous_latest,
        latest: polled.latest.as_ref(),
        revision: polled.status.revision.as_deref().unwrap_or_default(),
    };
    payload::notifications(tw, &changes, now, || uuid::Uuid::new_v4().to_string())
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
    if let Error::Kube(kube::Error::Api(status)) = error
        && status.code == 409
    {
        tracing::debug!(namespace = %tw.namespace().unwrap_or_default(), name = %tw.name_any(), "status changed meanwhile, reconciling again");
        return Action::requeue(CONFLICT_RETRY);
    }
    tracing::warn!(namespace = %tw.namespace().unwrap_or_default(), name = %tw.name_any(), %error, "reconcile failed");
    Action::requeue(KUBE_RETRY)
}

async fn poll(
    tw: &TagWatch,
    ctx: &Context,
    timing: Result<Timing, String>,
) -> Result<(Selection, TagListing), PollFailure> {
    let timing = timing.map_err(|m| (FailureReason::InvalidSpec, m))?;
    let selection = Selection::compile(tw).map_err(|m| (FailureReason::InvalidSpec, m))?;
    let namespace = tw.namespace().unwrap_or_default();
    let secret = tw.spec.secret_ref.as_ref().map(|r| r.name.as_str());
    let credentials = ctx
        .credentials
        .resolve(&namespace, secret)
        .await
        .map_err(|e| (e.reason(), e.to_string()))?;
    let mut image = ImageRef::new(&tw.spec.repo_name, &tw.spec.image_name);
    if let Some(project) = &tw.spec.project_id {
        image = image.in_project(project);
    }
    let mut request = ListTagsRequest::new(image);
    request.tag_name = tw.spec.tag_name.clone();
    request.timeout = Some(timing.timeout);
    let list = || async {
        ctx.uhub
            .list_tags(&credentials, &request)
            .await
            .map_err(|e| {
                tracing::debug!(error = %e, "GetImageTag failed");
                (classify(&e), e.without_request_id().to_string())
            })
    };
    let mut listing = list().await?;
    if !listing.consistent {
        // The tag list changed while it was paged through: a tag may be missing, which
        // would read as removed and then new again. One fresh listing settles it.
        tracing::debug!("tag list changed while paging; listing again");
        listing = list().await?;
    }
    Ok((selection, listing))
}

/// The `Ready=False` reason of a UCloud error.
pub fn classify(error: &ucloud::Error) -> FailureReason {
    use ucloud::Error as E;
    match error {
        E::Authentication(_) => FailureReason::AuthenticationFailed,
        E::Permission(_) => FailureReason::PermissionDenied,
        E::Throttled(_) => FailureReason::Throttled,
        E::Unavailable(_) | E::MalformedResponse(_) | E::TooManyPages { .. } => {
            FailureReason::UpstreamUnavailable
        }
        E::InvalidRequest(failure) if names_missing_image(&failure.message) => {
            FailureReason::ImageNotFound
        }
        E::InvalidRequest(_) => FailureReason::RequestRejected,
    }
}

/// Whether UCloud's message says the repository or image does not exist. UHub's RetCode
/// for that is undocumented; its messages name the parameter (`Params [ImageName] not
/// available`) or say "not found" / "not exist".
fn names_missing_image(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    ["[reponame]", "[imagename]", "not found", "not exist"]
        .iter()
        .any(|needle| lower.contains(needle))
}

async fn publish(ctx: &Context, tw: &TagWatch, events: &[Announcement]) -> Result<(), kube::Error> {
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
) -> Result<(), kube::Error> {
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
    Ok(())
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
mod tests {
    use super::*;
    use crate::ucloud::{Error, Failure};

    fn rejected(message: &str) -> Error {
        let mut failure = Failure::new("GetImageTag", message);
        failure.ret_code = Some(230);
        Error::InvalidRequest(failure)
    }

    #[test]
    fn ucloud_errors_map_to_condition_reasons() {
        let failure = || Failure::new("GetImageTag", "x");
        assert_eq!(
            classify(&Error::Authentication(failure())),
            FailureReason::AuthenticationFailed
        );
        assert_eq!(
            classify(&Error::Permission(failure())),
            FailureReason::PermissionDenied
        );
        assert_eq!(
            classify(&Error::Throttled(failure())),
            FailureReason::Throttled
        );
        assert_eq!(
            classify(&Error::Unavailable(failure())),
            FailureReason::UpstreamUnavailable
        );
        assert_eq!(
            classify(&Error::MalformedResponse(failure())),
            FailureReason::UpstreamUnavailable
        );
        let pages = Error::TooManyPages {
            action: "GetImageTag".into(),
            max_pages: 1,
            tags_seen: 1,
            total_count: None,
        };
        assert_eq!(classify(&pages), FailureReason::UpstreamUnavailable);
        for message in [
            "Params [ImageName] not available: image \"team/web\" not found",
            "Params [RepoName] not available",
            "Image Not Exist",
        ] {
            assert_eq!(
                classify(&rejected(message)),
                FailureReason::ImageNotFound,
                "{message}"
            );
        }
        assert_eq!(
            classify(&rejected("Missing params [ProjectId]")),
            FailureReason::RequestRejected
        );
    }

    #[test]
    fn retries_of_one_failure_read_the_same_in_status() {
        let with_id = |id: &str| {
            let mut failure = Failure::new("GetImageTag", "call frequency limit exceeded");
            failure.ret_code = Some(153);
            failure.request_id = Some(id.into());
            Error::Throttled(failure)
        };
        let (a, b) = (with_id("req-1"), with_id("req-2"));
        assert!(
            a.to_string().contains("req-1"),
            "the log keeps the request id"
        );
        assert_eq!(
            a.without_request_id().to_string(),
            b.without_request_id().to_string()
        );
        assert!(!a.without_request_id().to_string().contains("req-1"));
    }
}
