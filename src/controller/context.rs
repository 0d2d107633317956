//! State shared by every reconcile: the Kubernetes and UCloud clients, credentials, the
//! event publisher, the notifier, what is observed for metrics, the poll limit, what
//! this process last wrote, and what is remembered of each TagWatch's schedule.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::credentials::CredentialStore;
use super::events::EventPublisher;
use super::freshness::WrittenVersions;
use super::listing::{DEFAULT_FULL_LISTING_EVERY, FullReason, ListingKind, ListingResult};
use super::schedule::Memories;
use crate::notify::Notifier;

/// How old `lastSyncTime` may get before a poll that changed nothing writes it.
pub const DEFAULT_LAST_SYNC_REFRESH: Duration = Duration::from_secs(600);
/// Polls (and reconciles) running at once.
pub const DEFAULT_CONCURRENCY: u16 = 16;
/// The registry host in `status.latestImage`: UHub's public registry.
pub const DEFAULT_REGISTRY_HOST: &str = "uhub.service.ucloud.cn";

/// What a reconcile reports for metrics. Implementations must be cheap.
pub trait PollObserver: Send + Sync {
    /// A poll finished after `duration`: `failure` is `None` when it succeeded.
    fn poll(&self, failure: Option<super::failure::FailureReason>, duration: Duration);
    /// A scheduled poll started `late` after it was due.
    fn schedule_lag(&self, late: Duration);
    /// A poll whose status was written found `count` new tags.
    fn new_tags(&self, count: usize);
    /// A poll probed or listed every page, and found `result`.
    fn listing(&self, kind: ListingKind, result: ListingResult);
    /// A poll listed every page, for `reason`.
    fn full_listing(&self, reason: FullReason);
    /// A reconcile request of `spec.triggers` was made (`Triggered`) or failed.
    fn trigger(&self, result: super::triggers::TriggerReason);
}

/// Observes nothing.
pub struct NoObserver;

impl PollObserver for NoObserver {
    fn poll(&self, _: Option<super::failure::FailureReason>, _: Duration) {}
    fn schedule_lag(&self, _: Duration) {}
    fn new_tags(&self, _: usize) {}
    fn listing(&self, _: ListingKind, _: ListingResult) {}
    fn full_listing(&self, _: FullReason) {}
    fn trigger(&self, _: super::triggers::TriggerReason) {}
}

/// The operator's settings a reconcile reads (`tagwatch run` flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Polls running at once, at most (`--concurrency`).
    pub concurrency: u16,
    /// How old `lastSyncTime` may get before a poll that changed nothing writes it
    /// (`--last-sync-refresh`; zero writes after every poll).
    pub last_sync_refresh: Duration,
    /// Every page is listed at least once per this many polls (`--full-listing-every`;
    /// 1 lists every page at every poll: no probes).
    pub full_listing_every: NonZeroU32,
    /// The registry host `status.latestImage` names (`--registry-host`).
    pub registry_host: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: DEFAULT_CONCURRENCY,
            last_sync_refresh: DEFAULT_LAST_SYNC_REFRESH,
            full_listing_every: DEFAULT_FULL_LISTING_EVERY,
            registry_host: DEFAULT_REGISTRY_HOST.to_string(),
        }
    }
}

/// Everything a reconcile needs.
pub struct Context {
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// The UCloud client (shared connection pool and rate limiter).
    pub uhub: uhub::UhubClient,
    /// Credentials from Secrets or operator defaults.
    pub credentials: Arc<CredentialStore>,
    /// Publishes events exactly once.
    pub events: EventPublisher,
    /// Sends webhook notifications outside the poll.
    pub notifier: Arc<Notifier>,
    /// Receives poll measurements.
    pub observer: Arc<dyn PollObserver>,
    /// The settings.
    pub settings: Settings,
    /// Caps the polls running at once across every namespace's controller.
    pub polls: tokio::sync::Semaphore,
    /// What this process last wrote to each TagWatch's status, to tell a lagging cache.
    pub written: WrittenVersions,
    /// What is remembered of each TagWatch's schedule.
    pub schedules: Memories,
}

impl Context {
    /// A context over the given clients and settings, reporting to `observer`.
    pub fn new(
        kube: kube::Client,
        uhub: uhub::UhubClient,
        credentials: Arc<CredentialStore>,
        events: EventPublisher,
        notifier: Arc<Notifier>,
        observer: Arc<dyn PollObserver>,
        settings: Settings,
    ) -> Arc<Self> {
        Arc::new(Self {
            kube,
            uhub,
            credentials,
            events,
            notifier,
            observer,
            polls: tokio::sync::Semaphore::new(usize::from(settings.concurrency.max(1))),
            settings,
            written: WrittenVersions::default(),
            schedules: Memories::default(),
        })
    }
}
