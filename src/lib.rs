//! tagwatch: a Kubernetes operator that watches UCloud UHub image tags.
//!
//! The modules follow the data path, and each depends only on those before it:
//! the UCloud client is the [`uhub`] crate and the pure tag logic the [`tags`] crate;
//! [`api`] holds the `TagWatch` types and their conditions, [`secrets`] reads Secret
//! values; [`notify`] turns a poll's changes into webhook notifications and delivers
//! them; [`controller`] reconciles one TagWatch (poll, status, events); [`runtime`]
//! wires the controllers, leader election, metrics and endpoints into a process; and
//! [`cli`] is the `tagwatch` command line. `docs/architecture.md` is the map.

pub mod api;
pub mod cli;
pub mod controller;
pub mod notify;
pub mod runtime;
pub mod secrets;
#[cfg(feature = "testing")]
pub mod testing;
