//! The TagWatch controller: Kubernetes I/O around a poll (credentials, status, events,
//! requeue). The decisions it acts on come from [`crate::tags`] and [`schedule`].

pub mod caches;
pub mod conditions;
pub mod context;
pub mod credentials;
pub mod endpoints;
pub mod events;
pub mod freshness;
pub mod leader;
pub mod lease;
pub mod metrics;
pub mod notifications;
pub mod reconcile;
pub mod run;
pub mod schedule;
pub mod secret_changes;
pub mod status;

use crate::api::{RECONCILE_REQUESTED_AT, v1alpha1::TagWatch};

/// The value of the `tagwatch.dev/reconcile-requested-at` annotation, if set.
pub fn reconcile_request(tw: &TagWatch) -> Option<&str> {
    tw.metadata
        .annotations
        .as_ref()?
        .get(RECONCILE_REQUESTED_AT)
        .map(String::as_str)
}
