//! tagwatch: a Kubernetes operator that watches UCloud UHub image tags.
//!
//! The modules follow the data path: [`ucloud`] talks to the UCloud API, [`tags`] holds
//! the pure tag logic (ordering, diff, filter, policy). [`emulator`] is a local UHub API
//! (the `uhub-emulator` binary) for development, demos, tests and benchmarks.

pub mod api;
pub mod controller;
pub mod emulator;
pub mod tags;
pub mod ucloud;
