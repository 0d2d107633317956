//! Unit tests of order detection, the recorded newest page and the probe's comparison.

use super::*;

/// Tag `n`, created at Unix second `1_700_000_000 + n` (higher is newer).
fn tag(n: u64) -> Tag {
    Tag {
        name: format!("t{n:05}"),
        update_time: (1_700_000_000 + n).to_string(),
        digest: Some(format!("sha256:{n:064x}")),
    }
}

fn newest_first(count: u64) -> Vec<Tag> {
    (0..count).rev().map(tag).collect()
}

fn oldest_first(count: u64) -> Vec<Tag> {
    (0..count).map(tag).collect()
}

/// `tags` renamed so that names do not follow times, sorted by name.
fn by_name(mut tags: Vec<Tag>) -> Vec<Tag> {
    for t in &mut tags {
        let n: u64 = t.name[1..].parse().unwrap();
        t.name = format!("x{:03}", n * 37 % 1000);
    }
    tags.sort_by(|a, b| a.name.cmp(&b.name));
    tags
}

fn page(tags: &[Tag], total: u64) -> TagPage {
    TagPage {
        total_count: Some(total),
        tags: tags.to_vec(),
    }
}

#[test]
fn detects_each_order() {
    assert_eq!(Order::detect(&newest_first(250)), Order::NewestFirst);
    assert_eq!(Order::detect(&oldest_first(250)), Order::OldestFirst);
    let named = by_name(newest_first(250));
    assert_eq!(Order::detect(&named), Order::Unordered);
}

#[test]
fn ties_count_as_either_order_but_all_ties_show_none() {
    let mut tied = newest_first(5);
    tied[2].update_time = tied[1].update_time.clone();
    assert_eq!(Order::detect(&tied), Order::NewestFirst);
    tied.reverse();
    assert_eq!(Order::detect(&tied), Order::OldestFirst);
    let same: Vec<Tag> = (0..4)
        .map(|n| Tag::new(format!("t{n}"), "2026-11-01 10:00:00"))
        .collect();
    assert_eq!(Order::detect(&same), Order::Unordered);
    assert_eq!(Order::detect(&newest_first(1)), Order::Unordered);
    assert_eq!(Order::detect(&[]), Order::Unordered);
}

#[test]
fn times_in_other_formats_are_compared_parsed() {
    let tags = vec![
        Tag::new("c", "2026-11-02T00:00:00Z"),
        Tag::new("b", "2026-11-01 10:00:00"),
        Tag::new("a", "1700000000"),
        Tag::new("junk", "not a time"),
    ];
    assert_eq!(Order::detect(&tags), Order::NewestFirst);
}

#[test]
fn the_newest_page_is_the_first_the_last_or_the_whole_list() {
    let newest = newest_first(250);
    let page_one = NewestPage::of(&newest, 250, 100, Order::NewestFirst).unwrap();
    assert_eq!(page_one.offset, 0);
    assert_eq!(page_one.digest, page_digest(&newest[..100]));

    let oldest = oldest_first(250);
    let last = NewestPage::of(&oldest, 250, 100, Order::OldestFirst).unwrap();
    assert_eq!(last.offset, 150);
    assert_eq!(last.digest, page_digest(&oldest[150..]));
    assert_eq!(
        last.digest, page_one.digest,
        "the same 100 newest tags, in another order"
    );

    assert_eq!(
        NewestPage::of(&by_name(newest.clone()), 250, 100, Order::Unordered),
        None,
        "no page is known to hold the newest tags"
    );
    let small = by_name(newest_first(80));
    let whole = NewestPage::of(&small, 80, 100, Order::Unordered).unwrap();
    assert_eq!(whole.offset, 0);
    assert_eq!(whole.digest, page_digest(&small));
}

#[test]
fn a_server_serving_short_pages_is_probed_at_its_own_page_length() {
    let oldest = oldest_first(250);
    let last = NewestPage::of(&oldest, 250, 30, Order::OldestFirst).unwrap();
    assert_eq!(last.offset, 220);
    assert_eq!(last.digest, page_digest(&oldest[220..]));
}

#[test]
fn a_probe_matches_only_the_same_count_and_tags() {
    let tags = newest_first(250);
    let newest = NewestPage::of(&tags, 250, 100, Order::NewestFirst).unwrap();
    assert!(newest.matches(&page(&tags[..100], 250)));
    let mut reordered = tags[..100].to_vec();
    reordered.reverse();
    assert!(
        newest.matches(&page(&reordered, 250)),
        "order within the page"
    );

    // A push: a new tag at the front, one shifted off the page.
    let mut pushed = vec![tag(999)];
    pushed.extend_from_slice(&tags[..99]);
    assert!(!newest.matches(&page(&pushed, 251)));
    // A push and a removal together: the count is the same, the page is not.
    assert!(!newest.matches(&page(&pushed, 250)));
    // A removal beyond the page: only the count tells.
    assert!(!newest.matches(&page(&tags[..100], 249)));
    // A tag of the page pushed again: a new time and digest.
    let mut repushed = tags[..100].to_vec();
    repushed[40].update_time = (1_700_000_000u64 + 1000).to_string();
    repushed[40].digest = Some("sha256:new".into());
    repushed.rotate_right(60);
    assert!(!newest.matches(&page(&repushed, 250)));
    // No TotalCount: nothing to compare with.
    let no_total = TagPage {
        total_count: None,
        tags: tags[..100].to_vec(),
    };
    assert!(!newest.matches(&no_total));
}

#[test]
fn an_old_tag_changed_in_place_is_what_a_probe_cannot_see() {
    let tags = newest_first(250);
    let newest = NewestPage::of(&tags, 250, 100, Order::NewestFirst).unwrap();
    let mut changed = tags.clone();
    changed[200].digest = Some("sha256:rebuilt".into());
    assert!(
        newest.matches(&page(&changed[..100], 250)),
        "beyond the newest page: only a full listing notices"
    );
    let whole = NewestPage::of(&newest_first(80), 80, 100, Order::NewestFirst).unwrap();
    let mut small = newest_first(80);
    small[70].digest = Some("sha256:rebuilt".into());
    assert!(
        !whole.matches(&page(&small, 80)),
        "on a single page a probe sees every change"
    );
}
