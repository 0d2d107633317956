//! Whether a poll probes or lists every page ([`plan`]), what it found ([`Polled`]),
//! and what a full listing records in `status.listing` for the next probe ([`record`]).
//! Pure: the caller passes the time and what it remembers of the last full listing.
//!
//! A poll probes (one GetImageTag request for the page holding the newest tags, see
//! [`uhub::probe`]) when status records that page for the current spec. It lists every
//! page instead when status records none, the spec changed since, a poll was requested
//! with the reconcile annotation, or the last full listing is `every` intervals old or
//! older: the periodic full listing, which notices what no probe can (an older tag
//! changed in place), at most `every` intervals late. `every` = 1 lists every page at
//! every poll.

use std::num::NonZeroU32;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tags::observe::Observation;
use uhub::probe::{NewestPage, Order};

use crate::api::v1alpha1::{ListingOrder, ListingStatus, NewestPageStatus, TagWatch};

/// `--full-listing-every`: every page is listed at least once per this many polls.
pub const DEFAULT_FULL_LISTING_EVERY: NonZeroU32 = NonZeroU32::new(100).unwrap();

/// What a successful poll found.
#[derive(Clone, Debug, PartialEq)]
pub enum Polled {
    /// A probe found the newest page and `TotalCount` as status records them: nothing
    /// changed since the last full listing.
    Unchanged,
    /// Every page was listed, and observed against status.
    Listed(Box<Listed>),
}

/// A full listing, observed.
#[derive(Clone, Debug, PartialEq)]
pub struct Listed {
    /// What it found, compared with status.
    pub seen: Observation,
    /// How UHub ordered the tags.
    pub order: Order,
    /// The page the next probe fetches, if any.
    pub newest_page: Option<NewestPage>,
}

impl Polled {
    /// The observation of a full listing.
    pub fn seen(&self) -> Option<&Observation> {
        match self {
            Polled::Unchanged => None,
            Polled::Listed(listed) => Some(&listed.seen),
        }
    }
}

/// What a poll asks UHub for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The one page status records, to compare with it.
    Probe(NewestPage),
    /// Every page.
    Full(FullReason),
}

/// Why a poll lists every page.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum FullReason {
    /// Status records no listing: the first poll of the TagWatch.
    Unrecorded,
    /// The last listing found no page known to hold the newest tags.
    Unordered,
    /// The spec changed since the last full listing.
    SpecChanged,
    /// A poll was requested with the reconcile annotation.
    Requested,
    /// The last full listing is `--full-listing-every` intervals old.
    Periodic,
    /// A probe saw a change.
    ProbeChanged,
    /// The previous full listing changed while it was paged through.
    ChangedWhilePaging,
}

/// What kind of request a poll made of UHub: a probe, or a listing of every page.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum ListingKind {
    /// One page, compared with status.
    Probe,
    /// Every page.
    Full,
}

/// What a probe or full listing found, compared with what status records.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum ListingResult {
    /// The same: the probe page and `TotalCount`, or the tracked tags and the probe page.
    Unchanged,
    /// Something else.
    Changed,
    /// UHub's answer was an error (see the poll's result).
    Failed,
}

/// How `tw` is polled at `now`. `remembered` is when this process last listed it fully
/// (status may not say, as a full listing that finds nothing writes nothing).
pub fn plan(
    tw: &TagWatch,
    remembered: Option<Timestamp>,
    now: Timestamp,
    interval: Duration,
    every: NonZeroU32,
) -> Plan {
    let status = tw.status.as_ref();
    let Some(listing) = status
        .filter(|s| s.last_sync_time.is_some())
        .and_then(|s| s.listing.as_ref())
    else {
        return Plan::Full(FullReason::Unrecorded);
    };
    let Some(page) = &listing.newest_page else {
        return Plan::Full(FullReason::Unordered);
    };
    if listing.observed_generation != tw.metadata.generation {
        return Plan::Full(FullReason::SpecChanged);
    }
    if crate::controller::reconcile_request_pending(tw) {
        return Plan::Full(FullReason::Requested);
    }
    let last = remembered.map_or(listing.time.0, |r| r.max(listing.time.0));
    let since = last
        .until(now)
        .ok()
        .and_then(|span| Duration::try_from(span).ok())
        .unwrap_or(Duration::ZERO);
    if every.get() == 1 || since >= interval.saturating_mul(every.get()) {
        return Plan::Full(FullReason::Periodic);
    }
    match (
        u64::try_from(page.offset),
        u64::try_from(listing.total_count),
    ) {
        (Ok(offset), Ok(total_count)) => Plan::Probe(NewestPage {
            offset,
            total_count,
            digest: page.digest.clone(),
        }),
        _ => Plan::Full(FullReason::Unordered),
    }
}

/// What `status.listing` records of a full listing made at `now` for generation
/// `generation`.
pub fn record(
    order: Order,
    total_count: u64,
    newest_page: Option<&NewestPage>,
    generation: Option<i64>,
    now: &Time,
) -> ListingStatus {
    ListingStatus {
        order: match order {
            Order::NewestFirst => ListingOrder::NewestFirst,
            Order::OldestFirst => ListingOrder::OldestFirst,
            Order::Unordered => ListingOrder::Unordered,
        },
        total_count: i64::try_from(total_count).unwrap_or(i64::MAX),
        newest_page: newest_page.and_then(|page| {
            Some(NewestPageStatus {
                offset: i64::try_from(page.offset).ok()?,
                digest: page.digest.clone(),
            })
        }),
        observed_generation: generation,
        time: now.clone(),
    }
}

/// Whether `newest_page` (of a full listing) is the page `recorded` names, with the
/// same `TotalCount` and digest.
pub fn same_page(recorded: &ListingStatus, newest_page: Option<&NewestPage>) -> bool {
    let names = |page: &NewestPage, at: &NewestPageStatus| {
        i64::try_from(page.offset) == Ok(at.offset)
            && i64::try_from(page.total_count) == Ok(recorded.total_count)
            && page.digest == at.digest
    };
    match (newest_page, &recorded.newest_page) {
        (Some(page), Some(at)) => names(page, at),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
