//! Wires the controller to the cluster: one kube-runtime `Controller` per namespace in
//! scope (or one for all namespaces), each watching TagWatches and the metadata of
//! Secrets, so that a Secret change wakes the TagWatches that reference it (for UCloud
//! credentials or a notification target) and drops its cached credentials (replayed
//! listings are not changes, see [`super::secret_changes`]), and woken by
//! the notifier when a delivery attempt ends. Of a TagWatch's own changes only a new
//! generation or a requested poll wakes it ([`spec_or_requested_poll`]). Stops gracefully
//! on the shutdown signal.

use std::sync::Arc;

use futures::{StreamExt, future::join_all};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, PartialObjectMeta};
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{PredicateConfig, WatchStreamExt, watcher};

use super::caches::Caches;
use super::secret_changes::SecretVersions;
use crate::api::v1alpha1::TagWatch;
use crate::controller::context::Context;
use crate::controller::reconcile::{error_policy, reconcile};

/// Which TagWatches the operator serves.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Namespaces to serve; empty means all namespaces.
    pub namespaces: Vec<String>,
    /// Optional label selector on TagWatches.
    pub label_selector: Option<String>,
}

/// Runs the controllers until `shutdown` resolves, then lets running polls finish. Each
/// controller's TagWatch cache is registered in `caches`.
pub async fn run(
    ctx: Arc<Context>,
    caches: Caches,
    scope: Scope,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let concurrency = ctx.settings.concurrency;
    let shutdown = futures::future::FutureExt::shared(Box::pin(shutdown));
    let targets: Vec<Option<String>> = if scope.namespaces.is_empty() {
        vec![None]
    } else {
        scope.namespaces.iter().cloned().map(Some).collect()
    };
    let controllers = targets.into_iter().map(|namespace| {
        let (tagwatches, secrets) = match &namespace {
            Some(ns) => (
                Api::<TagWatch>::namespaced(ctx.kube.clone(), ns),
                Api::<PartialObjectMeta<Secret>>::namespaced(ctx.kube.clone(), ns),
            ),
            None => (
                Api::<TagWatch>::all(ctx.kube.clone()),
                Api::<PartialObjectMeta<Secret>>::all(ctx.kube.clone()),
            ),
        };
        let mut config = watcher::Config::default().any_semantic();
        if let Some(selector) = &scope.label_selector {
            config = config.labels(selector);
        }
        let (store, writer) = reflector::store();
        let trigger = watcher(tagwatches, config)
            .default_backoff()
            .modify(strip_for_cache)
            .reflect(writer)
            .touched_objects()
            .predicate_filter(spec_or_requested_poll, PredicateConfig::default());
        let controller = Controller::for_stream(trigger, store.clone())
            .with_config(controller::Config::default().concurrency(concurrency))
            .reconcile_on(ctx.notifier.wakeups(namespace.clone()));
        caches.add(store.clone());
        let mut versions = SecretVersions::default();
        let secret_changes = watcher(secrets, watcher::Config::default().any_semantic())
            .default_backoff()
            .filter_map(move |event| {
                let change = match event {
                    Ok(event) => versions.change(event).map(Ok),
                    Err(error) => Some(Err(error)),
                };
                std::future::ready(change)
            });
        let mapper_ctx = ctx.clone();
        let mapper =
            move |secret: PartialObjectMeta<Secret>| secret_touched(&mapper_ctx, &store, &secret);
        controller
            .watches_stream(secret_changes, mapper)
            .graceful_shutdown_on(shutdown.clone())
            .run(reconcile, error_policy, ctx.clone())
            .for_each(|result| async move {
                if let Err(error) = result {
                    tracing::debug!(%error, "reconcile loop");
                }
            })
    });
    join_all(controllers).await;
}

/// What a watched change must alter to wake a TagWatch's reconcile: its generation (the
/// spec) or its `reconcile-requested-at` annotation. Status writes, the operator's own
/// above all (two per new generation: `Reconciling`, then the result), wake nothing: a
/// reconcile they woke would find nothing due, and would first read the TagWatch from
/// the apiserver whenever the cache had not yet caught up with the second write. The
/// cache still takes every change; polls, retries and deliveries come back by requeue.
fn spec_or_requested_poll(tw: &TagWatch) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    tw.metadata.generation.hash(&mut hasher);
    tw.annotations()
        .get(crate::api::RECONCILE_REQUESTED_AT)
        .hash(&mut hasher);
    Some(hasher.finish())
}

/// The annotation `kubectl apply` keeps a copy of the whole object in.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what a reconcile does not need from a cached TagWatch: the managed fields
/// (one entry per field manager, often larger than the spec), `kubectl apply`'s copy of
/// the object, and `status.tags` (up to `historyLimit` tags, most of the cache with long
/// histories). Whether anything changed is decided from `status.revision` and
/// `status.listing`; a reconcile that needs the recorded tags reads them then
/// ([`crate::controller::freshness::with_tags`]).
fn strip_for_cache(tw: &mut TagWatch) {
    tw.metadata.managed_fields = None;
    if let Some(annotations) = tw.metadata.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
    if let Some(status) = tw.status.as_mut() {
        status.tags = Vec::new();
    }
}

/// Drops the cached credentials of a changed Secret and the remembered schedules of the
/// TagWatches polling with it, makes notifications to it due at once, and returns the
/// TagWatches using it.
fn secret_touched(
    ctx: &Context,
    store: &Store<TagWatch>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<TagWatch>> {
    let namespace = secret.namespace().unwrap_or_default();
    let name = secret.name_any();
    ctx.credentials.invalidate(&namespace, &name);
    store
        .state()
        .into_iter()
        .filter(|tw| tw.namespace().as_deref() == Some(namespace.as_str()))
        .filter_map(|tw| {
            let key = ObjectRef::from_obj(&*tw);
            let notifies = tw.spec.notify.iter().any(|t| t.secret_ref.name == name);
            if notifies {
                ctx.notifier.secret_changed(&key, &name);
            }
            let polls = tw.spec.secret_ref.as_ref().is_some_and(|r| r.name == name);
            if polls {
                // A failed TagWatch then polls at once, a Ready one an interval after
                // its last sync.
                ctx.schedules.forget(&key);
            }
            (notifies || polls).then_some(key)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_new_generation_or_a_requested_poll_wakes_a_reconcile() {
        let first = spec_or_requested_poll(&TagWatch::test().at_version("1"));
        let status_written = TagWatch::test().at_version("2").ready();
        assert_eq!(
            spec_or_requested_poll(&status_written),
            first,
            "a status write (another resourceVersion and status) wakes nothing"
        );
        let spec_changed = TagWatch::test().generation(2);
        assert_ne!(spec_or_requested_poll(&spec_changed), first);
        let requested = spec_or_requested_poll(&TagWatch::test().requesting_poll("a"));
        assert_ne!(requested, first);
        let requested_again = TagWatch::test().requesting_poll("b");
        assert_ne!(spec_or_requested_poll(&requested_again), requested);
    }
}
