//! One poll of UHub for a TagWatch: compile the spec, resolve the credentials, then
//! probe the page status records as holding the newest tags, or list every page (once
//! more when the list changed while it was paged through; see [`super::listing`] for
//! which), and observe a full listing against what status recorded. Runs under the
//! context's poll limit and reports its duration, result, schedule lag and the kinds of
//! listing it made to the observer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use tags::observe::{observe_tracked, track};
use uhub::probe::Probe;
use uhub::{Credentials, ImageRef, ListTagsRequest, TagListing};

use super::context::Context;
use super::failure::PollFailure;
use super::freshness;
use super::listing::{self, FullReason, Listed, ListingKind, ListingResult, Plan, Polled};
use super::outcome::Recorded;
use super::spec::{Timing, selection};
use crate::api::v1alpha1::TagWatch;

/// Polls `tw`; `late` is how late the schedule made it start (`None` when nothing
/// scheduled it: a spec change or a requested poll). The outer error is a failure to
/// read the TagWatch for its recorded tags (see [`freshness::with_tags`]).
pub async fn poll(
    tw: &Arc<TagWatch>,
    ctx: &Context,
    late: Option<Duration>,
) -> Result<Result<Polled, PollFailure>, freshness::Error> {
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
    let polled = match prepare(tw, ctx).await {
        Ok(prepared) => poll_uhub(tw, ctx, &prepared).await?,
        Err(failure) => Err(failure),
    };
    drop(permit);
    if let Err(failure) = &polled {
        tracing::warn!(reason = %failure.reason, message = %failure.message, "poll failed");
    }
    let failure = polled.as_ref().err().map(|f| f.reason);
    ctx.observer.poll(failure, started.elapsed());
    Ok(polled)
}

/// What a poll needs: the spec's timing, the credentials and the request. (The tag
/// selection is compiled only for a full listing: a probe is made only after a full
/// listing of the same generation compiled it without error.)
struct Prepared {
    interval: Duration,
    credentials: Credentials,
    request: ListTagsRequest,
}

async fn prepare(tw: &TagWatch, ctx: &Context) -> Result<Prepared, PollFailure> {
    let spec = &tw.spec;
    let timing = Timing::from_spec(&spec.interval, spec.timeout.as_deref())?;
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
    Ok(Prepared {
        interval: timing.interval,
        credentials,
        request,
    })
}

/// Probes or lists, as [`listing::plan`] decides.
async fn poll_uhub(
    tw: &Arc<TagWatch>,
    ctx: &Context,
    prepared: &Prepared,
) -> Result<Result<Polled, PollFailure>, freshness::Error> {
    let Prepared {
        interval,
        credentials,
        request,
    } = prepared;
    let failed = |kind: ListingKind| {
        move |e: uhub::Error| {
            tracing::debug!(error = %e, "GetImageTag failed");
            ctx.observer.listing(kind, ListingResult::Failed);
            PollFailure::from(&e)
        }
    };
    let remembered = ctx
        .schedules
        .get(&ObjectRef::from_obj(&**tw))
        .and_then(|m| m.full_listing_at);
    let every = ctx.settings.full_listing_every;
    let (reason, probe) = match listing::plan(tw, remembered, Timestamp::now(), *interval, every) {
        Plan::Probe(newest) => {
            let probe: Probe = match ctx.uhub.probe(credentials, request, &newest).await {
                Ok(probe) => probe,
                Err(e) => return Ok(Err(failed(ListingKind::Probe)(e))),
            };
            if newest.matches(&probe.page) {
                ctx.observer
                    .listing(ListingKind::Probe, ListingResult::Unchanged);
                tracing::debug!(
                    listing = %ListingKind::Probe,
                    requests = probe.requests,
                    "poll succeeded"
                );
                return Ok(Ok(Polled::Unchanged));
            }
            ctx.observer
                .listing(ListingKind::Probe, ListingResult::Changed);
            (FullReason::ProbeChanged, Some(probe))
        }
        Plan::Full(reason) => (reason, None),
    };
    let selection = match selection(&tw.spec) {
        Ok(selection) => selection,
        Err(invalid) => return Ok(Err(invalid.into())),
    };
    ctx.observer.full_listing(reason);
    let mut requests = probe.as_ref().map_or(0, |p| p.requests);
    let list = |probe: Option<Probe>| async move {
        ctx.uhub
            .list_tags_from(credentials, request, probe)
            .await
            .map_err(failed(ListingKind::Full))
    };
    let mut listing: TagListing = match list(probe).await {
        Ok(listing) => listing,
        Err(failure) => return Ok(Err(failure)),
    };
    if !listing.consistent {
        // The tag list changed while it was paged through: a tag may be missing, which
        // would read as removed and then new again. One fresh listing settles it.
        tracing::debug!("tag list changed while paging; listing again");
        ctx.observer
            .listing(ListingKind::Full, ListingResult::Changed);
        ctx.observer.full_listing(FullReason::ChangedWhilePaging);
        requests += listing.requests;
        listing = match list(None).await {
            Ok(listing) => listing,
            Err(failure) => return Ok(Err(failure)),
        };
    }
    requests += listing.requests;
    let tracked = track(&selection, listing.tags, listing.total_count);
    tracing::debug!(
        listing = %ListingKind::Full,
        tags = tracked.tags.len(),
        requests,
        "poll succeeded"
    );
    let status = tw.status.as_ref();
    let recorded_set = tracked.recorded_as(status.and_then(|s| s.revision.as_deref()));
    // The diff reads the recorded window, which the cache does not hold; an unchanged
    // set (or a first sync) needs none.
    let synced = status.is_some_and(|s| s.last_sync_time.is_some());
    let base = if recorded_set || !synced {
        tw.clone()
    } else {
        freshness::with_tags(&ctx.kube, tw).await?
    };
    let recorded = Recorded::of(&base);
    let newest_page = listing.newest_page;
    let same_page = status
        .and_then(|s| s.listing.as_ref())
        .is_some_and(|l| listing::same_page(l, newest_page.as_ref()));
    let result = if recorded_set && same_page {
        ListingResult::Unchanged
    } else {
        ListingResult::Changed
    };
    ctx.observer.listing(ListingKind::Full, result);
    let seen = observe_tracked(&selection, tracked, recorded.previous());
    Ok(Ok(Polled::Listed(Box::new(Listed {
        seen,
        order: listing.order,
        newest_page,
    }))))
}
