//! Unit tests of the probe-or-list decision and of what a full listing records.

use super::*;
use crate::api::v1alpha1::TagWatch;

const MINUTE: Duration = Duration::from_secs(60);

fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

fn every(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// Synced and fully listed at second 0, probe page recorded.
fn probed() -> TagWatch {
    TagWatch::test().ready().listed(0, 250, "sha256:page")
}

#[test]
fn a_recorded_newest_page_is_probed() {
    assert_eq!(
        plan(&probed(), None, ts(60), MINUTE, every(10)),
        Plan::Probe(NewestPage {
            offset: 0,
            total_count: 250,
            digest: "sha256:page".into(),
        })
    );
}

#[test]
fn without_a_record_every_page_is_listed() {
    let first = TagWatch::test();
    assert_eq!(
        plan(&first, None, ts(60), MINUTE, every(10)),
        Plan::Full(FullReason::Unrecorded)
    );
    let listed_before_this_version = TagWatch::test().ready();
    assert_eq!(
        plan(&listed_before_this_version, None, ts(60), MINUTE, every(10)),
        Plan::Full(FullReason::Unrecorded)
    );
    let mut unordered = probed();
    let listing = unordered.status.as_mut().unwrap().listing.as_mut().unwrap();
    listing.order = ListingOrder::Unordered;
    listing.newest_page = None;
    assert_eq!(
        plan(&unordered, None, ts(60), MINUTE, every(10)),
        Plan::Full(FullReason::Unordered)
    );
}

#[test]
fn a_new_spec_or_a_requested_poll_lists_every_page() {
    let changed = probed().generation(2);
    assert_eq!(
        plan(&changed, None, ts(60), MINUTE, every(10)),
        Plan::Full(FullReason::SpecChanged)
    );
    let requested = probed().requesting_poll("now");
    assert_eq!(
        plan(&requested, None, ts(60), MINUTE, every(10)),
        Plan::Full(FullReason::Requested)
    );
    let mut handled = probed().requesting_poll("now");
    handled.status.as_mut().unwrap().last_handled_reconcile_at = Some("now".into());
    assert!(matches!(
        plan(&handled, None, ts(60), MINUTE, every(10)),
        Plan::Probe(_)
    ));
}

#[test]
fn every_n_intervals_every_page_is_listed() {
    let tw = probed();
    assert!(matches!(
        plan(&tw, None, ts(599), MINUTE, every(10)),
        Plan::Probe(_)
    ));
    assert_eq!(
        plan(&tw, None, ts(600), MINUTE, every(10)),
        Plan::Full(FullReason::Periodic)
    );
    // What this process remembers wins over status, which a quiet full listing does not
    // write.
    assert!(matches!(
        plan(&tw, Some(ts(500)), ts(700), MINUTE, every(10)),
        Plan::Probe(_)
    ));
    assert_eq!(
        plan(&tw, Some(ts(500)), ts(1100), MINUTE, every(10)),
        Plan::Full(FullReason::Periodic)
    );
    // An older memory (status written since by another replica) does not.
    assert_eq!(
        plan(&tw, Some(ts(-1000)), ts(600), MINUTE, every(10)),
        Plan::Full(FullReason::Periodic)
    );
    // Every poll lists every page with 1: probing off.
    assert_eq!(
        plan(&tw, Some(ts(0)), ts(1), MINUTE, every(1)),
        Plan::Full(FullReason::Periodic)
    );
}

#[test]
fn a_full_listing_records_its_order_count_page_and_generation() {
    let page = NewestPage {
        offset: 150,
        total_count: 250,
        digest: "sha256:last".into(),
    };
    let at = Time(ts(42));
    let recorded = record(Order::OldestFirst, 250, Some(&page), Some(3), &at);
    assert_eq!(
        recorded,
        ListingStatus {
            order: ListingOrder::OldestFirst,
            total_count: 250,
            newest_page: Some(NewestPageStatus {
                offset: 150,
                digest: "sha256:last".into(),
            }),
            observed_generation: Some(3),
            time: at.clone(),
        }
    );
    let tw = TagWatch::test().generation(3).ready().with_status({
        let mut status = TagWatch::test().generation(3).ready().status.unwrap();
        status.listing = Some(recorded);
        status
    });
    assert_eq!(
        plan(&tw, None, ts(60), MINUTE, every(10)),
        Plan::Probe(page),
        "what is recorded is what the next poll probes"
    );
    let none = record(Order::Unordered, 250, None, Some(3), &at);
    assert_eq!(none.newest_page, None);
    assert_eq!(none.order, ListingOrder::Unordered);
}
