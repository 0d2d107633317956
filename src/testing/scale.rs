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
//! events).
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
use testkit::openmetrics::Scrape;
use testkit::process_stats::ProcessStats;
use testkit::{ControlPlane, Emulator, Operator, TestNamespace};

use super::env::{install_crd, tagwatch_binary};
use crate::api::v1alpha1::TagWatch;

pub mod python;

const REPO: &str = "bench";
const IMAGE_PREFIX: &str = "img-";
const PUBLIC_KEY: &str = "bench-public";
const PRIVATE_KEY: &str = "bench-private";
/// The operator's page size (`Limit`); a listing of T tags needs ceil(T / this) pages.
pub const PAGE_SIZE: u64 = 100;
const LAG_METRIC: &str = "tagwatch_poll_schedule_lag_seconds";

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

/// What the benchmark counts: totals so far, or what one phase added to them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    pub polls: f64,
    pub failed_polls: f64,
    pub ucloud_requests: u64,
    /// UCloud requests as the operator counted them (`tagwatch_ucloud_requests_total`).
    pub operator_requests: f64,
    /// Probes that found the newest page as recorded.
    pub probes_unchanged: f64,
    /// Probes that saw a change (a full listing follows).
    pub probes_changed: f64,
    /// Full listings, every page.
    pub full_listings: f64,
    pub status_patches: u64,
    pub event_creates: u64,
    pub other_writes: u64,
    pub cpu_seconds: f64,
    /// `(le, cumulative count)` of the schedule-lag histogram.
    pub lag_buckets: Vec<(f64, f64)>,
}

impl Counts {
    /// What was added since `earlier`.
    fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            polls: self.polls - earlier.polls,
            failed_polls: self.failed_polls - earlier.failed_polls,
            ucloud_requests: self.ucloud_requests - earlier.ucloud_requests,
            operator_requests: self.operator_requests - earlier.operator_requests,
            probes_unchanged: self.probes_unchanged - earlier.probes_unchanged,
            probes_changed: self.probes_changed - earlier.probes_changed,
            full_listings: self.full_listings - earlier.full_listings,
            status_patches: self.status_patches - earlier.status_patches,
            event_creates: self.event_creates - earlier.event_creates,
            other_writes: self.other_writes - earlier.other_writes,
            cpu_seconds: self.cpu_seconds - earlier.cpu_seconds,
            lag_buckets: self
                .lag_buckets
                .iter()
                .zip(&earlier.lag_buckets)
                .map(|((le, after), (_, before))| (*le, after - before))
                .collect(),
        }
    }
}

/// Counters read at a phase boundary.
#[derive(Clone, Debug)]
pub struct Counters {
    pub at: Instant,
    pub totals: Counts,
    /// The operator's largest RSS so far (`VmHWM`), bytes.
    pub peak_rss_bytes: u64,
}

/// What one phase cost and did.
#[derive(Clone, Debug, Default)]
pub struct Phase {
    pub seconds: f64,
    pub counts: Counts,
}

impl Phase {
    fn between(a: &Counters, b: &Counters) -> Phase {
        Phase {
            seconds: (b.at - a.at).as_secs_f64(),
            counts: b.totals.since(&a.totals),
        }
    }
}

impl Counts {
    /// Apiserver writes (status patches and event creates) per poll.
    pub fn writes_per_poll(&self) -> f64 {
        ratio(
            (self.status_patches + self.event_creates) as f64,
            self.polls,
        )
    }

    pub fn requests_per_poll(&self) -> f64 {
        ratio(self.ucloud_requests as f64, self.polls)
    }

    pub fn cpu_per_poll(&self) -> f64 {
        ratio(self.cpu_seconds, self.polls)
    }

    /// The `q` quantile of the schedule lag: the upper bound of the bucket it falls in.
    pub fn lag_quantile(&self, q: f64) -> f64 {
        let total = self.lag_buckets.last().map_or(0.0, |(_, n)| *n);
        if total == 0.0 {
            return 0.0;
        }
        self.lag_buckets
            .iter()
            .find(|(_, n)| *n >= q * total)
            .map_or(f64::INFINITY, |(le, _)| *le)
    }
}

/// The benchmark's findings for one configuration.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// [`Variant::label`].
    pub variant: String,
    pub tagwatches: u32,
    pub tags: u32,
    /// `spec.historyLimit`, when not the default.
    pub history_limit: Option<u32>,
    pub interval: Duration,
    /// Operator start until every TagWatch was Ready.
    pub synced_after: Duration,
    pub sync: Phase,
    pub quiet: Phase,
    pub push: Phase,
    /// Largest RSS (`VmHWM`) over the run.
    pub peak_rss_bytes: u64,
    /// Largest RSS sampled after the initial sync.
    pub steady_rss_bytes: u64,
    /// New-tag-to-event latencies, seconds, sorted.
    pub event_latencies: Vec<f64>,
    pub pushed: u32,
    pub missing_events: u32,
    pub duplicate_events: u32,
    /// NewTag events naming a tag that was not pushed.
    pub unexpected_events: u32,
    /// CPU seconds per poll of the Python SDK loop back to back, when it ran.
    pub python_cpu_per_poll: Option<f64>,
    /// CPU seconds per poll of the Python SDK loop paced as the operator polls (each
    /// image once per interval), when it ran.
    pub python_paced_cpu_per_poll: Option<f64>,
}

impl Report {
    /// Quantile `q` of the new-tag-to-event latency.
    pub fn latency_quantile(&self, q: f64) -> f64 {
        if self.event_latencies.is_empty() {
            return 0.0;
        }
        let rank = ((q * self.event_latencies.len() as f64).ceil() as usize).max(1);
        self.event_latencies[rank.min(self.event_latencies.len()) - 1]
    }

    /// Polls per second in the quiet and push phases.
    pub fn polls_per_second(&self) -> f64 {
        ratio(
            self.quiet.counts.polls + self.push.counts.polls,
            self.quiet.seconds + self.push.seconds,
        )
    }

    /// CPU cores used in the quiet and push phases.
    pub fn cores(&self) -> f64 {
        ratio(
            self.quiet.counts.cpu_seconds + self.push.counts.cpu_seconds,
            self.quiet.seconds + self.push.seconds,
        )
    }

    /// CPU seconds per poll in the quiet and push phases.
    pub fn cpu_per_poll(&self) -> f64 {
        ratio(
            self.quiet.counts.cpu_seconds + self.push.counts.cpu_seconds,
            self.quiet.counts.polls + self.push.counts.polls,
        )
    }

    /// Schedule lag quantile over the quiet and push phases.
    pub fn lag_quantile(&self, q: f64) -> f64 {
        let merged = Counts {
            lag_buckets: self
                .quiet
                .counts
                .lag_buckets
                .iter()
                .zip(&self.push.counts.lag_buckets)
                .map(|((le, a), (_, b))| (*le, a + b))
                .collect(),
            ..Counts::default()
        };
        merged.lag_quantile(q)
    }
}

impl Report {
    /// The header of [`Report::table_row`]'s Markdown table.
    pub fn table_header() -> String {
        [
            "| operator | TagWatches | tags | interval | synced in | peak RSS | steady RSS | cores \
             | CPU/poll | CPU/quiet poll | polls/s | schedule lag p50 / p99 | new tag to event p50 / p99 \
             | UCloud req/poll (quiet) | writes/poll quiet / push | NewTag pushed / missing / dup \
             | Python SDK CPU/poll (ratio) | the same paced (ratio) |",
            "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|---|---|---|",
        ]
        .join("\n")
    }

    /// The phases' raw figures, for the log.
    pub fn details(&self) -> String {
        let phase = |name: &str, p: &Phase| {
            format!(
                "{name}: {:.1} s, {} polls ({} failed), {} UCloud requests, probes {} unchanged \
                 / {} changed, {} full listings, {} status patches, {} event creates, \
                 {} other writes, {:.2} CPU s",
                p.seconds,
                p.counts.polls,
                p.counts.failed_polls,
                p.counts.ucloud_requests,
                p.counts.probes_unchanged,
                p.counts.probes_changed,
                p.counts.full_listings,
                p.counts.status_patches,
                p.counts.event_creates,
                p.counts.other_writes,
                p.counts.cpu_seconds
            )
        };
        [
            phase("sync", &self.sync),
            phase("quiet", &self.quiet),
            phase("push", &self.push),
            format!("unexpected NewTag events: {}", self.unexpected_events),
        ]
        .join("\n")
    }

    /// One Markdown table row.
    pub fn table_row(&self) -> String {
        let mib = |b: u64| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0));
        let ms = |s: f64| format!("{:.2} ms", s * 1000.0);
        let python_column = |cpu_per_poll: Option<f64>| match cpu_per_poll {
            Some(p) => format!("{} ({:.1}x)", ms(p), ratio(p, self.cpu_per_poll())),
            None => "-".into(),
        };
        format!(
            "| {} | {} | {} | {} | {:.1} s | {} | {} | {:.3} | {} | {} | {:.1} | {:.3} / {:.3} s \
             | {:.1} / {:.1} s | {:.2} | {:.3} / {:.2} | {} / {} / {} | {} | {} |",
            self.variant,
            self.tagwatches,
            match self.history_limit {
                Some(limit) => format!("{} (historyLimit {limit})", self.tags),
                None => self.tags.to_string(),
            },
            humantime::format_duration(self.interval),
            self.synced_after.as_secs_f64(),
            mib(self.peak_rss_bytes),
            mib(self.steady_rss_bytes),
            self.cores(),
            ms(self.cpu_per_poll()),
            ms(self.quiet.counts.cpu_per_poll()),
            self.polls_per_second(),
            self.lag_quantile(0.5),
            self.lag_quantile(0.99),
            self.latency_quantile(0.5),
            self.latency_quantile(0.99),
            self.quiet.counts.requests_per_poll(),
            self.quiet.counts.writes_per_poll(),
            self.push.counts.writes_per_poll(),
            self.pushed,
            self.missing_events,
            self.duplicate_events,
            python_column(self.python_cpu_per_poll),
            python_column(self.python_paced_cpu_per_poll),
        )
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
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

async fn read_counters(
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
async fn boundary(
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
async fn new_tags_written(operator: &Operator) -> f64 {
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
struct RssSampler {
    steady: Arc<Mutex<Option<u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
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

    fn mark_steady(&self) {
        *self.steady.lock().unwrap() = Some(0);
    }

    fn steady_peak(&self) -> u64 {
        self.task.abort();
        self.steady.lock().unwrap().unwrap_or_default()
    }
}
