//! State shared by every reconcile: the Kubernetes and UCloud clients, credentials,
//! the event publisher, the notifier and what is remembered of each TagWatch's
//! schedule.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::runtime::reflector::ObjectRef;

use crate::api::v1alpha1::TagWatch;
use crate::controller::caches::Caches;
use crate::controller::credentials::CredentialStore;
use crate::controller::events::EventPublisher;
use crate::controller::freshness::WrittenVersions;
use crate::controller::metrics::Metrics;
use crate::controller::schedule::PollMemory;
use crate::notify::Notifier;
use crate::ucloud::UhubClient;

/// Everything a reconcile needs.
pub struct Context {
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// The UCloud client (shared connection pool and rate limiter).
    pub uhub: UhubClient,
    /// Credentials from Secrets or operator defaults.
    pub credentials: Arc<CredentialStore>,
    /// Publishes events exactly once.
    pub events: EventPublisher,
    /// Sends webhook notifications outside the poll.
    pub notifier: Arc<Notifier>,
    /// The process's metrics.
    pub metrics: Arc<Metrics>,
    /// The controllers' TagWatch caches, registered as the controllers start.
    pub caches: Caches,
    /// Caps the polls running at once across every namespace's controller.
    pub polls: tokio::sync::Semaphore,
    /// What this process last wrote to each TagWatch's status, to tell a lagging cache.
    pub written: WrittenVersions,
    memory: Mutex<HashMap<ObjectRef<TagWatch>, PollMemory>>,
    last_sync_refresh_ms: AtomicU64,
}

/// How old `lastSyncTime` may get before a poll that changed nothing writes it, unless
/// [`Context::set_last_sync_refresh`] says otherwise.
pub const DEFAULT_LAST_SYNC_REFRESH: Duration = Duration::from_secs(600);

/// Polls running at once unless [`Context::limit_polls`] says otherwise.
pub const DEFAULT_CONCURRENT_POLLS: usize = 16;

impl Context {
    /// Allows `limit` polls at once instead of [`DEFAULT_CONCURRENT_POLLS`] (call before
    /// the controllers start).
    pub fn limit_polls(&self, limit: usize) {
        let current = self.polls.available_permits();
        if limit > current {
            self.polls.add_permits(limit - current);
        } else {
            self.polls.forget_permits(current - limit);
        }
    }

    /// A context over the given clients, with metrics of its own.
    pub fn new(
        kube: kube::Client,
        uhub: UhubClient,
        credentials: Arc<CredentialStore>,
        events: EventPublisher,
        notifier: Arc<Notifier>,
    ) -> Arc<Self> {
        let metrics = Arc::new(Metrics::new());
        Self::with_metrics(kube, uhub, credentials, events, notifier, metrics)
    }

    /// A context over the given clients recording into `metrics` (the same the UCloud
    /// client observes into).
    pub fn with_metrics(
        kube: kube::Client,
        uhub: UhubClient,
        credentials: Arc<CredentialStore>,
        events: EventPublisher,
        notifier: Arc<Notifier>,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Arc::new(Self {
            kube,
            uhub,
            credentials,
            events,
            notifier,
            metrics,
            caches: Caches::default(),
            polls: tokio::sync::Semaphore::new(DEFAULT_CONCURRENT_POLLS),
            written: WrittenVersions::default(),
            memory: Mutex::default(),
            last_sync_refresh_ms: AtomicU64::new(DEFAULT_LAST_SYNC_REFRESH.as_millis() as u64),
        })
    }

    /// How old `lastSyncTime` may get before a poll that changed nothing writes it
    /// (see [`crate::controller::status::needs_write`]).
    pub fn last_sync_refresh(&self) -> Duration {
        Duration::from_millis(self.last_sync_refresh_ms.load(Ordering::Relaxed))
    }

    /// Sets [`Context::last_sync_refresh`]; zero writes status after every poll.
    pub fn set_last_sync_refresh(&self, refresh: Duration) {
        let millis = u64::try_from(refresh.as_millis()).unwrap_or(u64::MAX);
        self.last_sync_refresh_ms.store(millis, Ordering::Relaxed);
    }

    /// What is remembered of `key`'s schedule.
    pub fn memory(&self, key: &ObjectRef<TagWatch>) -> Option<PollMemory> {
        self.memory.lock().expect("poll memory").get(key).copied()
    }

    /// Remembers `key`'s schedule.
    pub fn remember(&self, key: ObjectRef<TagWatch>, memory: PollMemory) {
        self.memory.lock().expect("poll memory").insert(key, memory);
    }

    /// Forgets `key` (deleted or suspended).
    pub fn forget(&self, key: &ObjectRef<TagWatch>) {
        self.memory.lock().expect("poll memory").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify;
    use crate::ucloud::ClientConfig;

    #[tokio::test]
    async fn the_poll_limit_can_be_raised_and_lowered() {
        let (service, _handle) = tower_test::mock::pair::<
            http::Request<kube::client::Body>,
            http::Response<kube::client::Body>,
        >();
        let kube = kube::Client::new(service, "default");
        let uhub = UhubClient::new(ClientConfig::default()).unwrap();
        let ctx = Context::new(
            kube.clone(),
            uhub,
            CredentialStore::new(kube.clone(), None),
            EventPublisher::new(kube.clone(), "t"),
            notify::Notifier::new(
                kube.clone(),
                notify::NotifierConfig::default(),
                std::sync::Arc::new(notify::observe::NoObserver),
            )
            .unwrap(),
        );
        assert_eq!(ctx.polls.available_permits(), DEFAULT_CONCURRENT_POLLS);
        ctx.limit_polls(40);
        assert_eq!(ctx.polls.available_permits(), 40);
        ctx.limit_polls(2);
        assert_eq!(ctx.polls.available_permits(), 2);
    }
}
