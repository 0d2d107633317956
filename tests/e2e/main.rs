//! End to end: the real `tagwatch run` against the local control plane (started once
//! for this binary) and UHub emulators, one [`Env`](tagwatch::testing::env::Env) per
//! test, so that tests run in parallel without seeing each other's TagWatches.

mod admission;
mod credentials;
mod faults;
mod harness;
mod health;
mod monitoring;
mod operator;
mod plugin;
mod probes;
mod runtime;
mod triggers;
