//! The notifier: sends due notifications outside the poll, on a bounded pool of workers
//! with at most one attempt at a time per TagWatch and target, keeps each attempt's
//! result until a reconcile has written it to status, and wakes that TagWatch's
//! reconcile through the streams handed to kube-runtime's `Controller::reconcile_on`.
//!
//! It also remembers for a while what was decided for each delivery id (delivered,
//! given up, or not before a time), so that a reconcile working from a cached TagWatch
//! older than the last status write neither sends a delivered notification again nor
//! retries before the backoff.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::Stream;
use jiff::Timestamp;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::{Semaphore, mpsc};
use uhub::backoff::Backoff;

use super::clients::Clients;
use super::deliver::{self, Delivery};
use super::observe::{AttemptLabel, DeliveryObserver};
use super::pending::{AttemptFailure, AttemptReason, AttemptResult, Merged};
use super::target::{self, TargetError};
use crate::api::v1alpha1::{PendingNotification, TagWatch};

/// The longest wait between two attempts of one notification.
pub const RETRY_CAP: Duration = Duration::from_secs(300);
/// The wait between attempts of one notification.
const RETRY_BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(2),
    cap: RETRY_CAP,
};
/// How long the decision about a delivery id is remembered.
const MEMO_TTL: Duration = Duration::from_secs(1800);
/// How long a result waits for its notification to show up in a reconciled status
/// (the cache lags behind the write that recorded it by far less).
const RESULT_TTL: Duration = Duration::from_secs(600);

type Key = ObjectRef<TagWatch>;

/// Settings of the notifier (`tagwatch run --notify-*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifierConfig {
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Notifications older than this are given up.
    pub max_age: Duration,
    /// Attempts running at once, over all TagWatches.
    pub concurrency: usize,
}

/// How long one attempt may take unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How old a notification may get unless configured otherwise.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
/// Attempts running at once unless configured otherwise.
pub const DEFAULT_CONCURRENCY: u16 = 8;

impl Default for NotifierConfig {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            max_age: DEFAULT_MAX_AGE,
            concurrency: usize::from(DEFAULT_CONCURRENCY),
        }
    }
}

/// Sends notifications; shared by every reconcile through the context.
pub struct Notifier {
    kube: kube::Client,
    clients: Clients,
    config: NotifierConfig,
    pool: Arc<Semaphore>,
    observer: Arc<dyn DeliveryObserver>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    in_flight: HashSet<String>,
    results: HashMap<Key, Vec<AttemptResult>>,
    memos: HashMap<String, (Memo, Instant)>,
    forced: HashSet<(Key, String)>,
    lanes: HashMap<(Key, String), Arc<Semaphore>>,
    /// Pending notifications by TagWatch, only those with some, and their sum.
    pending: HashMap<Key, usize>,
    pending_total: usize,
    wakers: Vec<(Option<String>, mpsc::UnboundedSender<Key>)>,
}

#[derive(Clone, Copy, Debug)]
enum Memo {
    /// Delivered or given up: never send again.
    Settled,
    /// Failed: not again before this time.
    RetryAt(Timestamp),
}

impl Notifier {
    /// A notifier reading target Secrets with `kube` and reporting to `observer`.
    pub fn new(
        kube: kube::Client,
        config: NotifierConfig,
        observer: Arc<dyn DeliveryObserver>,
    ) -> Result<Arc<Self>, deliver::ClientError> {
        Ok(Arc::new(Self {
            clients: Clients::new(config.timeout)?,
            pool: Arc::new(Semaphore::new(config.concurrency.max(1))),
            kube,
            config,
            observer,
            state: Mutex::default(),
        }))
    }

    /// The settings.
    pub fn config(&self) -> &NotifierConfig {
        &self.config
    }

    /// The delay before the next attempt after `attempts` failed ones: exponential from
    /// 2 s, stretched by up to 100% at random, at most [`RETRY_CAP`].
    pub fn backoff(&self, attempts: u32) -> Duration {
        RETRY_BACKOFF.stretched(attempts.saturating_sub(1))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("notifier state")
    }

    /// The results of `key`'s attempts not yet written to status.
    pub fn results(&self, key: &Key) -> Vec<AttemptResult> {
        self.state().results.get(key).cloned().unwrap_or_default()
    }

    /// Whether an attempt of delivery `id` is running.
    pub fn is_in_flight(&self, id: &str) -> bool {
        self.state().in_flight.contains(id)
    }

    /// Called once `merged` is written to `key`'s status: forgets the results folded in
    /// (and any older than ten minutes), remembers what was decided, and updates the
    /// pending gauge.
    pub fn committed(&self, key: &Key, merged: &Merged) {
        let now = Instant::now();
        let mut state = self.state();
        let stale = Timestamp::now() - RESULT_TTL;
        if let Some(results) = state.results.get_mut(key) {
            results.retain(|r| !merged.consumed.contains(&r.id) && r.finished_at > stale);
            if results.is_empty() {
                state.results.remove(key);
            }
        }
        let settled = merged
            .delivered
            .iter()
            .chain(merged.dropped.iter().map(|d| &d.notification.id));
        for id in settled {
            state.memos.insert(id.clone(), (Memo::Settled, now));
        }
        for n in &merged.pending {
            if let (true, Some(at)) = (merged.consumed.contains(&n.id), &n.next_attempt_at) {
                state.memos.insert(n.id.clone(), (Memo::RetryAt(at.0), now));
            }
        }
        state
            .memos
            .retain(|_, (_, at)| now.duration_since(*at) < MEMO_TTL);
        let count = merged.pending.len();
        let previous = if count == 0 {
            state.pending.remove(key)
        } else {
            state.pending.insert(key.clone(), count)
        };
        state.pending_total = state.pending_total - previous.unwrap_or(0) + count;
        let total = state.pending_total;
        drop(state);
        for dropped in &merged.dropped {
            self.observer.given_up(dropped.why);
        }
        self.observer.pending(total);
    }

    /// Starts an attempt for each of `pending` that is due at `now`, not running, and
    /// not awaiting a status write. Returns at once: attempts run on the worker pool.
    pub fn dispatch(self: &Arc<Self>, key: &Key, pending: &[PendingNotification], now: Timestamp) {
        let mut state = self.state();
        let awaiting: HashSet<String> = state
            .results
            .get(key)
            .map(|r| r.iter().map(|r| r.id.clone()).collect())
            .unwrap_or_default();
        state.lanes.retain(|_, lane| Arc::strong_count(lane) > 1);
        for notification in pending {
            let id = &notification.id;
            if state.in_flight.contains(id) || awaiting.contains(id) {
                continue;
            }
            let lane_key = (key.clone(), notification.secret_name.clone());
            let forced = state.forced.contains(&lane_key);
            let due = match state.memos.get(id) {
                Some((Memo::Settled, _)) => false,
                Some((Memo::RetryAt(at), _)) if !forced && *at > now => false,
                _ => {
                    forced
                        || notification
                            .next_attempt_at
                            .as_ref()
                            .is_none_or(|t| t.0 <= now)
                }
            };
            if !due {
                continue;
            }
            state.in_flight.insert(id.clone());
            let lane = state
                .lanes
                .entry(lane_key)
                .or_insert_with(|| Arc::new(Semaphore::new(1)))
                .clone();
            let task = Arc::clone(self).attempt(key.clone(), lane, notification.clone());
            tokio::spawn(task);
        }
        state.forced.retain(|(k, _)| k != key);
    }

    /// The Secret `secret` used by `key` changed: its pending notifications are due at
    /// once, whatever their backoff (a fixed Secret is used without delay).
    pub fn secret_changed(&self, key: &Key, secret: &str) {
        self.state()
            .forced
            .insert((key.clone(), secret.to_string()));
    }

    /// A stream of TagWatches (of `namespace`, or all with `None`) whose attempts ended,
    /// for `Controller::reconcile_on`.
    pub fn wakeups(&self, namespace: Option<String>) -> impl Stream<Item = Key> + Send + 'static {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.state().wakers.push((namespace, sender));
        futures::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|key| (key, receiver))
        })
    }

    fn wake(&self, key: &Key) {
        let mut state = self.state();
        state.wakers.retain(|(_, sender)| !sender.is_closed());
        for (namespace, sender) in &state.wakers {
            if namespace.is_none() || namespace.as_deref() == key.namespace.as_deref() {
                let _ = sender.send(key.clone());
            }
        }
    }

    async fn attempt(self: Arc<Self>, key: Key, lane: Arc<Semaphore>, n: PendingNotification) {
        let namespace = key.namespace.clone().unwrap_or_default();
        let failure = {
            let _lane = lane.acquire_owned().await;
            let _slot = Arc::clone(&self.pool).acquire_owned().await;
            let started = Instant::now();
            let failure = self.send(&namespace, &n).await.err();
            let latency = started.elapsed();
            self.observer.attempt(
                AttemptLabel::of(failure.as_ref().map(|f| f.reason)),
                latency,
            );
            match &failure {
                None => tracing::info!(%namespace, name = %key.name, delivery = %n.id,
                    secret = %n.secret_name, latency_ms = latency.as_millis() as u64, "notification delivered"),
                Some(failure) => {
                    tracing::warn!(%namespace, name = %key.name, delivery = %n.id,
                    secret = %n.secret_name, reason = %failure.reason, error = %failure.message, "notification attempt failed")
                }
            }
            failure
        };
        let result = AttemptResult {
            id: n.id.clone(),
            finished_at: Timestamp::now(),
            failure,
        };
        {
            let mut state = self.state();
            state.in_flight.remove(&n.id);
            state.results.entry(key.clone()).or_default().push(result);
        }
        self.wake(&key);
    }

    async fn send(&self, namespace: &str, n: &PendingNotification) -> Result<u16, AttemptFailure> {
        let secret = &n.secret_name;
        let target = match tokio::time::timeout(
            self.config.timeout,
            target::resolve(&self.kube, namespace, secret),
        )
        .await
        {
            Ok(Ok(target)) => target,
            Ok(Err(e @ TargetError::ReadFailed(_))) => {
                return Err(AttemptFailure::new(
                    AttemptReason::DeliveryFailed,
                    e.to_string(),
                ));
            }
            Ok(Err(e)) => {
                return Err(AttemptFailure::new(
                    AttemptReason::InvalidTarget,
                    e.to_string(),
                ));
            }
            Err(_) => {
                let message = format!("reading Secret {namespace}/{secret} timed out");
                return Err(AttemptFailure::new(AttemptReason::DeliveryFailed, message));
            }
        };
        let http = self.clients.get(target.ca.as_deref()).map_err(|e| {
            let message = format!(
                "Secret {namespace}/{secret}: the value of key {} is not a valid certificate ({e})",
                target::CA_KEY
            );
            AttemptFailure::new(AttemptReason::InvalidTarget, message)
        })?;
        let delivery = Delivery {
            id: &n.id,
            kind: n.type_,
            format: n.format,
            mode: n.cloud_events_mode.unwrap_or_default(),
            body: &n.body,
        };
        deliver::send(&http, &target, delivery, self.config.timeout)
            .await
            .map_err(|e| AttemptFailure::new(AttemptReason::DeliveryFailed, e.to_string()))
    }
}
