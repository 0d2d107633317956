//! The operator process around the controller: one kube-runtime `Controller` per
//! namespace in scope, woken by Secret changes and finished deliveries
//! ([`controllers`]); leader election over a Lease ([`leader`], [`lease`]); the
//! `/metrics`, `/healthz` and `/readyz` endpoints ([`endpoints`]) with the metrics
//! ([`metrics`]) and the caches they read ([`caches`]).

pub mod caches;
pub mod controllers;
pub mod endpoints;
pub mod leader;
pub mod lease;
pub mod metrics;
pub mod secret_changes;
