//! The TagWatch controller: what happens to one TagWatch in a reconcile, read as one
//! story in [`reconcile`]. Kubernetes I/O around a poll (credentials, events, status),
//! with the decisions it acts on in pure modules: [`spec`] (what the spec asks for),
//! [`schedule`] (when to poll), [`listing`] (whether a poll probes or lists every page),
//! [`outcome`] (what a poll writes and publishes) and [`failure`] (why a poll failed,
//! and when to retry). Process wiring (watches, leader
//! election, metrics, endpoints) is in [`crate::runtime`].

pub mod conditions;
pub mod context;
pub mod credentials;
pub mod events;
pub mod failure;
pub mod freshness;
pub mod listing;
pub mod outcome;
pub mod poll;
pub mod reconcile;
pub mod schedule;
pub mod spec;
pub mod triggers;

use crate::api::{RECONCILE_REQUESTED_AT, v1alpha1::TagWatch};

/// The value of the `tagwatch.dev/reconcile-requested-at` annotation, if set.
pub fn reconcile_request(tw: &TagWatch) -> Option<&str> {
    tw.metadata
        .annotations
        .as_ref()?
        .get(RECONCILE_REQUESTED_AT)
        .map(String::as_str)
}

/// Whether the `tagwatch.dev/reconcile-requested-at` annotation asks for a poll not yet
/// made: it is set, and `status.lastHandledReconcileAt` does not echo it.
pub fn reconcile_request_pending(tw: &TagWatch) -> bool {
    let handled = tw
        .status
        .as_ref()
        .and_then(|s| s.last_handled_reconcile_at.as_deref());
    reconcile_request(tw).is_some_and(|requested| Some(requested) != handled)
}
