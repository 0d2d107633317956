//! The per-TagWatch series: `tagwatch_tagwatch_info` (always 1, its labels say where the
//! TagWatch stands), `tagwatch_tagwatch_last_sync_timestamp_seconds` (its
//! `status.lastSyncTime`), `tagwatch_tagwatch_ready_transition_timestamp_seconds` (when its
//! `Ready` condition last changed status) and `tagwatch_tagwatch_interval_seconds` (its
//! `spec.interval`), the last two so that an alert can say "not Ready for N of its own
//! intervals" whatever each TagWatch's interval is. All are rebuilt from the controllers' caches at every scrape,
//! so a TagWatch has exactly one series of each while it exists and none once it is
//! deleted, and a changed label (a new latest tag, another reason) replaces its series
//! instead of leaving the old one behind.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use kube::ResourceExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::api::conditions::{self, READY};
use crate::api::v1alpha1::TagWatch;
use crate::controller::spec::Timing;

/// The labels of `tagwatch_tagwatch_info`: the TagWatch, what it watches, and its state.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct InfoLabels {
    pub namespace: String,
    pub name: String,
    pub repo: String,
    pub image: String,
    /// `status.latestTag`, empty before the first successful poll.
    pub latest_tag: String,
    /// The `Ready` condition's status: `True`, `False` or `Unknown` (no condition yet).
    pub ready: String,
    /// The `Ready` condition's reason (`Succeeded` or a failure reason), empty without one.
    pub reason: String,
    /// `spec.suspend`: `true` or `false`.
    pub suspended: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabels {
    namespace: String,
    name: String,
}

/// The labels `tw`'s info series has now.
pub(super) fn info_labels(tw: &TagWatch) -> InfoLabels {
    let ready = tw
        .status
        .as_ref()
        .and_then(|s| conditions::find(&s.conditions, READY));
    InfoLabels {
        namespace: tw.namespace().unwrap_or_default(),
        name: tw.name_any(),
        repo: tw.spec.repo_name.clone(),
        image: tw.spec.image_name.clone(),
        latest_tag: tw
            .status
            .as_ref()
            .and_then(|s| s.latest_tag.clone())
            .unwrap_or_default(),
        ready: ready.map_or_else(|| "Unknown".to_string(), |c| c.status.clone()),
        reason: ready.map(|c| c.reason.clone()).unwrap_or_default(),
        suspended: tw.spec.suspend.to_string(),
    }
}

/// The per-TagWatch families, registered once.
#[derive(Debug)]
pub(super) struct PerTagWatch {
    info: Family<InfoLabels, Gauge>,
    last_sync: Family<ObjectLabels, Gauge<f64, AtomicU64>>,
    ready_transition: Family<ObjectLabels, Gauge<f64, AtomicU64>>,
    interval: Family<ObjectLabels, Gauge<f64, AtomicU64>>,
    /// Held from a refill until its text is encoded, so that concurrent scrapes never
    /// see each other's half-filled families.
    scrape: Mutex<()>,
}

impl PerTagWatch {
    pub fn register(registry: &mut Registry) -> Self {
        let info = Family::<InfoLabels, Gauge>::default();
        let last_sync = Family::<ObjectLabels, Gauge<f64, AtomicU64>>::default();
        let ready_transition = Family::<ObjectLabels, Gauge<f64, AtomicU64>>::default();
        let interval = Family::<ObjectLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "tagwatch_info",
            "One series per TagWatch served, always 1: what it watches, its latest tag, its Ready status and reason, whether it is suspended",
            info.clone(),
        );
        registry.register_with_unit(
            "tagwatch_last_sync_timestamp",
            "status.lastSyncTime of each TagWatch served: when a successful poll last wrote status (refreshed at least every --last-sync-refresh while polls succeed)",
            Unit::Seconds,
            last_sync.clone(),
        );
        registry.register_with_unit(
            "tagwatch_ready_transition_timestamp",
            "lastTransitionTime of each TagWatch's Ready condition: when Ready last changed status (absent before the first condition)",
            Unit::Seconds,
            ready_transition.clone(),
        );
        registry.register_with_unit(
            "tagwatch_interval",
            "spec.interval of each TagWatch served (absent while it does not parse)",
            Unit::Seconds,
            interval.clone(),
        );
        PerTagWatch {
            info,
            last_sync,
            ready_transition,
            interval,
            scrape: Mutex::new(()),
        }
    }

    /// Replaces every series with those of `tagwatches`; encode while holding the guard.
    pub fn refill(&self, tagwatches: &[Arc<TagWatch>]) -> MutexGuard<'_, ()> {
        let guard = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
        self.info.clear();
        self.last_sync.clear();
        self.ready_transition.clear();
        self.interval.clear();
        for tw in tagwatches {
            let labels = info_labels(tw);
            let object = ObjectLabels {
                namespace: labels.namespace.clone(),
                name: labels.name.clone(),
            };
            let status = tw.status.as_ref();
            if let Some(time) = status.and_then(|s| s.last_sync_time.as_ref()) {
                self.last_sync
                    .get_or_create(&object)
                    .set(unix_seconds(&time.0));
            }
            let ready = status.and_then(|s| conditions::find(&s.conditions, READY));
            if let Some(ready) = ready {
                let changed = unix_seconds(&ready.last_transition_time.0);
                self.ready_transition.get_or_create(&object).set(changed);
            }
            if let Ok(timing) = Timing::from_spec(&tw.spec.interval, None) {
                let seconds = timing.interval.as_secs_f64();
                self.interval.get_or_create(&object).set(seconds);
            }
            self.info.get_or_create(&labels).set(1);
        }
        guard
    }
}

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
