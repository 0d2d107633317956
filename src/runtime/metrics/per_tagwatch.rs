//! The per-TagWatch series: `tagwatch_tagwatch_info` (always 1, its labels say where the
//! TagWatch stands), `tagwatch_tagwatch_last_sync_timestamp_seconds` (its
//! `status.lastSyncTime`), `tagwatch_tagwatch_ready_transition_timestamp_seconds` (when its
//! `Ready` condition last changed status) and `tagwatch_tagwatch_interval_seconds` (its
//! `spec.interval`), the last two so that an alert can say "not Ready for N of its own
//! intervals" whatever each TagWatch's interval is. A collector writes them from the
//! controllers' caches at every scrape, borrowing every label from the cached objects
//! (no per-series map to fill, hash or clear), so a TagWatch has exactly one series of each while it exists and none once it is
//! deleted, and a changed label (a new latest tag, another reason) replaces its series
//! instead of leaving the old one behind.

use std::fmt;
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use crate::api::conditions::{self, READY};
use crate::api::v1alpha1::TagWatch;
use crate::controller::spec::Timing;

const INFO_HELP: &str = "One series per TagWatch served, always 1: what it watches, its latest tag, its Ready status and reason, whether it is suspended";
const LAST_SYNC_HELP: &str = "status.lastSyncTime of each TagWatch served: when a successful poll last wrote status (refreshed at least every --last-sync-refresh while polls succeed)";
const READY_TRANSITION_HELP: &str = "lastTransitionTime of each TagWatch's Ready condition: when Ready last changed status (absent before the first condition)";
const INTERVAL_HELP: &str =
    "spec.interval of each TagWatch served (absent while it does not parse)";

/// What one TagWatch's series say, borrowed from it: no label is copied or hashed, so
/// a scrape of 10,000 TagWatches costs little more than writing their text.
struct Series<'a> {
    namespace: &'a str,
    name: &'a str,
    repo: &'a str,
    image: &'a str,
    /// `status.latestTag`, empty before the first successful poll.
    latest_tag: &'a str,
    /// The `Ready` condition's status: `True`, `False` or `Unknown` (no condition yet).
    ready: &'a str,
    /// The `Ready` condition's reason (`Succeeded` or a failure reason), empty without one.
    reason: &'a str,
    /// `spec.suspend`.
    suspended: bool,
    last_sync: Option<f64>,
    ready_transition: Option<f64>,
    interval: Option<f64>,
}

impl<'a> Series<'a> {
    fn of(tw: &'a TagWatch) -> Self {
        let status = tw.status.as_ref();
        let ready = status.and_then(|s| conditions::find(&s.conditions, READY));
        Series {
            namespace: tw.metadata.namespace.as_deref().unwrap_or_default(),
            name: tw.metadata.name.as_deref().unwrap_or_default(),
            repo: &tw.spec.repo_name,
            image: &tw.spec.image_name,
            latest_tag: status
                .and_then(|s| s.latest_tag.as_deref())
                .unwrap_or_default(),
            ready: ready.map_or("Unknown", |c| c.status.as_str()),
            reason: ready.map_or("", |c| c.reason.as_str()),
            suspended: tw.spec.suspend,
            last_sync: status
                .and_then(|s| s.last_sync_time.as_ref())
                .map(|t| unix_seconds(&t.0)),
            ready_transition: ready.map(|c| unix_seconds(&c.last_transition_time.0)),
            interval: Timing::from_spec(&tw.spec.interval, None)
                .ok()
                .map(|t| t.interval.as_secs_f64()),
        }
    }

    fn info_labels(&self) -> [(&'static str, &'a str); 8] {
        [
            ("namespace", self.namespace),
            ("name", self.name),
            ("repo", self.repo),
            ("image", self.image),
            ("latest_tag", self.latest_tag),
            ("ready", self.ready),
            ("reason", self.reason),
            ("suspended", if self.suspended { "true" } else { "false" }),
        ]
    }

    fn object_labels(&self) -> [(&'static str, &'a str); 2] {
        [("namespace", self.namespace), ("name", self.name)]
    }
}

/// The per-TagWatch families: a collector registered once, encoding the TagWatches
/// of the latest [`PerTagWatch::set`] at each scrape.
#[derive(Debug, Default)]
pub(super) struct PerTagWatch {
    tagwatches: Mutex<Vec<Arc<TagWatch>>>,
}

impl PerTagWatch {
    pub fn register(registry: &mut Registry) -> Arc<Self> {
        let collector = Arc::new(PerTagWatch::default());
        registry.register_collector(Box::new(Arc::clone(&collector)));
        collector
    }

    /// The TagWatches the next encoding shows (a complete snapshot of the caches, so
    /// concurrent scrapes each see one whole set).
    pub fn set(&self, tagwatches: Vec<Arc<TagWatch>>) {
        *self.tagwatches.lock().unwrap_or_else(|e| e.into_inner()) = tagwatches;
    }
}

impl Collector for PerTagWatch {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let tagwatches = self
            .tagwatches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let series: Vec<Series> = tagwatches.iter().map(|tw| Series::of(tw)).collect();
        let mut family =
            encoder.encode_descriptor("tagwatch_info", INFO_HELP, None, MetricType::Gauge)?;
        for one in &series {
            let labels = one.info_labels();
            ConstGauge::new(1i64).encode(family.encode_family(&labels)?)?;
        }
        let seconds: [SecondsFamily; 3] = [
            ("tagwatch_last_sync_timestamp", LAST_SYNC_HELP, |s| {
                s.last_sync
            }),
            (
                "tagwatch_ready_transition_timestamp",
                READY_TRANSITION_HELP,
                |s| s.ready_transition,
            ),
            ("tagwatch_interval", INTERVAL_HELP, |s| s.interval),
        ];
        for (name, help, value) in seconds {
            let mut family =
                encoder.encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Gauge)?;
            for one in &series {
                if let Some(value) = value(one) {
                    let labels = one.object_labels();
                    ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
                }
            }
        }
        Ok(())
    }
}

/// A family of one value in seconds per TagWatch: name, help, and the value (none: no
/// series for that TagWatch).
type SecondsFamily = (&'static str, &'static str, fn(&Series) -> Option<f64>);

fn unix_seconds(time: &jiff::Timestamp) -> f64 {
    time.as_millisecond() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use kube::runtime::reflector::store;
    use kube::runtime::watcher::Event;
    use serde_json::json;

    use super::super::tests::sample;
    use super::super::{Caches, Metrics};
    use super::*;

    fn info(name: &str, latest: &str, ready: &str, reason: &str, suspended: bool) -> String {
        format!(
            "tagwatch_tagwatch_info{{namespace=\"ns\",name=\"{name}\",repo=\"demo\",image=\"web\",\
             latest_tag=\"{latest}\",ready=\"{ready}\",reason=\"{reason}\",suspended=\"{suspended}\"}}"
        )
    }

    fn last_sync(name: &str) -> String {
        format!("tagwatch_tagwatch_last_sync_timestamp_seconds{{namespace=\"ns\",name=\"{name}\"}}")
    }

    fn per_object(family: &str, name: &str) -> String {
        format!("tagwatch_tagwatch_{family}{{namespace=\"ns\",name=\"{name}\"}}")
    }

    fn with_latest(mut tw: TagWatch, tag: &str) -> TagWatch {
        tw.status.get_or_insert_default().latest_tag = Some(tag.to_string());
        tw
    }

    #[test]
    fn one_series_per_tagwatch_with_its_state_gone_with_it() {
        let tagwatch = |name: &str| TagWatch::test().named(name).in_namespace("ns");
        let ready = with_latest(tagwatch("ready").synced(1_700_000_000, true), "v1.2.0");
        let failing = tagwatch("failing").synced(1_600_000_000, false);
        let new = tagwatch("new").with_spec(json!({"suspend": true, "interval": "90s"}));
        let metrics = Metrics::new();
        let caches = Caches::default();
        let (reader, mut writer) = store::<TagWatch>();
        caches.add(reader);
        for event in [
            Event::Init,
            Event::InitApply(ready.clone()),
            Event::InitApply(failing.clone()),
            Event::InitApply(new),
            Event::InitDone,
        ] {
            writer.apply_watcher_event(&event);
        }
        let text = metrics.encode(&caches);
        assert!(
            text.contains("# TYPE tagwatch_tagwatch_info gauge\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE tagwatch_tagwatch_last_sync_timestamp_seconds gauge\n"),
            "{text}"
        );
        let ready_info = info("ready", "v1.2.0", "True", "Succeeded", false);
        assert_eq!(sample(&text, &ready_info), Some(1.0), "{text}");
        let failing_info = info("failing", "", "False", "Throttled", false);
        assert_eq!(sample(&text, &failing_info), Some(1.0), "{text}");
        let new_info = info("new", "", "Unknown", "", true);
        assert_eq!(sample(&text, &new_info), Some(1.0), "{text}");
        assert_eq!(sample(&text, &last_sync("ready")), Some(1_700_000_000.0));
        assert_eq!(sample(&text, &last_sync("failing")), Some(1_600_000_000.0));
        assert_eq!(sample(&text, &last_sync("new")), None, "never synced");
        assert_eq!(text.matches("tagwatch_tagwatch_info{").count(), 3);
        let transition = |name| per_object("ready_transition_timestamp_seconds", name);
        assert_eq!(sample(&text, &transition("ready")), Some(1_700_000_000.0));
        assert_eq!(sample(&text, &transition("failing")), Some(1_600_000_000.0));
        assert_eq!(sample(&text, &transition("new")), None, "no condition yet");
        let interval = |name| per_object("interval_seconds", name);
        assert_eq!(sample(&text, &interval("ready")), Some(60.0), "{text}");
        assert_eq!(sample(&text, &interval("new")), Some(90.0), "{text}");

        // A new latest tag replaces the series; a deleted TagWatch leaves none.
        writer.apply_watcher_event(&Event::Apply(with_latest(ready, "v1.3.0")));
        writer.apply_watcher_event(&Event::Delete(failing));
        let text = metrics.encode(&caches);
        assert_eq!(sample(&text, &ready_info), None, "{text}");
        let moved = info("ready", "v1.3.0", "True", "Succeeded", false);
        assert_eq!(sample(&text, &moved), Some(1.0), "{text}");
        assert_eq!(sample(&text, &failing_info), None, "{text}");
        assert_eq!(sample(&text, &last_sync("failing")), None, "{text}");
        assert_eq!(sample(&text, &transition("failing")), None, "{text}");
        assert_eq!(sample(&text, &interval("failing")), None, "{text}");
        assert_eq!(text.matches("tagwatch_tagwatch_info{").count(), 2);
    }

    #[test]
    fn nothing_per_tagwatch_without_cached_tagwatches() {
        let text = Metrics::new().encode(&Caches::default());
        assert!(!text.contains("tagwatch_tagwatch_info{"), "{text}");
        assert!(!text.contains("tagwatch_tagwatch_last_sync_timestamp_seconds{"));
        assert!(!text.contains("tagwatch_tagwatch_interval_seconds{"));
        assert!(!text.contains("tagwatch_tagwatch_ready_transition_timestamp_seconds{"));
    }
}
