//! Webhook notifications about tag changes, delivered at least once.
//!
//! A successful poll turns its changes into notifications for the targets of
//! `spec.notify` ([`payload`]) and records them in `status.pendingNotifications` in the
//! same status write as the poll's result, before any attempt. The [`notifier`] then
//! sends them outside the poll, on a bounded pool of workers ([`deliver`], in the
//! target's [`format`], signed by [`sign`], to the URL a Secret names: [`target`], over
//! a client trusting the Secret's CA: [`clients`]), and reports each result back; the
//! next reconcile folds results into status ([`review`], with the rules of [`pending`]):
//! delivered ones are removed, failed ones are retried with capped exponential backoff
//! until they are too old, and the `Notified` condition says what is pending or failing
//! ([`condition`]). Metrics hooks are in [`observe`].

pub mod clients;
pub mod condition;
pub mod deliver;
pub mod format;
pub mod notifier;
pub mod observe;
pub mod payload;
pub mod pending;
pub mod review;
pub mod sign;
pub mod target;

pub use notifier::{Notifier, NotifierConfig};
