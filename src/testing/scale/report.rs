//! What a scale run measured: the counts read at phase boundaries, what each phase
//! added ([`Phase`]), and the [`Report`] of one configuration with the figures derived
//! from them and its Markdown table row.

use std::time::{Duration, Instant};

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
    pub(super) fn between(a: &Counters, b: &Counters) -> Phase {
        Phase {
            seconds: (b.at - a.at).as_secs_f64(),
            counts: b.totals.since(&a.totals),
        }
    }
}

/// The benchmark's findings for one configuration.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// [`Variant::label`](super::Variant::label).
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
    /// CPU seconds per poll of the Python SDK loop paced at the operator's poll rate,
    /// when it ran.
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
