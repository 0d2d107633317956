//! tagwatch: a Kubernetes operator that watches UCloud UHub image tags.
//!
//! The modules follow the data path: [`ucloud`] talks to the UCloud API, [`tags`] holds
//! the pure tag logic (ordering, diff, filter, policy).

pub mod api;
pub mod controller;
pub mod tags;
pub mod ucloud;
