//! The controllers' TagWatch caches (kube-runtime reflector stores), registered as the
//! controllers start: whether they have all been filled by their first list (for
//! `/readyz`), and what they hold (for the metrics computed at scrape time).

use std::sync::{Arc, Mutex};

use futures::FutureExt;
use kube::runtime::reflector::Store;

use crate::api::conditions::{self, READY};
use crate::api::v1alpha1::TagWatch;

/// How many cached TagWatches have each `Ready` condition status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadyCounts {
    /// `Ready=True`.
    pub ready: u64,
    /// `Ready=False`.
    pub not_ready: u64,
    /// No `Ready` condition yet, or a status other than True/False.
    pub unknown: u64,
}

/// The TagWatch stores of the running controllers. Cheap to clone; clones share them.
#[derive(Clone, Default)]
pub struct Caches {
    stores: Arc<Mutex<Vec<Store<TagWatch>>>>,
}

impl Caches {
    /// Registers the store of a controller.
    pub fn add(&self, store: Store<TagWatch>) {
        self.stores.lock().expect("caches").push(store);
    }

    /// True once at least one store is registered and every store holds its first
    /// complete list.
    pub fn synced(&self) -> bool {
        let stores = self.stores.lock().expect("caches");
        !stores.is_empty()
            && stores.iter().all(|store| {
                store
                    .wait_until_ready()
                    .now_or_never()
                    .is_some_and(|ready| ready.is_ok())
            })
    }

    /// Every cached TagWatch.
    pub fn tagwatches(&self) -> Vec<Arc<TagWatch>> {
        let stores = self.stores.lock().expect("caches").clone();
        stores.iter().flat_map(Store::state).collect()
    }
}

/// Counts `tagwatches` by the status of their `Ready` condition.
pub fn ready_counts(tagwatches: &[Arc<TagWatch>]) -> ReadyCounts {
    let mut counts = ReadyCounts::default();
    for tw in tagwatches {
        let status = tw
            .status
            .as_ref()
            .and_then(|s| conditions::find(&s.conditions, READY))
            .map(|c| c.status.as_str());
        match status {
            Some("True") => counts.ready += 1,
            Some("False") => counts.not_ready += 1,
            _ => counts.unknown += 1,
        }
    }
    counts
}

/// The sum of `status.tagCount` over `tagwatches`.
pub fn tags_tracked(tagwatches: &[Arc<TagWatch>]) -> i64 {
    tagwatches
        .iter()
        .filter_map(|tw| tw.status.as_ref()?.tag_count)
        .sum()
}

#[cfg(test)]
mod tests {
    use kube::runtime::reflector::store;
    use kube::runtime::watcher::Event;

    use super::*;

    /// A TagWatch `ns/name` with a `Ready` condition (none for `None`) and a tag count.
    fn tagwatch(name: &str, ready: Option<bool>, tags: Option<i64>) -> TagWatch {
        let tw = TagWatch::test().named(name).in_namespace("ns");
        let tw = match ready {
            Some(ready) => tw.synced(0, ready),
            None => tw.with_status(Default::default()),
        };
        tw.tag_count(tags)
    }

    #[test]
    fn counts_ready_statuses_and_sums_tag_counts() {
        let all: Vec<Arc<TagWatch>> = [
            tagwatch("a", Some(true), Some(3)),
            tagwatch("b", Some(true), Some(4)),
            tagwatch("c", Some(false), None),
            tagwatch("d", None, None),
        ]
        .into_iter()
        .map(Arc::new)
        .collect();
        assert_eq!(
            ready_counts(&all),
            ReadyCounts {
                ready: 2,
                not_ready: 1,
                unknown: 1
            }
        );
        assert_eq!(tags_tracked(&all), 7);
    }

    #[test]
    fn synced_once_every_store_had_its_first_list() {
        let caches = Caches::default();
        assert!(!caches.synced(), "no store registered yet");
        let (first, mut first_writer) = store::<TagWatch>();
        let (second, mut second_writer) = store::<TagWatch>();
        caches.add(first);
        caches.add(second);
        assert!(!caches.synced());
        let listed = |tw: TagWatch| [Event::Init, Event::InitApply(tw), Event::InitDone];
        for event in listed(tagwatch("a", Some(true), Some(1))) {
            first_writer.apply_watcher_event(&event);
        }
        assert!(!caches.synced(), "the second store is still empty");
        for event in listed(tagwatch("b", None, None)) {
            second_writer.apply_watcher_event(&event);
        }
        assert!(caches.synced());
        let mut names: Vec<String> = caches
            .tagwatches()
            .iter()
            .map(|tw| tw.metadata.name.clone().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a", "b"]);
    }
}
