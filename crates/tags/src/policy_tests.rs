//! Tests of [`super::CompiledPolicy`].

use proptest::prelude::*;

use super::*;
use crate::test_support::tag;

fn tags(names: &[&str]) -> Vec<Tag> {
    names.iter().map(|n| tag(n, "100")).collect()
}

fn select(policy: Policy, tags: &[Tag]) -> Option<String> {
    CompiledPolicy::new(&policy)
        .unwrap()
        .select(tags)
        .map(|t| t.name.clone())
}

fn semver(range: Option<&str>) -> Policy {
    Policy::Semver {
        range: range.map(String::from),
    }
}

#[test]
fn every_policy_selects_nothing_from_nothing() {
    for policy in [
        Policy::Newest,
        semver(None),
        semver(Some(">=1")),
        Policy::Alphabetical { order: Order::Asc },
        Policy::Numerical { order: Order::Desc },
    ] {
        assert_eq!(select(policy, &[]), None);
    }
}

#[test]
fn newest_is_the_default_and_picks_the_first_in_newest_first_order() {
    assert_eq!(Policy::default(), Policy::Newest);
    let list = vec![
        tag("old", "2026-01-01 00:00:00"),
        tag("junk", "not a time"),
        tag("new", "2026-11-27T10:00:00Z"),
        tag("b-same", "2026-11-27 18:00:00"),
        tag("a-same", "2026-11-27 18:00:00"),
    ];
    // a-same, b-same and new are the same instant; the name breaks the tie.
    assert_eq!(select(Policy::Newest, &list), Some("a-same".into()));
    assert_eq!(
        select(Policy::Newest, &[tag("x", "garbage"), tag("y", "zzz")]),
        Some("y".into())
    );
}

#[test]
fn semver_without_range_is_the_highest_release() {
    let list = tags(&[
        "1.2.3",
        "v1.10.0",
        "2.0.0-rc.1",
        "latest",
        "1.9",
        "v2",
        "0.1.0",
    ]);
    assert_eq!(select(semver(None), &list), Some("v1.10.0".into()));
    assert_eq!(select(semver(None), &tags(&["2.0.0-rc.1", "x"])), None);
}

#[test]
fn semver_with_range() {
    let list = tags(&["1.2.3", "1.4.0", "v1.9.9", "2.0.0", "2.1.0-rc.1", "3.0.0"]);
    assert_eq!(
        select(semver(Some(">=1.2 <2")), &list),
        Some("v1.9.9".into())
    );
    assert_eq!(select(semver(Some("~1.2.0")), &list), Some("1.2.3".into()));
    assert_eq!(select(semver(Some("^2")), &list), Some("2.0.0".into()));
    assert_eq!(
        select(semver(Some(">=2.1.0-0 <3")), &list),
        Some("2.1.0-rc.1".into())
    );
    assert_eq!(
        select(semver(Some("^1.x-0 || >=3")), &list),
        Some("3.0.0".into())
    );
    assert_eq!(select(semver(Some(">=4")), &list), None);
}

#[test]
fn semver_range_errors_are_user_facing() {
    let err = CompiledPolicy::new(&semver(Some(">=1.2 <banana"))).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("invalid semver range \">=1.2 <banana\": "),
        "{message}"
    );
    assert!(matches!(err, PolicyError::SemverRange(_)));
}

#[test]
fn equal_versions_go_to_the_newer_tag() {
    let list = vec![
        tag("v1.0.0", "200"),
        tag("1.0.0", "100"),
        tag("1.0.0+b", "300"),
    ];
    assert_eq!(select(semver(None), &list), Some("1.0.0+b".into()));
    let list = vec![tag("v1.0.0", "200"), tag("1.0.0", "100")];
    assert_eq!(select(semver(None), &list), Some("v1.0.0".into()));
}

#[test]
fn alphabetical_follows_flux_asc_picks_the_greatest() {
    let list = tags(&[
        "RELEASE.2026-01-02",
        "RELEASE.2026-11-27",
        "RELEASE.2025-12-31",
    ]);
    let asc = Policy::Alphabetical { order: Order::Asc };
    let desc = Policy::Alphabetical { order: Order::Desc };
    assert_eq!(Order::default(), Order::Asc);
    assert_eq!(
        select(asc.clone(), &list),
        Some("RELEASE.2026-11-27".into())
    );
    assert_eq!(
        select(desc.clone(), &list),
        Some("RELEASE.2025-12-31".into())
    );
    // Byte-wise: upper case before lower case, multi-byte characters last.
    let mixed = tags(&["b", "B", "é", "a"]);
    assert_eq!(select(asc, &mixed), Some("é".into()));
    assert_eq!(select(desc, &mixed), Some("B".into()));
}

#[test]
fn numerical_follows_flux_and_ignores_non_numbers() {
    let list = tags(&[
        "10", "9", "100", "latest", "-3", "2.5", "1e2x", "NaN", "inf", "",
    ]);
    let asc = Policy::Numerical { order: Order::Asc };
    let desc = Policy::Numerical { order: Order::Desc };
    assert_eq!(select(asc.clone(), &list), Some("100".into()));
    assert_eq!(select(desc.clone(), &list), Some("-3".into()));
    assert_eq!(select(asc.clone(), &tags(&["latest", "v1"])), None);
    assert_eq!(select(asc, &tags(&["1e3", "999.5"])), Some("1e3".into()));
    assert_eq!(select(desc, &tags(&["0.5", ".25"])), Some(".25".into()));
}

#[test]
fn equal_numbers_go_to_the_newer_tag() {
    let list = vec![tag("01", "5"), tag("1", "9"), tag("1.0", "7")];
    let asc = Policy::Numerical { order: Order::Asc };
    assert_eq!(select(asc, &list), Some("1".into()));
}

#[test]
fn duplicate_names_go_to_the_newer_then_the_greater_digest() {
    let mut older = tag("v1", "100");
    older.digest = Some("sha256:ff".into());
    let mut newer = tag("v1", "200");
    newer.digest = Some("sha256:00".into());
    let mut same_time = tag("v1", "200");
    same_time.digest = Some("sha256:11".into());
    let list = vec![older, newer, same_time];
    let picked = CompiledPolicy::new(&Policy::Alphabetical { order: Order::Asc })
        .unwrap()
        .select(&list)
        .unwrap();
    assert_eq!(picked.digest.as_deref(), Some("sha256:11"));
}

fn arb_tag() -> impl Strategy<Value = Tag> {
    (
        prop::sample::select(vec![
            "1", "01", "v1.0.0", "1.0.0", "2.0.0-rc", "b", "a", "é",
        ]),
        0u8..4,
        prop::option::of(0u8..3),
    )
        .prop_map(|(name, time, digest)| Tag {
            name: name.to_string(),
            update_time: time.to_string(),
            digest: digest.map(|d| format!("sha256:{d}")),
        })
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::Newest),
        Just(semver(None)),
        Just(semver(Some(">=0.0.0-0"))),
        Just(Policy::Alphabetical { order: Order::Asc }),
        Just(Policy::Alphabetical { order: Order::Desc }),
        Just(Policy::Numerical { order: Order::Asc }),
        Just(Policy::Numerical { order: Order::Desc }),
    ]
}

proptest! {
    #[test]
    fn the_pick_does_not_depend_on_input_order(
        list in prop::collection::vec(arb_tag(), 0..12),
        policy in arb_policy(),
        rotate in 0usize..12,
    ) {
        let compiled = CompiledPolicy::new(&policy).unwrap();
        let mut reordered = list.clone();
        reordered.reverse();
        if !reordered.is_empty() {
            let by = rotate % reordered.len();
            reordered.rotate_left(by);
        }
        let picked = compiled.select(&list);
        prop_assert_eq!(picked, compiled.select(&reordered));
        if let Some(picked) = picked {
            prop_assert!(list.contains(picked));
        }
    }
}

/// A cosign signature pushed after the image it signs: by default it is no tag at all
/// for any policy (neither the latest nor a new tag); tracked only when asked for.
#[test]
fn a_pushed_signature_tag_changes_neither_the_latest_tag_nor_the_announcements() {
    use crate::announce::announcements;
    use crate::filter::TagFilter;
    use crate::observe::{Previous, Selection, observe};
    use crate::snapshot::Snapshot;

    let before = vec![
        tag("v1.1.0", "2026-11-02 10:00:00"),
        tag("v1.0.0", "2026-11-01 10:00:00"),
    ];
    let signature = format!("sha256-{}.sig", "ab".repeat(32));
    let mut listed = vec![tag(&signature, "2026-11-03 10:00:00")];
    listed.extend(before.iter().cloned());
    for policy in [
        Policy::Newest,
        semver(None),
        Policy::Alphabetical { order: Order::Asc },
        Policy::Alphabetical { order: Order::Desc },
        Policy::Numerical { order: Order::Asc },
    ] {
        let compiled = CompiledPolicy::new(&policy).unwrap();
        let latest_before = compiled.select(&before).map(|t| t.name.clone());
        let previous = Previous {
            snapshot: Some(Snapshot {
                window: &before,
                tag_count: before.len(),
            }),
            latest: latest_before.as_deref(),
            revision: None,
        };
        let selection = |signatures: bool| Selection {
            filter: TagFilter::new(None, &[])
                .unwrap()
                .with_signatures(signatures),
            policy: compiled.clone(),
        };
        let seen = observe(&selection(false), listed.clone(), 3, previous);
        assert_eq!(seen.tracked, before, "{policy:?}");
        assert_eq!(seen.latest_name(), latest_before.as_deref(), "{policy:?}");
        assert!(seen.changes.added.is_empty(), "{policy:?}");
        assert!(announcements(&seen).is_empty(), "{policy:?}");
        assert_eq!(seen.upstream_total, 3, "UHub's count still includes it");

        let tracked = observe(&selection(true), listed.clone(), 3, previous);
        assert_eq!(tracked.changes.added.len(), 1, "{policy:?}");
        assert_eq!(tracked.changes.added[0].name, signature);
    }
    let newest = Selection {
        filter: TagFilter::new(None, &[]).unwrap().with_signatures(true),
        policy: CompiledPolicy::new(&Policy::Newest).unwrap(),
    };
    let seen = observe(&newest, listed, 3, Previous::default());
    assert_eq!(seen.latest_name(), Some(signature.as_str()));
}
