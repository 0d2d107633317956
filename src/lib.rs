//! tagwatch: a Kubernetes operator that watches UCloud UHub image tags.
//!
//! The modules follow the data path: [`ucloud`] talks to the UCloud API, [`tags`] holds
//! the pure tag logic (ordering, diff, filter, policy), [`cli`] is the `tagwatch`
//! command line.

pub mod cli;
pub mod tags;
pub mod ucloud;
