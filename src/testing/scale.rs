//! The scale benchmark's run: N TagWatches over N emulator images of T tags each, the
//! real operator binary on a private control plane, and what it costs and achieves.
//!
//! Phases, each measured from counters read at its start and end:
//!
//! 1. **sync**: the operator starts with every TagWatch new; ends when the operator's
//!    `tagwatch_tagwatches{ready="True"}` gauge reaches N.
//! 2. **quiet**: 1.2 intervals with nothing pushed: one scheduled poll of each
//!    TagWatch, none of which finds anything new.
//! 3. **push**: new tags pushed to a sample of images, spread over one interval, until
//!    each one's NewTag event was seen (or a deadline passed).
//!
//! Sources: the operator's `/metrics` (polls, schedule lag, probes and full listings),
//! the emulator's stats (UCloud requests), the apiserver's `apiserver_request_total`
//! (status patches and event creates: every write the operator makes), `/proc` (RSS,
//! CPU), and a watch on events (new-tag-to-event latency, missing and duplicated NewTag
//! events). `counters` reads the counters, `report` holds what a run found and prints
//! it, [`python`] measures the official Python SDK's loop beside it.
//!
//! A configuration runs one [`Variant`] of the operator: this build as it is
//! ([`Variant::Probes`]), this build listing every page at every poll
//! (`--full-listing-every 1`, [`Variant::FullListings`]), or another build of it
//! ([`Variant::Binary`], e.g. the code before a change), so that a benchmark can compare
//! them in one run on the same machine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use testkit::{ControlPlane, Emulator, Operator, TestNamespace};

use self::counters::{RssSampler, boundary, new_tags_written, read_counters};
use super::env::{install_crd, tagwatch_binary};
use crate::api::v1alpha1::TagWatch;

mod counters;
pub mod python;
mod report;

pub use self::report::{Counters, Counts, Phase, Report};

const REPO: &str = "bench";
const IMAGE_PREFIX: &str = "img-";
const PUBLIC_KEY: &str = "bench-public";
const PRIVATE_KEY: &str = "bench-private";
/// The operator's page size (`Limit`); a listing of T tags needs ceil(T / this) pages.
pub const PAGE_SIZE: u64 = 100;

/// Which operator a configuration runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Variant {
    /// This build with its defaults: polls probe the newest page.
    Probes,
    /// This build with `--full-listing-every 1`: every poll lists every page.
    FullListings,
    /// Another `tagwatch` binary, named by the label, run with the common flags only.
    Binary {
        /// What the row calls it.
        label: String,
        /// The binary.
        path: std::path::PathBuf,
    },
}

impl Variant {
    /// What the table calls it.
    pub fn label(&self) -> &str {
        match self {
            Variant::Probes => "probes",
            Variant::FullListings => "full listings",
            Variant::Binary { label, .. } => label,
        }
    }
}

/// One configuration of the benchmark.
#[derive(Clone, Debug)]
pub struct Config {
    /// The operator.
    pub variant: Variant,
    /// TagWatches, one image each.
    pub tagwatches: u32,
    /// Tags per image.
    pub tags: u32,
    /// `spec.interval` of every TagWatch.
    pub interval: Duration,
    /// Images that get one new tag each in the push phase.
    pub pushes: u32,
    /// `--ucloud-qps` (the burst is the same).
    pub ucloud_qps: u32,
    /// `--concurrency`.
    pub concurrency: u32,
    /// `spec.historyLimit`; none keeps the default (100).
    pub history_limit: Option<u32>,
    /// Log level of the operator.
    pub log_level: String,
    /// Python with the official UCloud SDK, for the baseline; none skips it.
    pub python: Option<std::path::PathBuf>,
    /// Images the Python baseline polls in turn (see [`python`]).
    pub python_images: u32,
    /// Read the phase boundaries' counters only when no poll is in flight (for exact
    /// counts; a large configuration is never quiet long enough).
    pub settle: bool,
}

impl Config {
    /// Pages a listing of one image needs before anything is pushed.
    pub fn pages(&self) -> u64 {
        u64::from(self.tags).div_ceil(PAGE_SIZE).max(1)
    }

    /// UCloud requests per second that polling every TagWatch once per interval needs.
    pub fn needed_qps(&self) -> u32 {
        let per_interval = u64::from(self.tagwatches) * self.pages();
        (per_interval as f64 / self.interval.as_secs_f64())
            .ceil()
            .max(1.0) as u32
    }
}

/// A NewTag event as seen by the watch.
#[derive(Clone, Debug)]
struct SeenEvent {
    tagwatch: String,
    note: String,
    seen: Instant,
}

/// Runs one configuration end to end on a control plane of its own.
pub async fn run(config: &Config) -> Report {
    let control_plane = ControlPlane::start();
    install_crd(&control_plane);
    let namespace = TestNamespace::new_in(&control_plane, "scale").await;
    let emulator = Emulator::start_binary(&fixture(config));
    create_secret(&namespace).await;
    create_tagwatches(&namespace, config).await;

    let seen = Arc::new(Mutex::new(Vec::<SeenEvent>::new()));
    let watch = tokio::spawn(watch_new_tags(namespace.api::<Event>(), seen.clone()));
    let qps = config.ucloud_qps.to_string();
    let concurrency = config.concurrency.to_string();
    let mut args = vec![
        "--namespaces",
        namespace.name(),
        "--endpoint",
        emulator.url(),
        "--ucloud-qps",
        &qps,
        "--ucloud-burst",
        &qps,
        "--concurrency",
        &concurrency,
    ];
    let binary = match &config.variant {
        Variant::Probes => tagwatch_binary(),
        Variant::FullListings => {
            args.extend(["--full-listing-every", "1"]);
            tagwatch_binary()
        }
        Variant::Binary { path, .. } => path.clone(),
    };
    let kube = control_plane.client().await;
    let before_start = read_counters(&kube, &emulator, None).await;
    let started = Instant::now();
    let operator = Operator::start_logging(
        &binary,
        control_plane.kubeconfig_path(),
        &config.log_level,
        &args,
    );
    let sampler = RssSampler::start(operator.pid());

    // The first sync is bound by UCloud's rate limit or by the apiserver (two status
    // writes and an event per TagWatch; about 30 TagWatches a second of 1,000 tags on
    // two cores): three times the slower of the two, and two minutes.
    let by_qps =
        f64::from(config.tagwatches) * config.pages() as f64 / f64::from(config.ucloud_qps);
    let by_apiserver = f64::from(config.tagwatches) / 30.0;
    let sync_deadline =
        Duration::from_secs(120) + Duration::from_secs_f64(by_qps.max(by_apiserver) * 3.0);
    wait_until_ready(&operator, config.tagwatches, sync_deadline).await;
    let synced_after = started.elapsed();
    let synced = boundary(config, &kube, &emulator, &operator).await;
    sampler.mark_steady();

    tokio::time::sleep(config.interval.mul_f64(1.2)).await;
    let quiet_end = boundary(config, &kube, &emulator, &operator).await;

    let new_tags_before = new_tags_written(&operator).await;
    let pushes = push_tags(&emulator, config).await;
    // Until every push's NewTag event was seen and, since events are published before
    // status is written, the operator counted the push's status write too (or the
    // deadline passed: what is missing is then reported).
    let event_deadline = Instant::now() + config.interval * 3;
    while Instant::now() < event_deadline {
        let found = seen.lock().unwrap().len();
        if found >= pushes.len()
            && new_tags_written(&operator).await >= new_tags_before + pushes.len() as f64
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let push_end = boundary(config, &kube, &emulator, &operator).await;
    watch.abort();
    // The baselines run after the phases: they share the cores only with the
    // operator's scheduled polls.
    let baseline = |pace| {
        let interpreter = config.python.as_ref()?;
        Some(python::cpu_per_poll(interpreter, &emulator, config, pace))
    };
    let python_cpu_per_poll = baseline(python::Pace::BackToBack);
    let python_paced_cpu_per_poll = baseline(python::Pace::OncePerInterval);

    let mut report = Report {
        variant: config.variant.label().to_string(),
        tagwatches: config.tagwatches,
        tags: config.tags,
        history_limit: config.history_limit,
        interval: config.interval,
        synced_after,
        sync: Phase::between(&before_start, &synced),
        quiet: Phase::between(&synced, &quiet_end),
        push: Phase::between(&quiet_end, &push_end),
        peak_rss_bytes: push_end.peak_rss_bytes,
        steady_rss_bytes: sampler.steady_peak(),
        pushed: pushes.len() as u32,
        python_cpu_per_poll,
        python_paced_cpu_per_poll,
        ..Report::default()
    };
    match_events(&mut report, &pushes, &seen.lock().unwrap());
    // The control plane goes last: dropping the namespace uses it.
    drop(operator);
    drop(emulator);
    drop(namespace);
    drop(control_plane);
    report
}

fn fixture(config: &Config) -> String {
    format!(
        "credentials: [{{publicKey: {PUBLIC_KEY}, privateKey: {PRIVATE_KEY}}}]\n\
         generated: [{{repo: {REPO}, imagePrefix: {IMAGE_PREFIX}, count: {}, tags: {}}}]\n",
        config.tagwatches, config.tags
    )
}

fn tagwatch_name(i: u32) -> String {
    format!("tw-{i}")
}

async fn create_secret(namespace: &TestNamespace) {
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "ucloud-keys"},
        "stringData": {"publicKey": PUBLIC_KEY, "privateKey": PRIVATE_KEY},
    }))
    .unwrap();
    namespace
        .api::<Secret>()
        .create(&PostParams::default(), &secret)
        .await
        .expect("create the credentials Secret");
}

async fn create_tagwatches(namespace: &TestNamespace, config: &Config) {
    let api: Api<TagWatch> = namespace.api();
    let interval = humantime::format_duration(config.interval).to_string();
    stream::iter(0..config.tagwatches)
        .map(|i| {
            let api = api.clone();
            let mut tagwatch = json!({
                "apiVersion": "tagwatch.dev/v1alpha1",
                "kind": "TagWatch",
                "metadata": {"name": tagwatch_name(i)},
                "spec": {
                    "repoName": REPO,
                    "imageName": format!("{IMAGE_PREFIX}{i}"),
                    "interval": interval,
                    "secretRef": {"name": "ucloud-keys"},
                },
            });
            if let Some(limit) = config.history_limit {
                tagwatch["spec"]["historyLimit"] = json!(limit);
            }
            let tagwatch: TagWatch = serde_json::from_value(tagwatch).unwrap();
            async move { api.create(&PostParams::default(), &tagwatch).await }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .expect("create the TagWatches");
}

async fn watch_new_tags(events: Api<Event>, seen: Arc<Mutex<Vec<SeenEvent>>>) {
    let stream = watcher(events, watcher::Config::default())
        .default_backoff()
        .applied_objects();
    futures::pin_mut!(stream);
    let mut names = std::collections::HashSet::new();
    while let Some(Ok(event)) = stream.next().await {
        if event.reason.as_deref() != Some("NewTag") {
            continue;
        }
        // An event is seen once, however often the watch replays it.
        if !names.insert(event.metadata.name.clone().unwrap_or_default()) {
            continue;
        }
        seen.lock().unwrap().push(SeenEvent {
            tagwatch: event.regarding.and_then(|r| r.name).unwrap_or_default(),
            note: event.note.unwrap_or_default(),
            seen: Instant::now(),
        });
    }
}

/// One pushed tag: its TagWatch, its name, and when it was pushed.
struct Push {
    tagwatch: String,
    tag: String,
    at: Instant,
}

/// Pushes one new tag to each of `config.pushes` images spread over the image range,
/// evenly over one interval.
async fn push_tags(emulator: &Emulator, config: &Config) -> Vec<Push> {
    let count = config.pushes.min(config.tagwatches);
    let gap = config.interval / count.max(1);
    let mut pushes = Vec::new();
    let start = tokio::time::Instant::now();
    for k in 0..count {
        tokio::time::sleep_until(start + gap * k).await;
        let i = (u64::from(k) * u64::from(config.tagwatches) / u64::from(count)) as u32;
        let tag = format!("v2.0.{k}");
        emulator
            .push_tag(REPO, &format!("{IMAGE_PREFIX}{i}"), &tag, None)
            .await;
        pushes.push(Push {
            tagwatch: tagwatch_name(i),
            tag,
            at: Instant::now(),
        });
    }
    pushes
}

/// Matches NewTag events to pushes: latency of the first, and what is missing,
/// duplicated or unexpected.
fn match_events(report: &mut Report, pushes: &[Push], seen: &[SeenEvent]) {
    let mut by_tagwatch: HashMap<&str, Vec<&SeenEvent>> = HashMap::new();
    for event in seen {
        by_tagwatch.entry(&event.tagwatch).or_default().push(event);
    }
    let mut matched = 0;
    for push in pushes {
        let events: Vec<&&SeenEvent> = by_tagwatch
            .get(push.tagwatch.as_str())
            .map(|events| {
                events
                    .iter()
                    .filter(|e| names_tag(&e.note, &push.tag))
                    .collect()
            })
            .unwrap_or_default();
        matched += events.len();
        match events.first() {
            None => report.missing_events += 1,
            Some(first) => {
                let latency = first.seen.saturating_duration_since(push.at);
                report.event_latencies.push(latency.as_secs_f64());
                report.duplicate_events += events.len() as u32 - 1;
            }
        }
    }
    report.unexpected_events = (seen.len() - matched.min(seen.len())) as u32;
    report
        .event_latencies
        .sort_by(|a, b| a.partial_cmp(b).unwrap());
}

/// Whether a NewTag note names `tag` (one tag per note, or a list of names).
fn names_tag(note: &str, tag: &str) -> bool {
    note.split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .any(|word| word == tag)
}

/// Scrapes the operator once a second until `count` TagWatches are Ready. (Each scrape
/// writes every TagWatch's series: at 10,000 TagWatches, four scrapes a second would be
/// a load of the benchmark's own making.)
async fn wait_until_ready(operator: &Operator, count: u32, deadline: Duration) {
    let until = Instant::now() + deadline;
    loop {
        if let Ok(scrape) = operator.scrape().await
            && scrape.value_or_zero("tagwatch_tagwatches", &[("ready", "True")]) >= f64::from(count)
        {
            return;
        }
        assert!(
            Instant::now() < until,
            "not all {count} TagWatches Ready within {deadline:?}; operator log tail:\n{}",
            tail(&operator.log(), 40)
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
