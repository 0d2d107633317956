//! Unit tests of the paging state machine against scripted servers.

use super::*;
use crate::error::ErrorKind;

/// Tag `n`, created at Unix second `1_700_000_000 + n` (higher is newer).
fn tag(n: u64) -> Tag {
    Tag {
        name: format!("t{n:05}"),
        update_time: (1_700_000_000 + n).to_string(),
        digest: None,
    }
}

/// A newest-first list of tags `0..count`.
fn newest_first(count: u64) -> Vec<Tag> {
    (0..count).rev().map(tag).collect()
}

fn page(tags: &[Tag], offset: u64, limit: u32, cap: u32, total: Option<u64>) -> TagPage {
    let take = limit.min(cap) as usize;
    TagPage {
        total_count: total,
        tags: tags
            .iter()
            .skip(offset as usize)
            .take(take)
            .cloned()
            .collect(),
    }
}

/// Drives a pager against `server(call_number, offset, limit)`; returns the listing
/// and the offsets asked for.
fn run(
    page_size: u32,
    max_pages: u32,
    mut server: impl FnMut(u32, u64, u32) -> TagPage,
) -> (Result<TagListing, Error>, Vec<u64>) {
    let mut pager = Pager::new(
        NonZeroU32::new(page_size).unwrap(),
        NonZeroU32::new(max_pages).unwrap(),
    );
    let mut offsets = Vec::new();
    loop {
        match pager.next_offset() {
            Ok(Some(offset)) => {
                let call = offsets.len() as u32;
                offsets.push(offset);
                pager.absorb(server(call, offset, page_size));
            }
            Ok(None) => {
                let requests = offsets.len() as u32;
                return (Ok(pager.finish(requests)), offsets);
            }
            Err(err) => return (Err(err), offsets),
        }
    }
}

fn names(listing: &TagListing) -> Vec<&str> {
    listing.tags.iter().map(|t| t.name.as_str()).collect()
}

#[test]
fn server_returning_fewer_than_limit_advances_by_what_came_back() {
    let all = newest_first(100);
    let (listing, offsets) = run(100, 10, |_, offset, limit| {
        page(&all, offset, limit, 30, Some(100))
    });
    let listing = listing.unwrap();
    assert_eq!(offsets, [0, 30, 60, 90]);
    assert_eq!(listing.tags, all);
    assert_eq!(
        (listing.total_count, listing.pages, listing.requests),
        (100, 4, 4)
    );
    assert!(listing.consistent);
}

#[test]
fn stops_at_total_count_without_an_extra_request() {
    let all = newest_first(200);
    let (listing, offsets) = run(100, 10, |_, o, l| page(&all, o, l, 100, Some(200)));
    assert_eq!(offsets, [0, 100]);
    assert_eq!(listing.unwrap().tags.len(), 200);
}

#[test]
fn without_total_count_stops_at_an_empty_page() {
    let all = newest_first(150);
    let (listing, offsets) = run(100, 10, |_, o, l| page(&all, o, l, 100, None));
    let listing = listing.unwrap();
    assert_eq!(offsets, [0, 100, 150]);
    assert_eq!(listing.total_count, 150);
    assert!(listing.consistent);
}

#[test]
fn empty_image() {
    let (listing, offsets) = run(100, 10, |_, _, _| TagPage {
        total_count: Some(0),
        tags: vec![],
    });
    let listing = listing.unwrap();
    assert_eq!(offsets, [0]);
    assert!(listing.tags.is_empty());
    assert_eq!(listing.total_count, 0);
    assert!(listing.consistent);
}

#[test]
fn empty_page_before_total_count_ends_the_listing_as_inconsistent() {
    let all = newest_first(50);
    let (listing, offsets) = run(50, 10, |call, o, l| match call {
        0 => page(&all, o, l, 50, Some(120)),
        _ => TagPage {
            total_count: Some(120),
            tags: vec![],
        },
    });
    let listing = listing.unwrap();
    assert_eq!(offsets, [0, 50]);
    assert_eq!(listing.tags.len(), 50);
    assert_eq!(listing.total_count, 120);
    assert!(!listing.consistent);
}

#[test]
fn total_count_growing_at_the_front_repeats_an_entry_that_is_deduplicated() {
    let before = newest_first(250);
    let mut after = before.clone();
    after.insert(0, tag(1000));
    let (listing, offsets) = run(100, 10, |call, o, l| match call {
        0 => page(&before, o, l, 100, Some(250)),
        _ => page(&after, o, l, 100, Some(251)),
    });
    let listing = listing.unwrap();
    assert_eq!(offsets, [0, 100, 200]);
    // t00150 came back twice (end of page 1, start of page 2); listed once.
    assert_eq!(listing.tags, before);
    assert_eq!(listing.total_count, 251);
    assert!(!listing.consistent, "the new tag at the front was not seen");
}

#[test]
fn total_count_growing_at_the_end_is_followed() {
    let mut growing = newest_first(100);
    let (listing, offsets) = run(50, 10, |call, o, l| {
        if call == 1 {
            growing.extend((500..530).map(tag));
        }
        let total = growing.len() as u64;
        page(&growing, o, l, 50, Some(total))
    });
    let listing = listing.unwrap();
    assert_eq!(offsets, [0, 50, 100]);
    assert_eq!(listing.tags.len(), 130);
    assert_eq!(listing.total_count, 130);
    assert_eq!(listing.tags[0].name, "t00529", "sorted newest first");
    assert!(!listing.consistent, "TotalCount changed while paging");
}

#[test]
fn total_count_shrinking_stops_early() {
    let all = newest_first(250);
    let (listing, offsets) = run(100, 10, |call, o, l| {
        let total = if call == 0 { 250 } else { 150 };
        page(&all[..total as usize], o, l, 100, Some(total))
    });
    let listing = listing.unwrap();
    assert_eq!(offsets, [0, 100]);
    assert_eq!(listing.tags, all[..150]);
    assert_eq!(listing.total_count, 150);
    assert!(!listing.consistent);
}

#[test]
fn a_page_repeating_entries_is_deduplicated_and_the_latest_copy_wins() {
    let first = newest_first(10);
    let (listing, offsets) = run(10, 10, |call, _, _| {
        let mut tags = first.clone();
        tags[0].digest = Some(format!("sha256:{call}"));
        TagPage {
            total_count: Some(30),
            tags,
        }
    });
    let listing = listing.unwrap();
    assert_eq!(offsets, [0, 10, 20]);
    assert_eq!(listing.tags.len(), 10);
    assert_eq!(listing.tags[0].digest.as_deref(), Some("sha256:2"));
    assert!(!listing.consistent, "10 distinct tags of 30");
}

#[test]
fn a_server_that_never_stops_is_refused_after_max_pages() {
    let (listing, offsets) = run(100, 5, |call, _, _| TagPage {
        total_count: Some(u64::from(call + 2) * 100),
        tags: (0..100).map(|i| tag(u64::from(call) * 100 + i)).collect(),
    });
    let err = listing.unwrap_err();
    assert_eq!(offsets, [0, 100, 200, 300, 400]);
    assert_eq!(err.kind(), ErrorKind::TooManyPages);
    assert_eq!(err, Error::too_many_pages("GetImageTag", 5, 500, Some(600)));
}

#[test]
fn a_server_ignoring_offset_with_a_huge_total_is_refused() {
    let same = newest_first(3);
    let (listing, offsets) = run(3, 4, |_, _, _| TagPage {
        total_count: Some(u64::MAX),
        tags: same.clone(),
    });
    assert_eq!(offsets.len(), 4);
    assert_eq!(
        listing.unwrap_err(),
        Error::too_many_pages("GetImageTag", 4, 3, Some(u64::MAX))
    );
}

#[test]
fn listing_is_sorted_newest_first_whatever_the_server_order() {
    let mut shuffled = newest_first(20);
    shuffled.reverse();
    shuffled.swap(3, 17);
    let (listing, _) = run(7, 10, |_, o, l| page(&shuffled, o, l, 7, Some(20)));
    let listing = listing.unwrap();
    assert_eq!(listing.tags, newest_first(20));
    assert_eq!(names(&listing)[..2], ["t00019", "t00018"]);
}

#[test]
fn a_consistent_listing_records_its_order_and_newest_page() {
    let newest = newest_first(250);
    let (listing, _) = run(100, 10, |_, o, l| page(&newest, o, l, 100, Some(250)));
    let listing = listing.unwrap();
    assert_eq!(listing.order, Order::NewestFirst);
    assert_eq!(
        listing.newest_page,
        Some(NewestPage {
            offset: 0,
            total_count: 250,
            digest: crate::probe::page_digest(&newest[..100]),
        })
    );

    let mut oldest = newest.clone();
    oldest.reverse();
    let (listing, _) = run(100, 10, |_, o, l| page(&oldest, o, l, 40, Some(250)));
    let listing = listing.unwrap();
    assert_eq!(listing.tags, newest, "sorted newest first all the same");
    assert_eq!(listing.order, Order::OldestFirst);
    let recorded = listing.newest_page.unwrap();
    assert_eq!(recorded.offset, 210, "the server's 40-tag pages");
    assert_eq!(recorded.digest, crate::probe::page_digest(&newest[..40]));
}

#[test]
fn no_newest_page_without_a_known_order_a_total_count_or_consistency() {
    let mut shuffled = newest_first(250);
    shuffled.swap(3, 200);
    let (listing, _) = run(100, 10, |_, o, l| page(&shuffled, o, l, 100, Some(250)));
    let listing = listing.unwrap();
    assert_eq!(
        (listing.order, listing.newest_page),
        (Order::Unordered, None)
    );

    let newest = newest_first(250);
    let (listing, _) = run(100, 10, |_, o, l| page(&newest, o, l, 100, None));
    let listing = listing.unwrap();
    assert_eq!(listing.order, Order::NewestFirst);
    assert_eq!(listing.newest_page, None, "no TotalCount to compare");

    let (listing, _) = run(100, 10, |call, o, l| {
        page(&newest, o, l, 100, Some(250 + u64::from(call)))
    });
    let listing = listing.unwrap();
    assert!(!listing.consistent);
    assert_eq!(
        (listing.order, listing.newest_page),
        (Order::Unordered, None)
    );
}

#[test]
fn a_single_page_is_probed_whatever_its_order() {
    let mut shuffled = newest_first(30);
    shuffled.swap(3, 20);
    let (listing, _) = run(100, 10, |_, o, l| page(&shuffled, o, l, 100, Some(30)));
    let listing = listing.unwrap();
    assert_eq!(listing.order, Order::Unordered);
    let recorded = listing.newest_page.unwrap();
    assert_eq!((recorded.offset, recorded.total_count), (0, 30));
    assert_eq!(recorded.digest, crate::probe::page_digest(&shuffled));
}

#[test]
fn a_listing_can_start_from_the_probed_first_page() {
    let newest = newest_first(250);
    let mut pager = Pager::new(NonZeroU32::new(100).unwrap(), NonZeroU32::new(10).unwrap());
    pager.absorb(page(&newest, 0, 100, 100, Some(250)));
    let mut offsets = Vec::new();
    while let Some(offset) = pager.next_offset().unwrap() {
        offsets.push(offset);
        pager.absorb(page(&newest, offset, 100, 100, Some(250)));
    }
    assert_eq!(offsets, [100, 200], "page one is not fetched again");
    let listing = pager.finish(2);
    assert_eq!(listing.tags, newest);
    assert_eq!(listing.newest_page.unwrap().offset, 0);
}
