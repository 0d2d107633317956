//! Where each of the run's figures comes from, read at a phase boundary: the operator's
//! `/metrics` (polls, schedule lag, probes and full listings), the emulator's stats
//! (UCloud requests), the apiserver's `apiserver_request_total` (the operator's writes)
//! and `/proc` (CPU, peak RSS); and the sampler of the steady RSS.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use testkit::openmetrics::Scrape;
use testkit::process_stats::ProcessStats;
use testkit::{Emulator, Operator};

use super::Config;
use super::report::{Counters, Counts};

const LAG_METRIC: &str = "tagwatch_poll_schedule_lag_seconds";

/// Reads every counter once; without an operator (before it starts) only the emulator's
/// and the apiserver's.
pub(super) async fn read_counters(
    kube: &kube::Client,
    emulator: &Emulator,
    operator: Option<&Operator>,
) -> Counters {
    let apiserver = apiserver_metrics(kube).await;
    let stats = emulator.stats().await;
    let mut totals = Counts {
        ucloud_requests: stats["total"].as_u64().unwrap_or_default(),
        status_patches: apiserver_requests(&apiserver, |l| {
            l.contains("resource=\"tagwatches\"")
                && l.contains("subresource=\"status\"")
                && is_write(l)
        }),
        event_creates: apiserver_requests(&apiserver, |l| {
            l.contains("group=\"events.k8s.io\"") && l.contains("verb=\"POST\"")
        }),
        // What the operator must never do: write a TagWatch's spec or metadata, or
        // change events after creating them. (The bench creates TagWatches with POST;
        // the apiserver's own writes are to other resources.)
        other_writes: apiserver_requests(&apiserver, |l| {
            let tagwatch_object =
                l.contains("resource=\"tagwatches\"") && l.contains("subresource=\"\"");
            let event = l.contains("resource=\"events\"");
            (tagwatch_object || event) && is_write(l)
        }),
        ..Counts::default()
    };
    let mut peak_rss_bytes = 0;
    if let Some(operator) = operator {
        let process = ProcessStats::read(operator.pid()).unwrap_or_default();
        totals.cpu_seconds = process.cpu_seconds;
        peak_rss_bytes = process.peak_rss_bytes;
        let scrape = operator.scrape().await.expect("scrape the operator");
        totals.polls = total(&scrape, "tagwatch_polls_total");
        totals.operator_requests = total(&scrape, "tagwatch_ucloud_requests_total");
        let listings = |kind, result| {
            scrape.value_or_zero(
                "tagwatch_ucloud_listings_total",
                &[("kind", kind), ("result", result)],
            )
        };
        totals.probes_unchanged = listings("probe", "unchanged");
        totals.probes_changed = listings("probe", "changed");
        totals.full_listings = total(&scrape, "tagwatch_full_listings_total");
        totals.failed_polls =
            totals.polls - scrape.value_or_zero("tagwatch_polls_total", &[("result", "Succeeded")]);
        totals.lag_buckets = histogram_buckets(&scrape, LAG_METRIC);
    }
    Counters {
        at: Instant::now(),
        totals,
        peak_rss_bytes,
    }
}

/// The counters at a phase boundary; with [`Config::settle`], read when no poll is in
/// flight: two readings in a row agree, and UHub answered exactly the requests the
/// operator counted (a poll whose request is answered but not yet counted, or counted
/// but not yet finished, would make one phase's counts inexact).
pub(super) async fn boundary(
    config: &Config,
    kube: &kube::Client,
    emulator: &Emulator,
    operator: &Operator,
) -> Counters {
    let mut last = read_counters(kube, emulator, Some(operator)).await;
    if !config.settle {
        return last;
    }
    let quiet = |c: &Counts| c.ucloud_requests as f64 == c.operator_requests;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let next = read_counters(kube, emulator, Some(operator)).await;
        let same = |c: &Counts| {
            (
                c.polls,
                c.ucloud_requests,
                c.probes_unchanged,
                c.probes_changed,
                c.full_listings,
            )
        };
        if same(&next.totals) == same(&last.totals) && quiet(&next.totals) {
            return next;
        }
        last = next;
    }
    panic!(
        "the operator never paused polling for 20 ms in 200 tries: {:?}",
        last.totals
    );
}

/// `tagwatch_new_tags_total`: new tags whose status write succeeded.
pub(super) async fn new_tags_written(operator: &Operator) -> f64 {
    let scrape = operator.scrape().await.expect("scrape the operator");
    scrape.value_or_zero("tagwatch_new_tags_total", &[])
}

fn total(scrape: &Scrape, name: &str) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.name == name)
        .map(|s| s.value)
        .sum()
}

fn histogram_buckets(scrape: &Scrape, name: &str) -> Vec<(f64, f64)> {
    let bucket = format!("{name}_bucket");
    let mut buckets: Vec<(f64, f64)> = scrape
        .samples
        .iter()
        .filter(|s| s.name == bucket)
        .filter_map(|s| {
            let le = s.labels.get("le")?.as_str();
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, s.value))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    buckets
}

async fn apiserver_metrics(kube: &kube::Client) -> String {
    let request = http::Request::get("/metrics").body(Vec::new()).unwrap();
    kube.request_text(request)
        .await
        .expect("read the apiserver's /metrics")
}

/// Whether an `apiserver_request_total` sample counts writes that are not creates
/// (server-side apply is counted as `APPLY`).
fn is_write(labels: &str) -> bool {
    ["PATCH", "APPLY", "PUT", "DELETE"]
        .iter()
        .any(|verb| labels.contains(&format!("verb=\"{verb}\"")))
}

/// Sum of the `apiserver_request_total` samples whose label text passes `pick`.
fn apiserver_requests(text: &str, pick: impl Fn(&str) -> bool) -> u64 {
    text.lines()
        .filter_map(|line| line.strip_prefix("apiserver_request_total{"))
        .filter_map(|rest| rest.rsplit_once("} "))
        .filter(|(labels, _)| pick(labels))
        .filter_map(|(_, value)| value.trim().parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Samples a process's RSS twice a second; after [`RssSampler::mark_steady`] it keeps
/// the largest value seen.
pub(super) struct RssSampler {
    steady: Arc<Mutex<Option<u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub(super) fn start(pid: u32) -> RssSampler {
        let steady = Arc::new(Mutex::new(None::<u64>));
        let shared = steady.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Some(stats) = ProcessStats::read(pid) {
                    let mut steady = shared.lock().unwrap();
                    if let Some(peak) = steady.as_mut() {
                        *peak = (*peak).max(stats.rss_bytes);
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        RssSampler { steady, task }
    }

    pub(super) fn mark_steady(&self) {
        *self.steady.lock().unwrap() = Some(0);
    }

    pub(super) fn steady_peak(&self) -> u64 {
        self.task.abort();
        self.steady.lock().unwrap().unwrap_or_default()
    }
}
