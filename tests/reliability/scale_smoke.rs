//! The scale benchmark's small configuration as a test: 100 TagWatches at the shortest
//! interval, run exactly as `make bench-scale` runs the large ones, checking the counts
//! (never the timings): every TagWatch syncs, a poll asks UCloud for exactly the pages
//! the tag list needs, a poll that finds nothing new writes nothing to the apiserver,
//! and every pushed tag gives exactly one NewTag event and one status patch.
//!
//! The interval is long enough that the sync phase (100 first polls, up to 1,000
//! UCloud requests) ends before any TagWatch is due again, even on a loaded CI machine
//! (sync took 15 s there with the 1,000-tag lists): the sync counts are then exact.

use std::time::Duration;

use tagwatch::testing::scale::{Config, Phase};

fn config(tags: u32) -> Config {
    Config {
        tagwatches: 100,
        tags,
        interval: Duration::from_secs(30),
        pushes: 20,
        ucloud_qps: 1000,
        concurrency: 16,
        history_limit: None,
        log_level: "info".into(),
        python: None,
        python_polls: 0,
    }
}

/// Every poll of `phase` succeeded and asked UCloud for `pages` pages.
fn polls_page_exactly(phase: &Phase, pages: u64, what: &str) {
    let phase = &phase.counts;
    assert!(phase.polls > 0.0, "{what}: no polls");
    assert_eq!(phase.failed_polls, 0.0, "{what}: failed polls");
    assert_eq!(
        phase.ucloud_requests as f64,
        phase.polls * pages as f64,
        "{what}: UCloud requests for {} polls of {pages} pages",
        phase.polls
    );
}

async fn counts_hold(tags: u32) {
    let config = config(tags);
    let report = tagwatch::testing::scale::run(&config).await;
    let details = report.details();
    // Sync: each TagWatch polled once (a status patch and an InitialSync event).
    assert_eq!(report.sync.counts.polls, 100.0, "{details}");
    polls_page_exactly(&report.sync, config.pages(), "sync");
    assert_eq!(report.sync.counts.status_patches, 100, "{details}");
    assert_eq!(report.sync.counts.event_creates, 100, "{details}");
    // Quiet: polls that found nothing new write nothing. (Requests per poll are
    // checked on the sync phase only: it ends with no poll in flight, while the quiet
    // phase's end may fall in the middle of a poll's paging.)
    assert!(report.quiet.counts.polls > 0.0, "{details}");
    assert_eq!(report.quiet.counts.failed_polls, 0.0, "{details}");
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
async fn long_tag_lists_take_one_request_per_page() {
    counts_hold(1000).await;
}
