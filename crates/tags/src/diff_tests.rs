//! Tests of [`super::diff`]: examples for every branch, then properties.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::sort_newest_first;
use crate::test_support::{tag, with_digest};

fn names(tags: &[Tag]) -> Vec<&str> {
    tags.iter().map(|t| t.name.as_str()).collect()
}

fn snapshot(window: &[Tag], tag_count: usize) -> Option<Snapshot<'_>> {
    Some(Snapshot { window, tag_count })
}

#[test]
fn the_first_sync_is_initial_only() {
    let current = vec![tag("v2", "2"), tag("v1", "1")];
    let changes = diff(None, &current);
    assert_eq!(
        changes,
        Changes {
            initial: true,
            ..Changes::default()
        }
    );
    assert!(!changes.is_empty());
    assert!(diff(None, &[]).initial);
}

#[test]
fn nothing_changed() {
    let current = vec![tag("v2", "2"), tag("v1", "1")];
    let changes = diff(snapshot(&current, 2), &current);
    assert!(changes.is_empty());
    assert_eq!(changes, Changes::default());
    assert!(diff(snapshot(&[], 0), &[]).is_empty());
}

#[test]
fn complete_window_sees_every_change() {
    let previous = vec![
        tag("keep", "5"),
        with_digest(tag("redigest", "4"), "sha256:a"),
        tag("retime", "3"),
        tag("gone", "2"),
        tag("ancient", "1"),
    ];
    let current = vec![
        tag("retime", "9"),
        tag("fresh", "8"),
        tag("keep", "5"),
        with_digest(tag("redigest", "4"), "sha256:b"),
        tag("ancient", "1"),
        // New, but older than everything: the window was complete, so it is known new.
        tag("backdated", "0"),
    ];
    let changes = diff(snapshot(&previous, 5), &current);
    assert_eq!(names(&changes.added), ["fresh", "backdated"]);
    assert_eq!(names(&changes.removed), ["gone"]);
    let updated: Vec<_> = changes
        .updated
        .iter()
        .map(|u| (u.old.clone(), u.new.clone()))
        .collect();
    assert_eq!(
        updated,
        [
            (tag("retime", "3"), tag("retime", "9")),
            (
                with_digest(tag("redigest", "4"), "sha256:a"),
                with_digest(tag("redigest", "4"), "sha256:b")
            ),
        ]
    );
    assert!(!changes.initial);
}

#[test]
fn a_digest_appearing_or_disappearing_is_an_update() {
    let previous = vec![tag("a", "1")];
    let current = vec![with_digest(tag("a", "1"), "sha256:x")];
    assert_eq!(diff(snapshot(&previous, 1), &current).updated.len(), 1);
    assert_eq!(diff(snapshot(&current, 1), &previous).updated.len(), 1);
}

#[test]
fn full_window_announces_only_tags_newer_than_its_oldest() {
    // Status kept 2 of 4 tags: c and b; a and z were beyond the window.
    let previous = vec![tag("c", "30"), tag("b", "20")];
    let current = vec![
        tag("d", "40"),
        tag("c", "30"),
        tag("a-tie", "20"), // same time as b, name sorts first: newer
        tag("b", "20"),
        tag("z-tie", "20"), // same time as b, name sorts after: older
        tag("a", "10"),
        tag("backdated", "5"), // the documented limitation: not announced
        tag("z", "1"),
    ];
    let changes = diff(snapshot(&previous, 4), &current);
    assert_eq!(names(&changes.added), ["d", "a-tie"]);
    assert!(changes.removed.is_empty());
    assert!(changes.updated.is_empty());
}

#[test]
fn full_window_repush_beyond_the_window_counts_as_added() {
    let previous = vec![tag("c", "30"), tag("b", "20")];
    let current = vec![tag("a", "50"), tag("c", "30"), tag("b", "20")];
    let changes = diff(snapshot(&previous, 3), &current);
    assert_eq!(names(&changes.added), ["a"]);
}

#[test]
fn removal_from_a_full_window_does_not_announce_older_tags() {
    let previous = vec![tag("c", "30"), tag("b", "20")];
    let current = vec![tag("a", "10"), tag("z", "1")];
    let changes = diff(snapshot(&previous, 4), &current);
    assert!(changes.added.is_empty());
    assert_eq!(names(&changes.removed), ["c", "b"]);
}

#[test]
fn unparsable_times_sort_oldest_by_text() {
    let previous = vec![tag("p", "100"), tag("q", "m-garbage")];
    let current = vec![
        tag("parsed", "1"),
        tag("p", "100"),
        tag("later-text", "z-garbage"),
        tag("q", "m-garbage"),
        tag("earlier-text", "a-garbage"),
    ];
    let changes = diff(snapshot(&previous, 10), &current);
    assert_eq!(names(&changes.added), ["parsed", "later-text"]);
}

#[test]
fn duplicate_names_count_once() {
    let previous = vec![
        tag("a", "2"),
        tag("a", "1"),
        tag("gone", "1"),
        tag("gone", "0"),
    ];
    let current = vec![
        tag("new", "3"),
        tag("new", "0"),
        tag("a", "2"),
        tag("a", "9"),
    ];
    let changes = diff(snapshot(&previous, 4), &current);
    assert_eq!(changes.added, [tag("new", "3")]);
    assert_eq!(changes.removed, [tag("gone", "1")]);
    assert!(changes.updated.is_empty(), "{:?}", changes.updated);
}

#[test]
fn unicode_names() {
    let previous = vec![tag("版本-1", "1"), tag("émoji-🚀", "1")];
    let current = vec![tag("版本-2", "2"), tag("版本-1", "1")];
    let changes = diff(snapshot(&previous, 2), &current);
    assert_eq!(names(&changes.added), ["版本-2"]);
    assert_eq!(names(&changes.removed), ["émoji-🚀"]);
}

#[test]
fn huge_lists() {
    let mut all: Vec<Tag> = (0..100_000)
        .map(|i| tag(&format!("build-{i}"), &(1_700_000_000 + i).to_string()))
        .collect();
    sort_newest_first(&mut all);
    let previous = Snapshot::record(&all, 1000);
    let mut current: Vec<Tag> = (0..10)
        .map(|i| tag(&format!("next-{i}"), &(1_800_000_000 + i).to_string()))
        .collect();
    current.extend(all.iter().skip(1).cloned());
    sort_newest_first(&mut current);
    let changes = diff(Some(previous), &current);
    assert_eq!(changes.added.len(), 10);
    assert_eq!(names(&changes.removed), ["build-99999"]);
    assert!(changes.updated.is_empty());
}

/// A previous full list (unique names `p*`) and a current list made from it by dropping,
/// keeping and changing tags and adding new ones (names `n*`), both newest first.
fn arb_lists() -> impl Strategy<Value = (Vec<Tag>, Vec<Tag>, usize)> {
    let previous = prop::collection::btree_map(0u8..40, (0u8..20, prop::option::of(0u8..3)), 0..25);
    let edits = prop::collection::vec(0u8..4, 25);
    let added = prop::collection::btree_map(0u8..20, 0u8..25, 0..6);
    (previous, edits, added, 1usize..30).prop_map(|(previous, edits, added, limit)| {
        let make = |name: String, time: u8, digest: Option<u8>| Tag {
            name,
            update_time: time.to_string(),
            digest: digest.map(|d| format!("sha256:{d}")),
        };
        let mut before = Vec::new();
        let mut after = Vec::new();
        for ((name, (time, digest)), edit) in previous.into_iter().zip(edits) {
            let name = format!("p{name}");
            before.push(make(name.clone(), time, digest));
            match edit {
                0 => {}
                1 => after.push(make(name, time + 1, digest)),
                2 => after.push(make(name, time, Some(9))),
                _ => after.push(make(name, time, digest)),
            }
        }
        after.extend(
            added
                .into_iter()
                .map(|(n, t)| make(format!("n{n}"), t, None)),
        );
        sort_newest_first(&mut before);
        sort_newest_first(&mut after);
        (before, after, limit)
    })
}

fn by_name(tags: &[Tag]) -> BTreeMap<String, Tag> {
    tags.iter().map(|t| (t.name.clone(), t.clone())).collect()
}

proptest! {
    #[test]
    fn a_list_has_no_changes_against_itself((_, current, limit) in arb_lists()) {
        let changes = diff(Some(Snapshot::record(&current, limit)), &current);
        prop_assert!(changes.is_empty(), "{:?}", changes);
    }

    #[test]
    fn diff_is_consistent((before, after, limit) in arb_lists()) {
        let previous = Snapshot::record(&before, limit);
        let changes = diff(Some(previous), &after);
        prop_assert_eq!(&changes, &diff(Some(previous), &after));
        let window: BTreeSet<&str> = names(previous.window).into_iter().collect();
        let current: BTreeSet<&str> = names(&after).into_iter().collect();
        let added: BTreeSet<&str> = names(&changes.added).into_iter().collect();
        let removed: BTreeSet<&str> = names(&changes.removed).into_iter().collect();
        prop_assert!(added.iter().all(|n| !window.contains(n) && current.contains(n)));
        prop_assert!(removed.iter().all(|n| window.contains(n) && !current.contains(n)));
        prop_assert!(added.is_disjoint(&removed));
        for update in &changes.updated {
            prop_assert_eq!(&update.old.name, &update.new.name);
            prop_assert_ne!(&update.old, &update.new);
            prop_assert!(window.contains(update.old.name.as_str()));
        }
        // No tag that was there before, unchanged, is ever announced as new.
        let full_before = by_name(&before);
        for tag in &changes.added {
            prop_assert_ne!(full_before.get(&tag.name), Some(tag));
        }
        // No new tag newer than the window's oldest tag is missed.
        for tag in &after {
            let newer = previous.oldest().is_none_or(|o| newest_first(tag, o).is_lt());
            if !full_before.contains_key(&tag.name) && (newer || previous.is_complete()) {
                prop_assert!(added.contains(tag.name.as_str()), "missed {}", tag.name);
            }
        }
    }

    #[test]
    fn a_complete_window_replays_to_the_current_set((before, after, _) in arb_lists()) {
        let changes = diff(Some(Snapshot::record(&before, before.len())), &after);
        let mut replayed = by_name(&before);
        for tag in &changes.removed {
            prop_assert!(replayed.remove(&tag.name).is_some());
        }
        for update in &changes.updated {
            prop_assert_eq!(replayed.insert(update.new.name.clone(), update.new.clone()), Some(update.old.clone()));
        }
        for tag in &changes.added {
            prop_assert!(replayed.insert(tag.name.clone(), tag.clone()).is_none());
        }
        prop_assert_eq!(replayed, by_name(&after));
    }
}

#[path = "diff_sequence_tests.rs"]
mod sequence;
