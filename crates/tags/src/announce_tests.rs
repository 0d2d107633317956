//! Tests of [`super::announcements`] and the failure helpers.

use proptest::prelude::*;

use super::*;
use crate::diff::Changes;
use crate::observe::Observation;
use crate::revision::revision;
use crate::test_support::tag;

/// An observation of 42 tracked tags with `changes`, whose latest tag was `previous`
/// and is `latest` now.
fn outcome(changes: &Changes, previous: Option<&str>, latest: Option<&str>) -> Observation {
    Observation {
        tracked: many("t", 42),
        upstream_total: 42,
        changes: changes.clone(),
        latest: latest.map(|name| tag(name, "1")),
        previous_latest: previous.map(str::to_string),
        revision: "sha256:set".into(),
    }
}

fn summary(events: &[Announcement]) -> Vec<(&'static str, &str)> {
    events
        .iter()
        .map(|e| (e.reason.into(), e.note.as_str()))
        .collect()
}

fn many(prefix: &str, n: usize) -> Vec<Tag> {
    (0..n).map(|i| tag(&format!("{prefix}{i}"), "1")).collect()
}

#[test]
fn initial_sync_is_one_event_without_per_tag_events() {
    let changes = Changes {
        initial: true,
        ..Changes::default()
    };
    let events = announcements(&outcome(&changes, None, Some("v1.2.3")));
    assert_eq!(
        events,
        [Announcement {
            reason: Reason::InitialSync,
            note: "found 42 tags, latest v1.2.3".into(),
            key: "initial sha256:set".into(),
        }]
    );
    let mut one = outcome(&changes, None, None);
    one.tracked = many("t", 1);
    assert_eq!(
        summary(&announcements(&one)),
        [(
            "InitialSync",
            "found 1 tag; the policy selects none of them"
        )]
    );
    one.tracked.clear();
    assert_eq!(
        summary(&announcements(&one)),
        [("InitialSync", "found 0 tags")]
    );
}

#[test]
fn no_changes_no_events() {
    let changes = Changes::default();
    assert!(announcements(&outcome(&changes, Some("v1"), Some("v1"))).is_empty());
    assert!(announcements(&outcome(&changes, None, None)).is_empty());
}

#[test]
fn per_tag_events_in_order_then_latest() {
    let mut updated_digest = tag("latest", "5");
    updated_digest.digest = Some("sha256:new".into());
    let changes = Changes {
        added: vec![tag("v3", "2026-11-27 18:00:00"), tag("v2", "")],
        updated: vec![
            TagUpdate {
                old: tag("v1", "1"),
                new: tag("v1", "2"),
            },
            TagUpdate {
                old: tag("latest", "4"),
                new: updated_digest,
            },
        ],
        removed: vec![tag("v0", "0")],
        initial: false,
    };
    let events = announcements(&outcome(&changes, Some("v1"), Some("v3")));
    assert_eq!(
        summary(&events),
        [
            ("NewTag", "new tag v3 (updateTime 2026-11-27 18:00:00)"),
            ("NewTag", "new tag v2 (updateTime (none))"),
            ("TagUpdated", "tag v1 updated: updateTime 1 -> 2"),
            (
                "TagUpdated",
                "tag latest updated: updateTime 4 -> 5, digest (none) -> sha256:new"
            ),
            ("TagRemoved", "tag v0 removed"),
            ("LatestTagChanged", "v1 -> v3"),
        ]
    );
}

#[test]
fn latest_appearing_or_disappearing() {
    let changes = Changes::default();
    assert_eq!(
        summary(&announcements(&outcome(&changes, None, Some("v1")))),
        [("LatestTagChanged", "(none) -> v1")]
    );
    assert_eq!(
        summary(&announcements(&outcome(&changes, Some("v1"), None))),
        [("LatestTagChanged", "v1 -> (none)")]
    );
}

#[test]
fn five_are_announced_one_by_one_six_are_listed() {
    let five = Changes {
        added: many("a", AGGREGATE_ABOVE),
        ..Changes::default()
    };
    let events = announcements(&outcome(&five, None, None));
    assert_eq!(events.len(), 5);
    assert!(events.iter().all(|e| e.reason == Reason::NewTag));

    let six = Changes {
        added: many("a", 6),
        updated: many("u", 7)
            .into_iter()
            .map(|t| TagUpdate {
                old: t.clone(),
                new: Tag {
                    digest: Some("d".into()),
                    ..t
                },
            })
            .collect(),
        removed: many("r", 8),
        initial: false,
    };
    assert_eq!(
        summary(&announcements(&outcome(&six, Some("x"), Some("x")))),
        [
            ("NewTag", "6 new tags: a0, a1, a2, a3, a4, a5"),
            ("TagUpdated", "7 tags updated: u0, u1, u2, u3, u4, u5, u6"),
            (
                "TagRemoved",
                "8 tags removed: r0, r1, r2, r3, r4, r5, r6, r7"
            ),
        ]
    );
}

#[test]
fn long_lists_are_cut_with_a_count_of_the_rest() {
    let changes = Changes {
        added: many("release-2026.11.27-build-", 10_000),
        ..Changes::default()
    };
    let events = announcements(&outcome(&changes, None, None));
    let note = &events[0].note;
    assert!(note.len() <= NOTE_LIMIT_BYTES, "{}", note.len());
    assert!(note.starts_with("10000 new tags: release-2026.11.27-build-0, "));
    let (listed, rest) = note.rsplit_once(" ... and ").unwrap();
    let listed_count = listed.matches(", ").count() + 1;
    assert_eq!(rest, format!("{} more", 10_000 - listed_count));
    assert!(
        note.len() > NOTE_LIMIT_BYTES - 60,
        "room left unused: {}",
        note.len()
    );
}

#[test]
fn listing_edges() {
    let names = ["aaaa", "bbbb", "cccc", "dddd", "eeee"];
    assert_eq!(
        listing("5 x:", &names, 0, 100),
        "5 x: aaaa, bbbb, cccc, dddd, eeee"
    );
    // Everything fits exactly: no suffix needed.
    assert_eq!(
        listing("5 x:", &names, 0, 33),
        "5 x: aaaa, bbbb, cccc, dddd, eeee"
    );
    // One byte short: names are listed only with room left for the suffix.
    assert_eq!(
        listing("5 x:", &names, 0, 32),
        "5 x: aaaa, bbbb ... and 3 more"
    );
    assert_eq!(listing("5 x:", &names, 0, 29), "5 x: aaaa ... and 4 more");
    assert_eq!(listing("5 x:", &names, 0, 23), "5 x: ... and 5 more");
    let huge = "h".repeat(5000);
    assert_eq!(
        listing("6 x:", &[&huge, "b"], 0, 1024),
        "6 x: ... and 2 more"
    );
    // Items without a name are always counted, after the names that fit.
    assert_eq!(
        listing("55 x:", &names, 50, 100),
        "55 x: aaaa, bbbb, cccc, dddd, eeee ... and 50 more"
    );
    assert_eq!(
        listing("55 x:", &names, 50, 32),
        "55 x: aaaa, bbbb ... and 53 more"
    );
}

#[test]
fn huge_and_unicode_names_are_cut_on_a_character_boundary() {
    let name = "版".repeat(600); // 1800 bytes
    let changes = Changes {
        added: vec![tag(&name, "1")],
        removed: vec![tag(&"x".repeat(2000), "1")],
        ..Changes::default()
    };
    for event in announcements(&outcome(&changes, None, Some(&name))) {
        assert!(event.note.len() <= NOTE_LIMIT_BYTES, "{:?}", event.reason);
        assert!(event.note.ends_with("..."), "{:?}", event.reason);
    }
    assert_eq!(fit("short".into()), "short");
    let exact = "é".repeat(NOTE_LIMIT_BYTES / 2);
    assert_eq!(fit(exact.clone()), exact);
    let over = format!("{exact}x");
    let cut = fit(over);
    assert_eq!(cut.len(), NOTE_LIMIT_BYTES - 1);
    assert!(cut.ends_with("é..."));
}

#[test]
fn keys_name_what_is_announced() {
    let (a, b) = (tag("v1", "1"), tag("v1", "2"));
    let update = |old: &Tag, new: &Tag| TagUpdate {
        old: old.clone(),
        new: new.clone(),
    };
    let changes = Changes {
        added: vec![tag("v2", "3")],
        updated: vec![update(&a, &b)],
        removed: vec![tag("v0", "0")],
        initial: false,
    };
    let keys: Vec<String> = announcements(&outcome(&changes, Some("v1"), Some("v2")))
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(
        keys,
        [
            revision(&[tag("v2", "3")]),
            format!(
                "{} -> {}",
                revision(std::slice::from_ref(&a)),
                revision(std::slice::from_ref(&b))
            ),
            revision(&[tag("v0", "0")]),
            "Some(\"v1\") -> Some(\"v2\") sha256:set".to_string(),
        ]
    );
    // An update back is another announcement.
    let back = Changes {
        updated: vec![update(&b, &a)],
        ..Changes::default()
    };
    let back_key = &announcements(&outcome(&back, None, None))[0].key;
    assert_ne!(back_key, &keys[1]);
    // The latest tag appearing and disappearing are told apart.
    let none = Changes::default();
    let appear = announcements(&outcome(&none, None, Some("x")));
    let disappear = announcements(&outcome(&none, Some("x"), None));
    assert_ne!(appear[0].key, disappear[0].key);
}

#[test]
fn listing_keys_cover_every_listed_tag() {
    let added = many("a", 6);
    let updated: Vec<TagUpdate> = many("u", 6)
        .into_iter()
        .map(|t| TagUpdate {
            old: t.clone(),
            new: Tag {
                update_time: "2".into(),
                ..t
            },
        })
        .collect();
    let changes = Changes {
        added: added.clone(),
        updated: updated.clone(),
        ..Changes::default()
    };
    let events = announcements(&outcome(&changes, None, None));
    assert_eq!(events[0].key, revision(&added));
    let olds: Vec<Tag> = updated.iter().map(|u| u.old.clone()).collect();
    let news: Vec<Tag> = updated.iter().map(|u| u.new.clone()).collect();
    assert_eq!(
        events[1].key,
        format!("{} -> {}", revision(&olds), revision(&news))
    );
}

#[test]
fn reasons_display_as_kubernetes_shows_them() {
    for (reason, text) in [
        (Reason::InitialSync, "InitialSync"),
        (Reason::NewTag, "NewTag"),
        (Reason::TagUpdated, "TagUpdated"),
        (Reason::TagRemoved, "TagRemoved"),
        (Reason::LatestTagChanged, "LatestTagChanged"),
    ] {
        assert_eq!(reason.to_string(), text);
    }
}

proptest! {
    #[test]
    fn notes_always_fit_and_are_deterministic(
        added in prop::collection::vec("\\PC{0,300}", 0..40),
        removed in prop::collection::vec("[a-z]{0,80}", 0..40),
        latest in prop::option::of("\\PC{0,2000}"),
    ) {
        let changes = Changes {
            added: added.iter().map(|n| tag(n, "1")).collect(),
            removed: removed.iter().map(|n| tag(n, "1")).collect(),
            ..Changes::default()
        };
        let poll = outcome(&changes, None, latest.as_deref());
        let events = announcements(&poll);
        prop_assert_eq!(&events, &announcements(&poll));
        for event in &events {
            prop_assert!(event.note.len() <= NOTE_LIMIT_BYTES);
        }
        let expected = |n: usize| if n > AGGREGATE_ABOVE { 1 } else { n };
        let latest_changed = usize::from(latest.is_some());
        prop_assert_eq!(events.len(), expected(added.len()) + expected(removed.len()) + latest_changed);
    }
}
