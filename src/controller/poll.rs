//! One poll of UHub for a TagWatch: compile the spec, resolve the credentials, list the
//! image's tags (once more when the list changed while it was paged through), and
//! observe them against what status recorded. Runs under the context's poll limit and
//! reports its duration, result and schedule lag to the observer.

use std::time::{Duration, Instant};

use kube::ResourceExt;
use tags::observe::{Observation, observe};
use uhub::{ImageRef, ListTagsRequest, TagListing};

use super::context::Context;
use super::failure::PollFailure;
use super::outcome::Recorded;
use super::spec::{Timing, selection};
use crate::api::v1alpha1::TagWatch;

/// Polls `tw`; `late` is how late the schedule made it start (`None` when nothing
/// scheduled it: a spec change or a requested poll).
pub async fn poll(
    tw: &TagWatch,
    ctx: &Context,
    late: Option<Duration>,
) -> Result<Observation, PollFailure> {
    let queued = Instant::now();
    let permit = ctx
        .polls
        .acquire()
        .await
        .expect("the poll semaphore is never closed");
    let started = Instant::now();
    if let Some(late) = late {
        ctx.observer.schedule_lag(late + (started - queued));
    }
    let listed = list(tw, ctx).await;
    drop(permit);
    let seen = listed.map(|(selection, listing)| {
        tracing::debug!(
            tags = listing.tags.len(),
            requests = listing.requests,
            "poll succeeded"
        );
        let recorded = Recorded::of(tw);
        observe(
            &selection,
            listing.tags,
            listing.total_count,
            recorded.previous(),
        )
    });
    if let Err(failure) = &seen {
        tracing::warn!(reason = %failure.reason, message = %failure.message, "poll failed");
    }
    let failure = seen.as_ref().err().map(|f| f.reason);
    ctx.observer.poll(failure, started.elapsed());
    seen
}

async fn list(
    tw: &TagWatch,
    ctx: &Context,
) -> Result<(tags::observe::Selection, TagListing), PollFailure> {
    let spec = &tw.spec;
    let timing = Timing::from_spec(&spec.interval, spec.timeout.as_deref())?;
    let selection = selection(spec)?;
    let namespace = tw.namespace().unwrap_or_default();
    let secret = spec.secret_ref.as_ref().map(|r| r.name.as_str());
    let credentials = ctx.credentials.resolve(&namespace, secret).await?;
    let mut image = ImageRef::new(&spec.repo_name, &spec.image_name);
    if let Some(project) = &spec.project_id {
        image = image.in_project(project);
    }
    let mut request = ListTagsRequest::new(image);
    request.tag_name = spec.tag_name.clone();
    request.timeout = Some(timing.timeout);
    let list = || async {
        ctx.uhub
            .list_tags(&credentials, &request)
            .await
            .map_err(|e| {
                tracing::debug!(error = %e, "GetImageTag failed");
                PollFailure::from(&e)
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
