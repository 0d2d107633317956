//! The scale benchmark's small configuration as a test: 100 TagWatches at a short
//! interval, run exactly as `make bench-scale` runs the large ones, checking the counts
//! (never the timings): every TagWatch syncs with a full listing of exactly the pages
//! its tag list needs, a poll that finds nothing new asks UCloud exactly one request
//! (a probe) and writes nothing to the apiserver, a poll after a push lists every page
//! (starting from the probed first page), and every pushed tag gives exactly one NewTag
//! event and one status patch. Periodic full listings (every 100 polls by default) do
//! not fall within a run.
//!
//! The interval is long enough that the sync phase (100 first polls, up to 1,000
//! UCloud requests) ends before any TagWatch is due again, even on a loaded CI machine
//! (sync took 15 s there with the 1,000-tag lists): the sync counts are then exact.

use std::time::Duration;

use tagwatch::testing::scale::{Config, PAGE_SIZE, Phase, Variant};

fn config(tags: u32) -> Config {
    Config {
        variant: Variant::Probes,
        tagwatches: 100,
        tags,
        interval: Duration::from_secs(30),
        pushes: 20,
        ucloud_qps: 1000,
        concurrency: 16,
        history_limit: None,
        log_level: "info".into(),
        python: None,
        python_images: 0,
        settle: true,
    }
}

/// Every poll of `phase` succeeded; UCloud was asked exactly one request per probe and
/// `pages` per full listing, less the first page of listings that started from a probe.
fn requests_are_exact(phase: &Phase, pages: u64, what: &str) {
    let c = &phase.counts;
    assert!(c.polls > 0.0, "{what}: no polls");
    assert_eq!(c.failed_polls, 0.0, "{what}: failed polls");
    let probes = c.probes_unchanged + c.probes_changed;
    assert_eq!(
        c.ucloud_requests as f64,
        probes + c.full_listings * pages as f64 - c.probes_changed,
        "{what}: UCloud requests for {probes} probes ({} changed) and {} full listings of {pages} pages",
        c.probes_changed,
        c.full_listings
    );
}

async fn counts_hold(tags: u32) {
    let config = config(tags);
    let report = tagwatch::testing::scale::run(&config).await;
    let details = report.details();
    let pages = config.pages();
    // Sync: each TagWatch polled once, listing every page (two status patches:
    // `Reconciling` before the first poll of a generation, then the poll's result; and
    // an InitialSync event).
    let sync = &report.sync.counts;
    assert_eq!(sync.polls, 100.0, "{details}");
    assert_eq!(sync.full_listings, 100.0, "{details}");
    requests_are_exact(&report.sync, pages, "sync");
    assert_eq!(sync.status_patches, 200, "{details}");
    assert_eq!(sync.event_creates, 100, "{details}");
    // Quiet: every poll is one probe that finds nothing new, and writes nothing.
    let quiet = &report.quiet.counts;
    requests_are_exact(&report.quiet, pages, "quiet");
    assert_eq!(
        (quiet.ucloud_requests as f64, quiet.probes_unchanged),
        (quiet.polls, quiet.polls),
        "exactly one UCloud request per quiet poll: {details}"
    );
    assert_eq!(quiet.full_listings, 0.0, "{details}");
    assert_eq!(
        (
            report.quiet.counts.status_patches,
            report.quiet.counts.event_creates
        ),
        (0, 0),
        "{details}"
    );
    // Push: one NewTag (and one LatestTagChanged) event and one status patch per
    // pushed tag; no other writes.
    assert_eq!(
        (
            report.pushed,
            report.missing_events,
            report.duplicate_events,
            report.unexpected_events
        ),
        (20, 0, 0, 0),
        "{details}"
    );
    assert_eq!(report.push.counts.status_patches, 20, "{details}");
    assert_eq!(report.push.counts.event_creates, 40, "{details}");
    // Each push was seen by a probe, then every page listed: one tag more, so with
    // 1,000 tags 11 pages (the probed first one not asked for again).
    let pages_after_push = (u64::from(tags) + 1).div_ceil(PAGE_SIZE);
    requests_are_exact(&report.push, pages_after_push, "push");
    assert_eq!(report.push.counts.probes_changed, 20.0, "{details}");
    assert_eq!(
        report.sync.counts.other_writes
            + report.quiet.counts.other_writes
            + report.push.counts.other_writes,
        0,
        "{details}"
    );
    assert!(
        report.peak_rss_bytes > 0 && report.cpu_per_poll() > 0.0,
        "{details}"
    );
}

#[tokio::test]
async fn small_tag_lists() {
    counts_hold(10).await;
}

#[tokio::test]
async fn long_tag_lists_take_one_request_per_quiet_poll() {
    counts_hold(1000).await;
}
