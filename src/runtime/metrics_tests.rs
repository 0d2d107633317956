//! Tests of [`super::Metrics`]: what the OpenMetrics text holds after each kind of record.

use kube::runtime::reflector::store;
use kube::runtime::watcher::Event;

use super::*;
use crate::api::v1alpha1::TagWatch;
use uhub::ErrorKind;

/// The value of the sample line starting with `series` (name and labels, exactly).
pub(super) fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(value.parse().expect("a number"))
    })
}

fn outcome(action: &str) -> RequestOutcome<'_> {
    RequestOutcome {
        action,
        attempt: 0,
        http_status: Some(200),
        ret_code: Some(0),
        error: None,
        latency: Duration::from_millis(30),
        rate_limit_wait: Duration::from_millis(2),
    }
}

#[test]
fn every_family_is_described_and_the_text_is_openmetrics() {
    let metrics = Metrics::new();
    let text = metrics.encode(&Caches::default());
    // Families with labels that depend on requests appear with the first request.
    assert!(!text.contains("tagwatch_ucloud_requests"), "{text}");
    metrics.observe(&outcome("GetImageTag"));
    let text = metrics.encode(&Caches::default());
    for (name, kind) in [
        ("tagwatch_build", "info"),
        ("tagwatch_polls", "counter"),
        ("tagwatch_poll_duration_seconds", "histogram"),
        ("tagwatch_poll_schedule_lag_seconds", "histogram"),
        ("tagwatch_ucloud_requests", "counter"),
        ("tagwatch_ucloud_request_duration_seconds", "histogram"),
        ("tagwatch_ucloud_rate_limit_wait_seconds", "histogram"),
        ("tagwatch_ucloud_listings", "counter"),
        ("tagwatch_full_listings", "counter"),
        ("tagwatch_new_tags", "counter"),
        ("tagwatch_tags_tracked", "gauge"),
        ("tagwatch_tagwatches", "gauge"),
        ("tagwatch_leader", "gauge"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "{name} {kind} missing:\n{text}"
        );
        assert!(text.contains(&format!("# HELP {name} ")), "{name}");
    }
    assert!(text.ends_with("# EOF\n"), "{text}");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        sample(
            &text,
            &format!("tagwatch_build_info{{version=\"{version}\"}}")
        ),
        Some(1.0)
    );
    // Every poll result and Ready status is present before anything happened.
    assert_eq!(
        sample(&text, "tagwatch_polls_total{result=\"Succeeded\"}"),
        Some(0.0)
    );
    for reason in FailureReason::VARIANTS {
        let series = format!("tagwatch_polls_total{{result=\"{reason}\"}}");
        assert_eq!(sample(&text, &series), Some(0.0), "{series}");
    }
    assert_eq!(
        sample(&text, "tagwatch_tagwatches{ready=\"Unknown\"}"),
        Some(0.0)
    );
    assert_eq!(sample(&text, "tagwatch_leader"), Some(0.0));
}

#[test]
fn polls_count_by_result_and_time_their_duration() {
    let metrics = Metrics::new();
    metrics.poll(None, Duration::from_millis(20));
    metrics.poll(None, Duration::from_millis(20));
    metrics.poll(Some(FailureReason::Throttled), Duration::from_secs(3));
    let text = metrics.encode(&Caches::default());
    assert_eq!(
        sample(&text, "tagwatch_polls_total{result=\"Succeeded\"}"),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, "tagwatch_polls_total{result=\"Throttled\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "tagwatch_poll_duration_seconds_count"),
        Some(3.0)
    );
    let sum = sample(&text, "tagwatch_poll_duration_seconds_sum").unwrap();
    assert!((sum - 3.04).abs() < 1e-9, "{sum}");
    assert_eq!(
        sample(&text, "tagwatch_poll_duration_seconds_bucket{le=\"0.02\"}"),
        Some(2.0)
    );
}

#[test]
fn ucloud_requests_count_by_action_result_ret_code_and_status() {
    let metrics = Metrics::new();
    metrics.observe(&outcome("GetImageTag"));
    metrics.observe(&outcome("GetImageTag"));
    let mut throttled = outcome("GetImageTag");
    throttled.ret_code = Some(153);
    throttled.error = Some(ErrorKind::Throttled);
    throttled.rate_limit_wait = Duration::from_secs(2);
    metrics.observe(&throttled);
    let mut unreachable = outcome("GetImageTag");
    unreachable.http_status = None;
    unreachable.ret_code = None;
    unreachable.error = Some(ErrorKind::Unavailable);
    metrics.observe(&unreachable);
    let text = metrics.encode(&Caches::default());
    let series = |result: &str, code: &str, status: &str| {
        format!(
            "tagwatch_ucloud_requests_total{{action=\"GetImageTag\",result=\"{result}\",ret_code=\"{code}\",http_status=\"{status}\"}}"
        )
    };
    assert_eq!(sample(&text, &series("success", "0", "200")), Some(2.0));
    assert_eq!(sample(&text, &series("throttled", "153", "200")), Some(1.0));
    assert_eq!(
        sample(&text, &series("unavailable", "none", "none")),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "tagwatch_ucloud_request_duration_seconds_count{action=\"GetImageTag\"}"
        ),
        Some(4.0)
    );
    assert_eq!(
        sample(&text, "tagwatch_ucloud_rate_limit_wait_seconds_count"),
        Some(4.0)
    );
    assert_eq!(
        sample(
            &text,
            "tagwatch_ucloud_rate_limit_wait_seconds_bucket{le=\"0.001\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            "tagwatch_ucloud_rate_limit_wait_seconds_bucket{le=\"0.004\"}"
        ),
        Some(3.0)
    );
}

#[test]
fn probes_and_full_listings_count_apart() {
    let metrics = Metrics::new();
    let text = metrics.encode(&Caches::default());
    for kind in ListingKind::VARIANTS {
        for result in ListingResult::VARIANTS {
            let series =
                format!("tagwatch_ucloud_listings_total{{kind=\"{kind}\",result=\"{result}\"}}");
            assert_eq!(sample(&text, &series), Some(0.0), "{series}");
        }
    }
    for reason in FullReason::VARIANTS {
        let series = format!("tagwatch_full_listings_total{{reason=\"{reason}\"}}");
        assert_eq!(sample(&text, &series), Some(0.0), "{series}");
    }
    metrics.listing(ListingKind::Probe, ListingResult::Unchanged);
    metrics.listing(ListingKind::Probe, ListingResult::Unchanged);
    metrics.listing(ListingKind::Probe, ListingResult::Changed);
    metrics.full_listing(FullReason::ProbeChanged);
    metrics.listing(ListingKind::Full, ListingResult::Changed);
    let text = metrics.encode(&Caches::default());
    let listings = |kind: &str, result: &str| {
        let series =
            format!("tagwatch_ucloud_listings_total{{kind=\"{kind}\",result=\"{result}\"}}");
        sample(&text, &series)
    };
    assert_eq!(listings("probe", "unchanged"), Some(2.0));
    assert_eq!(listings("probe", "changed"), Some(1.0));
    assert_eq!(listings("full", "changed"), Some(1.0));
    assert_eq!(listings("full", "failed"), Some(0.0));
    assert_eq!(
        sample(
            &text,
            "tagwatch_full_listings_total{reason=\"probe_changed\"}"
        ),
        Some(1.0)
    );
}

#[test]
fn new_tags_and_leadership() {
    let metrics = Metrics::new();
    metrics.new_tags(1);
    metrics.new_tags(7);
    metrics.new_tags(0);
    metrics.set_leader(true);
    let text = metrics.encode(&Caches::default());
    assert_eq!(sample(&text, "tagwatch_new_tags_total"), Some(8.0));
    assert_eq!(sample(&text, "tagwatch_leader"), Some(1.0));
    metrics.set_leader(false);
    let text = metrics.encode(&Caches::default());
    assert_eq!(sample(&text, "tagwatch_leader"), Some(0.0));
}

#[test]
fn tagwatch_gauges_follow_the_caches() {
    let ready_tagwatch = |name: &str, tags: i64| {
        TagWatch::test()
            .named(name)
            .in_namespace("ns")
            .ready()
            .tag_count(Some(tags))
    };
    let metrics = Metrics::new();
    let caches = Caches::default();
    let (reader, mut writer) = store::<TagWatch>();
    caches.add(reader);
    let first = ready_tagwatch("a", 5);
    for event in [
        Event::Init,
        Event::InitApply(first.clone()),
        Event::InitApply(ready_tagwatch("b", 2)),
        Event::InitDone,
    ] {
        writer.apply_watcher_event(&event);
    }
    let text = metrics.encode(&caches);
    assert_eq!(
        sample(&text, "tagwatch_tagwatches{ready=\"True\"}"),
        Some(2.0)
    );
    assert_eq!(sample(&text, "tagwatch_tags_tracked"), Some(7.0));
    writer.apply_watcher_event(&Event::Delete(first));
    let text = metrics.encode(&caches);
    assert_eq!(
        sample(&text, "tagwatch_tagwatches{ready=\"True\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "tagwatch_tagwatches{ready=\"False\"}"),
        Some(0.0)
    );
    assert_eq!(sample(&text, "tagwatch_tags_tracked"), Some(2.0));
}

#[test]
fn notification_deliveries_are_counted() {
    use crate::notify::observe::{AttemptLabel, DeliveryObserver};
    use crate::notify::pending::GiveUp;
    let metrics = Metrics::new();
    let before = metrics.encode(&Default::default());
    assert!(
        before.contains("tagwatch_notification_deliveries_total{result=\"delivered\"} 0"),
        "{before}"
    );
    metrics.attempt(
        AttemptLabel::Delivered,
        std::time::Duration::from_millis(20),
    );
    metrics.given_up(GiveUp::Expired);
    metrics.pending(3);
    let after = metrics.encode(&Default::default());
    assert!(
        after.contains("tagwatch_notification_deliveries_total{result=\"delivered\"} 1"),
        "{after}"
    );
    assert!(
        after.contains("tagwatch_notifications_given_up_total{reason=\"expired\"} 1"),
        "{after}"
    );
    assert!(
        after.contains("tagwatch_notifications_pending 3"),
        "{after}"
    );
    assert!(
        after.contains("tagwatch_notification_delivery_duration_seconds_count 1"),
        "{after}"
    );
}

#[test]
fn schedule_lag_has_fine_buckets_below_two_seconds() {
    let metrics = Metrics::new();
    for millis in [3, 40, 40, 900, 1500, 7000] {
        metrics.schedule_lag(Duration::from_millis(millis));
    }
    let text = metrics.encode(&Caches::default());
    for (le, count) in [
        ("0.005", 1.0),
        ("0.05", 3.0),
        ("1.0", 4.0),
        ("2.0", 5.0),
        ("10.0", 6.0),
    ] {
        assert_eq!(
            sample(
                &text,
                &format!("tagwatch_poll_schedule_lag_seconds_bucket{{le=\"{le}\"}}")
            ),
            Some(count),
            "le={le}"
        );
    }
}
