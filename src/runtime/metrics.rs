//! The operator's Prometheus metrics, kept with prometheus-client and served as
//! OpenMetrics text on `/metrics`: polls and their duration, UCloud requests (fed by the
//! client's [`RequestObserver`] hook), rate-limiter waits, probes and full listings,
//! new tags, leadership, and the TagWatch gauges, which are computed from the
//! controllers' caches at scrape time so that a deleted TagWatch leaves no stale series. docs/operations.md lists every name.
//!
//! Labels hold only bounded, non-secret values: result and reason names, UCloud action
//! names, RetCodes and HTTP statuses, and in the per-TagWatch series
//! ([`per_tagwatch`]) a TagWatch's namespace, name, image, latest tag and Ready state.
//! No Secret, key or URL appears in them.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use strum::VariantArray;
use uhub::{RequestObserver, RequestOutcome};

use super::caches::{self, Caches};
use crate::api::conditions::SUCCEEDED;
use crate::controller::context::PollObserver;
use crate::controller::failure::FailureReason;
use crate::controller::listing::{FullReason, ListingKind, ListingResult};
use crate::controller::triggers::TriggerReason;
use crate::notify::observe::{AttemptLabel, DeliveryObserver};
use crate::notify::pending::GiveUp;

mod per_tagwatch;
mod process;
use per_tagwatch::PerTagWatch;

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PollLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    action: String,
    result: &'static str,
    ret_code: String,
    http_status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListingLabels {
    kind: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReadyLabels {
    ready: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The metrics of one operator process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    polls: Family<PollLabels, Counter>,
    poll_duration: Histogram,
    schedule_lag: Histogram,
    ucloud_requests: Family<RequestLabels, Counter>,
    ucloud_request_duration: HistogramFamily<ActionLabels>,
    rate_limit_wait: Histogram,
    listings: Family<ListingLabels, Counter>,
    full_listings: Family<ReasonLabels, Counter>,
    /// Reconcile requests of `spec.triggers`, by result.
    trigger_requests: Family<PollLabels, Counter>,
    new_tags: Counter,
    tags_tracked: Gauge,
    tagwatches: Family<ReadyLabels, Gauge>,
    leader: Gauge,
    deliveries: Family<PollLabels, Counter>,
    delivery_duration: Histogram,
    notifications_given_up: Family<ReasonLabels, Counter>,
    notifications_pending: Gauge,
    per_tagwatch: Arc<PerTagWatch>,
}

/// Fine below 2 s, where a healthy operator's schedule lag lies.
const SCHEDULE_LAG_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0,
];

fn poll_buckets() -> Histogram {
    // 5 ms .. ~82 s: a poll may page through many requests and wait for the rate limit.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

fn request_buckets() -> Histogram {
    // 5 ms .. ~20 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// All metrics registered under the `tagwatch_` prefix, with every poll result and
    /// Ready status present (at zero) from the start.
    pub fn new() -> Self {
        // The process metrics keep their usual names; everything else is tagwatch_.
        let mut root = Registry::default();
        root.register_collector(Box::new(process::Process));
        let registry = root.sub_registry_with_prefix("tagwatch");
        let polls = Family::<PollLabels, Counter>::default();
        let poll_duration = poll_buckets();
        let schedule_lag = Histogram::new(SCHEDULE_LAG_BUCKETS.iter().copied());
        let ucloud_requests = Family::<RequestLabels, Counter>::default();
        let ucloud_request_duration: HistogramFamily<ActionLabels> =
            Family::new_with_constructor(request_buckets);
        // 1 ms .. ~65 s.
        let rate_limit_wait = Histogram::new(exponential_buckets(0.001, 4.0, 9));
        let listings = Family::<ListingLabels, Counter>::default();
        let full_listings = Family::<ReasonLabels, Counter>::default();
        let trigger_requests = Family::<PollLabels, Counter>::default();
        let new_tags = Counter::default();
        let tags_tracked = Gauge::default();
        let tagwatches = Family::<ReadyLabels, Gauge>::default();
        let leader = Gauge::default();
        let deliveries = Family::<PollLabels, Counter>::default();
        let delivery_duration = request_buckets();
        let notifications_given_up = Family::<ReasonLabels, Counter>::default();
        let notifications_pending = Gauge::default();

        registry.register(
            "build",
            "The tagwatch version; always 1",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register(
            "polls",
            "Polls of a TagWatch by result: Succeeded or the Ready=False reason",
            polls.clone(),
        );
        registry.register_with_unit(
            "poll_duration",
            "Time a poll took: credentials and every UCloud request of the listing",
            Unit::Seconds,
            poll_duration.clone(),
        );
        registry.register_with_unit(
            "poll_schedule_lag",
            "How late scheduled polls started: from the time the interval (or a retry's backoff) made them due until they began",
            Unit::Seconds,
            schedule_lag.clone(),
        );
        registry.register(
            "ucloud_requests",
            "HTTP requests to the UCloud API, retries included, by action, result, RetCode and HTTP status",
            ucloud_requests.clone(),
        );
        registry.register_with_unit(
            "ucloud_request_duration",
            "Latency of one UCloud API request, from sending it until its body was decoded",
            Unit::Seconds,
            ucloud_request_duration.clone(),
        );
        registry.register_with_unit(
            "ucloud_rate_limit_wait",
            "Time a UCloud request waited for the operator-wide rate limiter",
            Unit::Seconds,
            rate_limit_wait.clone(),
        );
        registry.register(
            "ucloud_listings",
            "What polls asked UHub for, by kind (probe: the newest page; full: every page) and result (unchanged, changed or failed, compared with status)",
            listings.clone(),
        );
        registry.register(
            "full_listings",
            "Polls that listed every page, by reason: unrecorded, unordered, spec_changed, requested, periodic, probe_changed or changed_while_paging",
            full_listings.clone(),
        );
        registry.register(
            "trigger_requests",
            "Reconcile requests of spec.triggers (one annotation patch each), by result: Triggered, ObjectNotFound, Forbidden, UnknownKind or TriggerFailed",
            trigger_requests.clone(),
        );
        registry.register(
            "new_tags",
            "Tags announced as new (NewTag events), counted once the poll's status is written",
            new_tags.clone(),
        );
        registry.register(
            "tags_tracked",
            "Tags tracked over all TagWatches served (sum of status.tagCount); 0 on a standby",
            tags_tracked.clone(),
        );
        registry.register(
            "tagwatches",
            "TagWatches served, by the status of their Ready condition; 0 on a standby",
            tagwatches.clone(),
        );
        registry.register(
            "leader",
            "1 while this process runs the controllers (it holds the lease, or leader election is off), else 0",
            leader.clone(),
        );

        registry.register(
            "notification_deliveries",
            "Webhook delivery attempts by result: delivered, failed or invalid_target",
            deliveries.clone(),
        );
        registry.register_with_unit(
            "notification_delivery_duration",
            "Time one webhook delivery attempt took",
            Unit::Seconds,
            delivery_duration.clone(),
        );
        registry.register(
            "notifications_given_up",
            "Webhook notifications dropped undelivered, by reason: expired, target_removed or overflow",
            notifications_given_up.clone(),
        );
        registry.register(
            "notifications_pending",
            "Webhook notifications waiting for delivery, over all TagWatches served",
            notifications_pending.clone(),
        );
        let per_tagwatch = PerTagWatch::register(registry);
        for &result in AttemptLabel::VARIANTS {
            deliveries.get_or_create_owned(&PollLabels {
                result: result.into(),
            });
        }
        for &reason in GiveUp::VARIANTS {
            notifications_given_up.get_or_create_owned(&ReasonLabels {
                reason: reason.into(),
            });
        }
        let results = FailureReason::VARIANTS.iter().map(|&r| r.into());
        for result in results.chain([SUCCEEDED]) {
            polls.get_or_create_owned(&PollLabels { result });
        }
        for &kind in ListingKind::VARIANTS {
            for &result in ListingResult::VARIANTS {
                listings.get_or_create_owned(&ListingLabels {
                    kind: kind.into(),
                    result: result.into(),
                });
            }
        }
        for &reason in FullReason::VARIANTS {
            full_listings.get_or_create_owned(&ReasonLabels {
                reason: reason.into(),
            });
        }
        for &result in TriggerReason::VARIANTS {
            trigger_requests.get_or_create_owned(&PollLabels {
                result: result.into(),
            });
        }
        for ready in ["True", "False", "Unknown"] {
            tagwatches.get_or_create_owned(&ReadyLabels { ready });
        }
        Self {
            registry: root,
            polls,
            poll_duration,
            schedule_lag,
            ucloud_requests,
            ucloud_request_duration,
            rate_limit_wait,
            listings,
            full_listings,
            trigger_requests,
            new_tags,
            tags_tracked,
            tagwatches,
            leader,
            deliveries,
            delivery_duration,
            notifications_given_up,
            notifications_pending,
            per_tagwatch,
        }
    }

    /// Sets the leader gauge.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// The OpenMetrics text of every metric, with the TagWatch gauges computed from
    /// `caches` now.
    pub fn encode(&self, caches: &Caches) -> String {
        let tagwatches = caches.tagwatches();
        let counts = caches::ready_counts(&tagwatches);
        for (ready, count) in [
            ("True", counts.ready),
            ("False", counts.not_ready),
            ("Unknown", counts.unknown),
        ] {
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            self.tagwatches
                .get_or_create(&ReadyLabels { ready })
                .set(count);
        }
        self.tags_tracked.set(caches::tags_tracked(&tagwatches));
        self.per_tagwatch.set(tagwatches);
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

impl PollObserver for Metrics {
    fn poll(&self, failure: Option<FailureReason>, duration: Duration) {
        let result = failure.map_or(SUCCEEDED, Into::into);
        self.polls.get_or_create(&PollLabels { result }).inc();
        self.poll_duration.observe(duration.as_secs_f64());
    }

    fn schedule_lag(&self, late: Duration) {
        self.schedule_lag.observe(late.as_secs_f64());
    }

    fn new_tags(&self, count: usize) {
        self.new_tags.inc_by(count as u64);
    }

    fn listing(&self, kind: ListingKind, result: ListingResult) {
        self.listings
            .get_or_create(&ListingLabels {
                kind: kind.into(),
                result: result.into(),
            })
            .inc();
    }

    fn full_listing(&self, reason: FullReason) {
        self.full_listings
            .get_or_create(&ReasonLabels {
                reason: reason.into(),
            })
            .inc();
    }

    fn trigger(&self, result: TriggerReason) {
        self.trigger_requests
            .get_or_create(&PollLabels {
                result: result.into(),
            })
            .inc();
    }
}

impl DeliveryObserver for Metrics {
    fn attempt(&self, result: AttemptLabel, latency: Duration) {
        self.deliveries
            .get_or_create(&PollLabels {
                result: result.into(),
            })
            .inc();
        self.delivery_duration.observe(latency.as_secs_f64());
    }

    fn given_up(&self, why: GiveUp) {
        self.notifications_given_up
            .get_or_create(&ReasonLabels { reason: why.into() })
            .inc();
    }

    fn pending(&self, total: usize) {
        self.notifications_pending
            .set(i64::try_from(total).unwrap_or(i64::MAX));
    }
}

impl RequestObserver for Metrics {
    fn observe(&self, outcome: &RequestOutcome<'_>) {
        let labels = RequestLabels {
            action: outcome.action.to_string(),
            result: outcome.result_label(),
            ret_code: outcome
                .ret_code
                .map_or_else(|| "none".to_string(), |c| c.to_string()),
            http_status: outcome
                .http_status
                .map_or_else(|| "none".to_string(), |s| s.to_string()),
        };
        self.ucloud_requests.get_or_create(&labels).inc();
        self.ucloud_request_duration
            .get_or_create(&ActionLabels {
                action: labels.action,
            })
            .observe(outcome.latency.as_secs_f64());
        self.rate_limit_wait
            .observe(outcome.rate_limit_wait.as_secs_f64());
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
