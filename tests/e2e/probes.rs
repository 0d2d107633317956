//! End to end: polls probe the page holding the newest tags. A quiet scheduled poll asks
//! UHub exactly one request when it serves tags newest or oldest first, and lists every
//! page when it serves them in no known order; a push, a re-push, a removal and a mix
//! are each announced exactly once; a change no probe can see (an older tag's digest
//! changed in place) is announced by the periodic full listing; and an order that
//! changes under the operator is followed without announcing anything that did not
//! change. Every wait is for a scheduled poll: a requested poll lists every page.

use serde_json::json;
use tagwatch::api::v1alpha1::{ListingOrder, TagWatch};
use tagwatch::testing::env::{Env, IMAGE, NEXT_POLL, REPO};

/// 150 tags: two pages of 100.
const TAGS: usize = 150;

/// Tag `i` of [`TAGS`] (higher is newer), a minute apart.
fn tag(i: usize) -> (String, String) {
    let (hour, minute) = (i / 60, i % 60);
    (
        format!("v1.0.{i}"),
        format!("2026-10-01 {hour:02}:{minute:02}:00"),
    )
}

fn tags() -> Vec<(String, String)> {
    (0..TAGS).map(tag).collect()
}

/// An env whose image has [`TAGS`] tags served in `order`, with `operator_args`.
async fn env(prefix: &str, order: &str, operator_args: &[&str]) -> Env {
    let tags = tags();
    let tags: Vec<(&str, &str)> = tags.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    Env::builder(prefix)
        .tags(&tags)
        .order(order)
        .operator_args(operator_args)
        .start()
        .await
}

/// A TagWatch keeping every tag in status, Ready.
async fn ready(stack: &Env) -> TagWatch {
    stack
        .ready_tagwatch("web", json!({"historyLimit": 1000}))
        .await
}

/// The operator's metric `name` with `labels` (0 when absent).
async fn metric(stack: &Env, name: &str, labels: &[(&str, &str)]) -> f64 {
    let operator = stack.operator.as_ref().expect("the env's operator");
    let scrape = operator.scrape().await.expect("scrape the operator");
    scrape.value_or_zero(name, labels)
}

async fn polls(stack: &Env) -> f64 {
    metric(stack, "tagwatch_polls_total", &[("result", "Succeeded")]).await
}

/// What the next scheduled poll cost: UCloud requests, and the probes (unchanged,
/// changed) and full listings it made.
#[derive(Debug, PartialEq)]
struct Poll {
    requests: u64,
    probes_unchanged: f64,
    probes_changed: f64,
    full_listings: f64,
}

async fn counters(stack: &Env) -> Poll {
    let listings = |result| async move {
        metric(
            stack,
            "tagwatch_ucloud_listings_total",
            &[("kind", "probe"), ("result", result)],
        )
        .await
    };
    Poll {
        requests: stack.requests().await,
        probes_unchanged: listings("unchanged").await,
        probes_changed: listings("changed").await,
        full_listings: metric(stack, "tagwatch_full_listings_total", &[]).await,
    }
}

/// Waits for the next successful poll (one, at the 10 s interval) and returns what it
/// cost.
async fn next_poll(stack: &Env) -> Poll {
    let (before, counted) = (counters(stack).await, polls(stack).await);
    testkit::eventually("the next scheduled poll", NEXT_POLL, || async {
        let now = polls(stack).await;
        (now > counted)
            .then_some(())
            .ok_or_else(|| format!("{now} polls"))
    })
    .await;
    let after = counters(stack).await;
    Poll {
        requests: after.requests - before.requests,
        probes_unchanged: after.probes_unchanged - before.probes_unchanged,
        probes_changed: after.probes_changed - before.probes_changed,
        full_listings: after.full_listings - before.full_listings,
    }
}

const ONE_QUIET_PROBE: Poll = Poll {
    requests: 1,
    probes_unchanged: 1.0,
    probes_changed: 0.0,
    full_listings: 0.0,
};

fn listing_order(tw: &TagWatch) -> Option<ListingOrder> {
    Some(tw.status.as_ref()?.listing.as_ref()?.order)
}

#[tokio::test]
async fn a_quiet_poll_asks_one_request_when_the_order_is_known() {
    for (order, recorded, offset) in [
        ("newest", ListingOrder::NewestFirst, 0),
        ("oldest", ListingOrder::OldestFirst, 50),
    ] {
        let stack = env(&format!("probe-{order}"), order, &[]).await;
        let tw = ready(&stack).await;
        assert_eq!(listing_order(&tw), Some(recorded));
        let listing = tw.status.as_ref().unwrap().listing.clone().unwrap();
        assert_eq!(listing.total_count, TAGS as i64);
        assert_eq!(listing.newest_page.unwrap().offset, offset);
        for _ in 0..2 {
            assert_eq!(next_poll(&stack).await, ONE_QUIET_PROBE, "{order}");
        }
        assert_eq!(stack.notes("web", "InitialSync").await.len(), 1);
        assert_eq!(
            stack.events("web").await.len(),
            1,
            "nothing but InitialSync"
        );
    }
}

#[tokio::test]
async fn tags_in_no_known_order_are_listed_in_full_every_poll() {
    let stack = env("probe-name", "name", &[]).await;
    let tw = ready(&stack).await;
    assert_eq!(listing_order(&tw), Some(ListingOrder::Unordered));
    assert_eq!(
        tw.status
            .as_ref()
            .unwrap()
            .listing
            .as_ref()
            .unwrap()
            .newest_page,
        None
    );
    let unordered = || {
        metric(
            &stack,
            "tagwatch_full_listings_total",
            &[("reason", "unordered")],
        )
    };
    let before = unordered().await;
    let poll = next_poll(&stack).await;
    assert_eq!((poll.requests, poll.full_listings), (2, 1.0), "{poll:?}");
    assert_eq!(unordered().await - before, 1.0);
    stack.push("v9", None).await;
    let tw = stack
        .wait_until("web", "v9 in status", NEXT_POLL, |tw| {
            (tw.status.as_ref().and_then(|s| s.latest_tag.as_deref()) == Some("v9"))
                .then_some(())
                .ok_or("not yet".to_string())
        })
        .await;
    assert_eq!(tw.status.as_ref().unwrap().tag_count, Some(TAGS as i64 + 1));
    assert_eq!(stack.notes("web", "NewTag").await.len(), 1);
}

/// Waits until `check` holds of the TagWatch after scheduled polls.
async fn until(stack: &Env, what: &str, check: impl Fn(&TagWatch) -> bool) -> TagWatch {
    stack
        .wait_until("web", what, NEXT_POLL, |tw| {
            check(tw).then_some(()).ok_or_else(|| "not yet".to_string())
        })
        .await
}

fn tag_named<'a>(tw: &'a TagWatch, name: &str) -> Option<&'a tagwatch::api::v1alpha1::TagStatus> {
    tw.status.as_ref()?.tags.iter().find(|t| t.name == name)
}

#[tokio::test]
async fn pushes_re_pushes_removals_and_a_mix_are_each_announced_once() {
    let stack = env("probe-changes", "newest", &[]).await;
    ready(&stack).await;
    let emulator = &stack.emulator;

    // A push: a new, newest tag.
    stack.push("v2.0.0", None).await;
    until(&stack, "v2.0.0 recorded", |tw| {
        tag_named(tw, "v2.0.0").is_some()
    })
    .await;
    // A re-push of an old tag (second page): a new image, now the newest.
    emulator
        .put_tag(REPO, IMAGE, "v1.0.3", None, Some("sha256:rebuilt"))
        .await;
    until(&stack, "v1.0.3 re-pushed", |tw| {
        tag_named(tw, "v1.0.3").and_then(|t| t.digest.as_deref()) == Some("sha256:rebuilt")
    })
    .await;
    // A removal of an old tag, beyond the newest page: only TotalCount tells.
    assert!(emulator.delete_tag(REPO, IMAGE, "v1.0.7").await);
    until(&stack, "v1.0.7 removed", |tw| {
        tag_named(tw, "v1.0.7").is_none()
    })
    .await;
    // A mix: a push and a removal between two polls, TotalCount as before.
    assert!(emulator.delete_tag(REPO, IMAGE, "v1.0.9").await);
    stack.push("v2.1.0", None).await;
    let tw = until(&stack, "v1.0.9 gone and v2.1.0 in", |tw| {
        tag_named(tw, "v1.0.9").is_none() && tag_named(tw, "v2.1.0").is_some()
    })
    .await;
    assert_eq!(tw.status.as_ref().unwrap().tag_count, Some(TAGS as i64));

    // Polls after the changes find nothing new and announce nothing again.
    assert_eq!(next_poll(&stack).await, ONE_QUIET_PROBE);
    let notes = |reason| stack.notes("web", reason);
    let new_tags = notes("NewTag").await;
    assert_eq!(new_tags.len(), 2, "{new_tags:?}");
    assert!(new_tags[0].starts_with("new tag v2.0.0 "), "{new_tags:?}");
    assert!(new_tags[1].starts_with("new tag v2.1.0 "), "{new_tags:?}");
    let updated = notes("TagUpdated").await;
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert!(updated[0].starts_with("tag v1.0.3 updated"), "{updated:?}");
    assert_eq!(
        notes("TagRemoved").await,
        ["tag v1.0.7 removed", "tag v1.0.9 removed"]
    );
    assert_eq!(
        notes("LatestTagChanged").await,
        ["v1.0.149 -> v2.0.0", "v2.0.0 -> v1.0.3", "v1.0.3 -> v2.1.0"]
    );
}

#[tokio::test]
async fn a_change_no_probe_sees_is_announced_by_the_periodic_full_listing() {
    let stack = env("probe-periodic", "newest", &["--full-listing-every", "3"]).await;
    ready(&stack).await;
    // An old tag's digest changes in place: same UpdateTime, beyond the newest page.
    let (name, time) = tag(5);
    stack
        .emulator
        .put_tag(REPO, IMAGE, &name, Some(&time), Some("sha256:in-place"))
        .await;
    let poll = next_poll(&stack).await;
    if poll.full_listings == 0.0 {
        assert_eq!(poll, ONE_QUIET_PROBE, "the probe does not see it");
        let tw = stack.tagwatches().get("web").await.unwrap();
        assert_ne!(
            tag_named(&tw, &name).unwrap().digest.as_deref(),
            Some("sha256:in-place")
        );
    }
    let periodic = || {
        metric(
            &stack,
            "tagwatch_full_listings_total",
            &[("reason", "periodic")],
        )
    };
    let tw = until(&stack, "the in-place change recorded", |tw| {
        tag_named(tw, &name).and_then(|t| t.digest.as_deref()) == Some("sha256:in-place")
    })
    .await;
    assert!(periodic().await >= 1.0);
    assert_eq!(tag_named(&tw, &name).unwrap().update_time, time);
    let updated = stack.notes("web", "TagUpdated").await;
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert!(updated[0].contains("sha256:in-place"), "{updated:?}");
    assert!(stack.notes("web", "NewTag").await.is_empty());
}

#[tokio::test]
async fn an_order_that_changes_under_the_operator_is_followed() {
    let stack = env("probe-reorder", "newest", &[]).await;
    ready(&stack).await;

    // Oldest first now: the probe at offset 0 sees the oldest page, every page is
    // listed, and the newest page is recorded where it now is. Nothing changed.
    stack.emulator.set_order("oldest").await;
    let tw = until(&stack, "oldest first recorded", |tw| {
        listing_order(tw) == Some(ListingOrder::OldestFirst)
    })
    .await;
    let listing = tw.status.as_ref().unwrap().listing.clone().unwrap();
    assert_eq!(listing.newest_page.unwrap().offset, 50);
    assert_eq!(next_poll(&stack).await, ONE_QUIET_PROBE);
    stack.push("v2.0.0", None).await;
    until(&stack, "v2.0.0 recorded", |tw| {
        tag_named(tw, "v2.0.0").is_some()
    })
    .await;
    assert_eq!(next_poll(&stack).await, ONE_QUIET_PROBE);

    // By name now: no page is known to hold the newest tags; every poll lists them all.
    stack.emulator.set_order("name").await;
    until(&stack, "no known order recorded", |tw| {
        listing_order(tw) == Some(ListingOrder::Unordered)
    })
    .await;
    let poll = next_poll(&stack).await;
    assert_eq!((poll.requests, poll.full_listings), (2, 1.0), "{poll:?}");
    stack.push("v2.1.0", None).await;
    until(&stack, "v2.1.0 recorded", |tw| {
        tag_named(tw, "v2.1.0").is_some()
    })
    .await;

    // And back: newest first is found again by the next full listing.
    stack.emulator.set_order("newest").await;
    until(&stack, "newest first recorded", |tw| {
        listing_order(tw) == Some(ListingOrder::NewestFirst)
    })
    .await;
    assert_eq!(next_poll(&stack).await, ONE_QUIET_PROBE);

    let new_tags = stack.notes("web", "NewTag").await;
    assert_eq!(new_tags.len(), 2, "{new_tags:?}");
    let reasons: Vec<String> = stack
        .events("web")
        .await
        .into_iter()
        .map(|e| e.reason.unwrap_or_default())
        .collect();
    assert_eq!(
        reasons,
        [
            "InitialSync",
            "NewTag",
            "LatestTagChanged",
            "NewTag",
            "LatestTagChanged"
        ],
        "nothing announced for a change of order alone"
    );
}
