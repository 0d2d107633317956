//! State shared by every reconcile: the Kubernetes and UCloud clients, credentials,
//! the event publisher, the notifier and what is remembered of each TagWatch's
//! schedule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::runtime::reflector::ObjectRef;

use crate::api::v1alpha1::TagWatch;
use crate::controller::credentials::CredentialStore;
use crate::controller::events::EventPublisher;
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
    memory: Mutex<HashMap<ObjectRef<TagWatch>, PollMemory>>,
}

impl Context {
    /// A context over the given clients.
    pub fn new(
        kube: kube::Client,
        uhub: UhubClient,
        credentials: Arc<CredentialStore>,
        events: EventPublisher,
        notifier: Arc<Notifier>,
    ) -> Arc<Self> {
        Arc::new(Self {
            kube,
            uhub,
            credentials,
            events,
            notifier,
            memory: Mutex::default(),
        })
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
