use tags::announce::Reason as Announced;
use tags::observe::{Observation, observe};
use uhub::probe::{NewestPage, Order};

use super::*;
use crate::api::conditions::{READY, STALLED, find};
use crate::controller::events::Reason;
use crate::controller::failure::FailureReason;
use crate::controller::spec::selection;

const HOST: &str = crate::controller::context::DEFAULT_REGISTRY_HOST;

fn time(seconds: i64) -> Time {
    Time(jiff::Timestamp::from_second(seconds).unwrap())
}

fn tagwatch(spec: serde_json::Value) -> TagWatch {
    TagWatch::test().with_spec(spec)
}

fn tag(name: &str, minute: u32) -> Tag {
    Tag {
        name: name.into(),
        update_time: format!("2026-11-27 10:{minute:02}:00"),
        digest: None,
    }
}

fn reasons(events: &[Draft]) -> Vec<Reason> {
    events.iter().map(|a| a.reason).collect()
}

/// What a poll of `tw` that lists `tags` sees.
fn seen(tw: &TagWatch, tags: Vec<Tag>) -> Observation {
    let total = tags.len() as u64;
    observe(
        &selection(&tw.spec).unwrap(),
        tags,
        total,
        Recorded::of(tw).previous(),
    )
}

/// A newest-first full listing that saw `seen`, its whole list on one page.
fn listed(seen: Observation) -> Listed {
    Listed {
        newest_page: Some(NewestPage {
            offset: 0,
            total_count: seen.upstream_total,
            digest: seen.revision.clone(),
        }),
        order: Order::NewestFirst,
        seen,
    }
}

/// What a full listing of `tw` that finds `tags` at `at` leaves.
fn listing(tw: &TagWatch, tags: Vec<Tag>, at: i64) -> Outcome {
    after_listing(tw, &listed(seen(tw, tags)), HOST, &time(at))
}

fn poll(tw: &mut TagWatch, tags: Vec<Tag>, at: i64) -> Vec<Draft> {
    let outcome = listing(tw, tags, at);
    tw.status = Some(outcome.status);
    outcome.events
}

fn fail(tw: &TagWatch, reason: FailureReason, message: &str, at: i64) -> Outcome {
    let failure = PollFailure {
        reason,
        message: message.into(),
    };
    after_failure(tw, &failure, &time(at))
}

#[test]
fn initial_sync_announces_once_and_fills_status() {
    let mut tw = tagwatch(serde_json::json!({"historyLimit": 2}));
    let events = poll(&mut tw, vec![tag("v1", 1), tag("v3", 3), tag("v2", 2)], 100);
    assert_eq!(
        reasons(&events),
        [Reason::Announced(Announced::InitialSync)]
    );
    let status = tw.status.as_ref().unwrap();
    let names: Vec<_> = status.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["v3", "v2"]);
    assert_eq!(
        (status.tag_count, status.upstream_tag_count),
        (Some(3), Some(3))
    );
    assert_eq!(status.latest_tag.as_deref(), Some("v3"));
    assert_eq!(
        status.latest_update_time.as_deref(),
        Some("2026-11-27 10:03:00")
    );
    assert!(status.revision.as_deref().unwrap().starts_with("sha256:"));
    assert_eq!(status.last_sync_time, Some(time(100)));
    assert_eq!(status.observed_generation, Some(1));
    let ready = find(&status.conditions, READY).unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("True", "Succeeded")
    );
    assert_eq!(ready.message, "found 3 tags, latest v3");
}

#[test]
fn the_latest_tag_is_given_as_an_image_reference_with_its_digest() {
    // TagWatch::test() watches demo/web.
    let mut tw = tagwatch(serde_json::json!({"policy": {"semver": {}}}));
    let digest = "sha256:".to_string() + &"1".repeat(64);
    let v2 = tag("v2.0.0", 2).with_digest(&digest);
    poll(
        &mut tw,
        vec![tag("v1.0.0", 1), v2, tag("v3.0.0-rc.1", 3)],
        100,
    );
    let status = tw.status.as_ref().unwrap();
    assert_eq!(status.latest_tag.as_deref(), Some("v2.0.0"));
    assert_eq!(
        status.latest_image.as_deref(),
        Some("uhub.service.ucloud.cn/demo/web:v2.0.0")
    );
    assert_eq!(status.latest_digest.as_deref(), Some(digest.as_str()));

    // The host is the operator's setting.
    let outcome = after_listing(
        &tw,
        &listed(seen(&tw, vec![tag("v1.0.0", 1)])),
        "registry.example:5000",
        &time(200),
    );
    assert_eq!(
        outcome.status.latest_image.as_deref(),
        Some("registry.example:5000/demo/web:v1.0.0")
    );
    assert_eq!(
        outcome.status.latest_digest, None,
        "v1 came without a digest"
    );

    // No latest tag, no image and no digest.
    let outcome = after_listing(
        &tw,
        &listed(seen(&tw, vec![tag("latest", 4)])),
        HOST,
        &time(300),
    );
    assert_eq!(outcome.status.latest_tag, None);
    assert_eq!(
        (outcome.status.latest_image, outcome.status.latest_digest),
        (None, None)
    );

    // A failed poll and a probe that found nothing new keep them as they were.
    let failed = fail(&tw, FailureReason::Throttled, "throttled", 400).status;
    assert_eq!(failed.latest_image, status.latest_image);
    assert_eq!(failed.latest_digest, status.latest_digest);
    let probed = after_probe(&tw, &time(400), None).status;
    assert_eq!(probed.latest_image, status.latest_image);
    assert_eq!(probed.latest_digest, status.latest_digest);
}

#[test]
fn a_signature_tag_is_not_tracked_unless_the_filter_asks_for_it() {
    let signature = format!("sha256-{}.sig", "0".repeat(64));
    let mut tw = tagwatch(serde_json::json!({}));
    poll(&mut tw, vec![tag("v1", 1)], 100);
    let events = poll(&mut tw, vec![tag("v1", 1), tag(&signature, 2)], 200);
    assert!(events.is_empty(), "{events:?}");
    let status = tw.status.as_ref().unwrap();
    assert_eq!(status.latest_tag.as_deref(), Some("v1"));
    assert_eq!(
        (status.tag_count, status.upstream_tag_count),
        (Some(1), Some(2))
    );

    let mut tw = tagwatch(serde_json::json!({"filter": {"includeSignatures": true}}));
    poll(&mut tw, vec![tag("v1", 1)], 100);
    let events = poll(&mut tw, vec![tag("v1", 1), tag(&signature, 2)], 200);
    assert_eq!(
        reasons(&events),
        [
            Reason::Announced(Announced::NewTag),
            Reason::Announced(Announced::LatestTagChanged)
        ]
    );
}

#[test]
fn later_polls_announce_changes_and_quiet_polls_announce_nothing() {
    let mut tw = tagwatch(serde_json::json!({}));
    poll(&mut tw, vec![tag("v1", 1), tag("v2", 2)], 100);
    let revision = tw.status.as_ref().unwrap().revision.clone();
    assert!(poll(&mut tw, vec![tag("v1", 1), tag("v2", 2)], 200).is_empty());
    assert_eq!(tw.status.as_ref().unwrap().revision, revision);

    let events = poll(&mut tw, vec![tag("v2", 2), tag("v3", 3)], 300);
    assert_eq!(
        reasons(&events),
        [
            Reason::Announced(Announced::NewTag),
            Reason::Announced(Announced::TagRemoved),
            Reason::Announced(Announced::LatestTagChanged)
        ]
    );
    assert!(events[0].note.contains("v3"));
    assert!(events[2].note.contains("v2 -> v3"));
    assert_ne!(tw.status.as_ref().unwrap().revision, revision);
}

#[test]
fn filter_and_policy_choose_what_is_tracked_and_latest() {
    let mut tw = tagwatch(serde_json::json!({
        "filter": {"include": "^v", "exclude": ["-rc"]},
        "policy": {"semver": {"range": ">=1.0 <2"}}
    }));
    let tags = vec![
        tag("v2.0.0", 5),
        tag("v1.4.0", 1),
        tag("v1.5.0-rc", 4),
        tag("latest", 6),
        tag("v1.10.0", 2),
    ];
    poll(&mut tw, tags, 100);
    let status = tw.status.as_ref().unwrap();
    assert_eq!(status.tag_count, Some(3));
    assert_eq!(status.upstream_tag_count, Some(5));
    assert_eq!(status.latest_tag.as_deref(), Some("v1.10.0"));
    assert_eq!(
        status.latest_update_time.as_deref(),
        Some("2026-11-27 10:05:00")
    );
}

#[test]
fn alphabetical_and_numerical_orders_map_to_the_policy() {
    let mut tw = tagwatch(serde_json::json!({"policy": {"numerical": {"order": "desc"}}}));
    poll(&mut tw, vec![tag("10", 1), tag("9", 2), tag("x", 3)], 1);
    assert_eq!(tw.status.as_ref().unwrap().latest_tag.as_deref(), Some("9"));
    let mut tw = tagwatch(serde_json::json!({"policy": {"alphabetical": {}}}));
    poll(&mut tw, vec![tag("a", 1), tag("c", 2), tag("b", 3)], 1);
    assert_eq!(tw.status.as_ref().unwrap().latest_tag.as_deref(), Some("c"));
}

#[test]
fn failures_keep_tags_and_report_each_failure_once() {
    let mut tw = tagwatch(serde_json::json!({}));
    poll(&mut tw, vec![tag("v1", 1)], 100);
    let good = tw.status.clone().unwrap();

    let Outcome { status, events } = fail(&tw, FailureReason::Throttled, "slow down", 200);
    assert_eq!(reasons(&events), [Reason::SyncFailed]);
    assert_eq!(
        (&status.tags, status.tag_count, &status.revision),
        (&good.tags, good.tag_count, &good.revision)
    );
    assert_eq!(status.last_sync_time, good.last_sync_time);
    let ready = find(&status.conditions, READY).unwrap();
    assert_eq!(
        (
            ready.status.as_str(),
            ready.reason.as_str(),
            ready.message.as_str()
        ),
        ("False", "Throttled", "slow down")
    );
    tw.status = Some(status);

    let Outcome { status, events } = fail(&tw, FailureReason::Throttled, "slow down", 300);
    assert!(
        events.is_empty(),
        "a repeated failure is not announced again"
    );
    tw.status = Some(status);
    let events = fail(&tw, FailureReason::UpstreamUnavailable, "502", 400).events;
    assert_eq!(reasons(&events), [Reason::SyncFailed]);
}

#[test]
fn the_same_failure_after_a_recovery_gets_a_new_event_key() {
    let mut tw = tagwatch(serde_json::json!({}));
    poll(&mut tw, vec![tag("v1", 1)], 100);
    let first = fail(&tw, FailureReason::Throttled, "slow down", 150).events;
    poll(&mut tw, vec![tag("v1", 1)], 200);
    let second = fail(&tw, FailureReason::Throttled, "slow down", 250).events;
    assert_ne!(first[0].key, second[0].key);
}

#[test]
fn generation_and_reconcile_request_are_echoed() {
    let mut tw = tagwatch(serde_json::json!({}));
    tw = tw.generation(7).requesting_poll("now-1");
    let status = fail(&tw, FailureReason::InvalidSpec, "bad", 1).status;
    assert_eq!(status.observed_generation, Some(7));
    assert_eq!(status.last_handled_reconcile_at.as_deref(), Some("now-1"));
    let stalled = find(&status.conditions, STALLED).unwrap();
    assert_eq!(stalled.status, "True");
}

#[test]
fn a_poll_that_changed_nothing_writes_only_when_last_sync_time_is_stale() {
    let refresh = std::time::Duration::from_secs(600);
    let tags = || vec![tag("v1", 1), tag("v2", 2)];
    let quiet = |tw: &TagWatch, at| listing(tw, tags(), at).status;
    let mut tw = tagwatch(serde_json::json!({}));
    poll(&mut tw, tags(), 100);
    let first = tw.status.clone().unwrap();
    assert!(
        needs_write(None, &first, refresh),
        "the first sync is written"
    );
    assert!(!needs_write(Some(&first), &quiet(&tw, 160), refresh));
    assert!(!needs_write(Some(&first), &quiet(&tw, 699), refresh));
    assert!(
        needs_write(Some(&first), &quiet(&tw, 700), refresh),
        "refresh due"
    );
    assert!(needs_write(
        Some(&first),
        &quiet(&tw, 160),
        std::time::Duration::ZERO
    ));

    // The cached TagWatch holds no tags: a full listing of the same set is no change.
    let mut cached = first.clone();
    cached.tags = Vec::new();
    assert!(!needs_write(Some(&cached), &quiet(&tw, 160), refresh));
    assert!(needs_write(Some(&cached), &quiet(&tw, 700), refresh));

    let changed = listing(&tw, vec![tag("v3", 3)], 160).status;
    assert!(
        needs_write(Some(&cached), &changed, refresh),
        "new tags are written, also over a cached status"
    );
    assert!(
        needs_write(Some(&first), &changed, refresh),
        "new tags are written"
    );

    // A failure is written once; the same failure again changes nothing.
    let failed = fail(&tw, FailureReason::Throttled, "slow down", 160).status;
    assert!(needs_write(Some(&first), &failed, refresh));
    tw.status = Some(failed.clone());
    let again = fail(&tw, FailureReason::Throttled, "slow down", 220).status;
    assert!(!needs_write(Some(&failed), &again, refresh));
    // The recovery after it is written.
    assert!(needs_write(Some(&failed), &quiet(&tw, 280), refresh));

    // A spec change (new observedGeneration) is written.
    tw.status = Some(first.clone());
    tw = tw.generation(2);
    assert!(needs_write(Some(&first), &quiet(&tw, 160), refresh));
}

#[test]
fn no_poll_keeps_the_status_and_publishes_nothing() {
    let mut tw = tagwatch(serde_json::json!({}));
    assert_eq!(unchanged(&tw).status, TagWatchStatus::default());
    poll(&mut tw, vec![tag("v1", 1)], 100);
    let outcome = unchanged(&tw);
    assert_eq!(Some(&outcome.status), tw.status.as_ref());
    assert!(outcome.events.is_empty());
}

#[test]
fn the_first_observation_of_a_tagwatch_is_initial_and_later_ones_are_not() {
    let mut tw = tagwatch(serde_json::json!({}));
    assert!(seen(&tw, vec![tag("v1", 1)]).changes.initial);
    poll(&mut tw, vec![tag("v1", 1)], 100);
    let later = seen(&tw, vec![tag("v1", 1), tag("v2", 2)]);
    assert!(!later.changes.initial);
    assert_eq!(later.changes.added, [tag("v2", 2)]);
    assert_eq!(later.previous_latest.as_deref(), Some("v1"));
}

#[test]
fn a_full_listing_records_what_the_next_probe_compares_with() {
    let mut tw = tagwatch(serde_json::json!({})).generation(4);
    poll(&mut tw, vec![tag("v1", 1), tag("v2", 2)], 100);
    let recorded = tw.status.as_ref().unwrap().listing.clone().unwrap();
    assert_eq!(
        recorded.order,
        crate::api::v1alpha1::ListingOrder::NewestFirst
    );
    assert_eq!(recorded.total_count, 2);
    assert_eq!(recorded.observed_generation, Some(4));
    assert_eq!(recorded.time, time(100));
    let page = recorded.newest_page.unwrap();
    assert_eq!(page.offset, 0);
    assert_eq!(Some(page.digest), tw.status.as_ref().unwrap().revision);
}

#[test]
fn a_probe_that_found_nothing_keeps_the_record_and_reports_ready() {
    let refresh = std::time::Duration::from_secs(600);
    let mut tw = tagwatch(serde_json::json!({}));
    poll(&mut tw, vec![tag("v1", 1), tag("v2", 2)], 100);
    let first = tw.status.clone().unwrap();
    let probed = after_probe(&tw, &time(160), None);
    assert!(probed.events.is_empty());
    let status = &probed.status;
    assert_eq!(
        (
            &status.tags,
            status.tag_count,
            &status.revision,
            &status.listing
        ),
        (
            &first.tags,
            first.tag_count,
            &first.revision,
            &first.listing
        )
    );
    assert_eq!(status.last_sync_time, Some(time(160)));
    assert!(!needs_write(Some(&first), status, refresh));
    assert!(needs_write(
        Some(&first),
        &after_probe(&tw, &time(700), None).status,
        refresh
    ));

    // After a failure, a probe that finds nothing new is a recovery: written.
    let failed = fail(&tw, FailureReason::Throttled, "slow down", 200).status;
    tw.status = Some(failed.clone());
    let recovered = after_probe(&tw, &time(260), None).status;
    let ready = find(&recovered.conditions, READY).unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.message.as_str()),
        ("True", "found 2 tags, latest v2")
    );
    assert!(needs_write(Some(&failed), &recovered, refresh));
}

#[test]
fn the_time_of_a_full_listing_alone_is_no_reason_to_write() {
    let refresh = std::time::Duration::from_secs(600);
    let mut tw = tagwatch(serde_json::json!({}));
    poll(&mut tw, vec![tag("v1", 1), tag("v2", 2)], 100);
    let first = tw.status.clone().unwrap();
    // A later full listing that found the same: only its time differs.
    let relisted = listing(&tw, vec![tag("v1", 1), tag("v2", 2)], 400).status;
    assert_eq!(relisted.listing.as_ref().unwrap().time, time(400));
    assert!(!needs_write(Some(&first), &relisted, refresh));
    // A probe carries the remembered time of the last full listing into the next write.
    let later = jiff::Timestamp::from_second(400).unwrap();
    let probed = after_probe(&tw, &time(700), Some(later)).status;
    assert_eq!(probed.listing.as_ref().unwrap().time, time(400));
    let older = jiff::Timestamp::from_second(50).unwrap();
    let probed = after_probe(&tw, &time(700), Some(older)).status;
    assert_eq!(probed.listing.as_ref().unwrap().time, time(100));
    // Another order or page is written.
    let mut reordered = listed(seen(&tw, vec![tag("v1", 1), tag("v2", 2)]));
    reordered.order = Order::Unordered;
    reordered.newest_page = None;
    let status = after_listing(&tw, &reordered, HOST, &time(400)).status;
    assert!(needs_write(Some(&first), &status, refresh));
}
