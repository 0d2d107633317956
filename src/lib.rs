//! tagwatch: a Kubernetes operator that watches UCloud UHub image tags.
//!
//! The modules follow the data path: [`ucloud`] talks to the UCloud API, [`tags`] holds
//! the pure tag logic (ordering, diff, filter, policy), [`controller`] does the Kubernetes
//! I/O around each poll for the [`api`] types, and [`cli`] is the `tagwatch` command line.
//! [`notify`] sends webhook notifications about tag changes.
//! [`emulator`] is a local UHub API (the `uhub-emulator` binary) for development, demos,
//! tests and benchmarks.

pub mod api;
pub mod cli;
pub mod controller;
pub mod emulator;
pub mod notify;
pub mod tags;
pub mod ucloud;
