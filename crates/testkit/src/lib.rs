//! tagwatch's test harness, shared by the tests and benchmarks of every crate of the
//! workspace. It knows the tools tests drive, not the operator's types (those fixtures
//! are the operator crate's `testing` module):
//!
//! - [`controlplane`]: the local kube-apiserver and etcd, a namespace per test, and
//!   [`eventually`], the one way a test waits for something;
//! - [`emulator`]: UHub emulators, in-process or as the real binary;
//! - [`ucloud_server`]: a scripted UCloud API for exact client checks, with
//!   [`uhub_client`] helpers;
//! - [`operator`]: the real `tagwatch run` process;
//! - [`receiver`]: a webhook receiver, plain, HTTPS with a [`tls`] test CA, or playing a
//!   chat service;
//! - [`helm`], [`podman`], [`service_account`], [`pod_security`]: the chart, the image
//!   and the identities they give;
//! - [`openmetrics`], [`process_stats`], [`signal`], [`paths`].

pub mod controlplane;
pub mod emulator;
pub mod helm;
pub mod openmetrics;
pub mod operator;
pub mod paths;
pub mod pod_security;
pub mod podman;
pub mod process_stats;
pub mod receiver;
pub mod service_account;
pub mod signal;
pub mod tls;
pub mod ucloud_server;
pub mod uhub_client;

pub use controlplane::{ControlPlane, TestNamespace, eventually};
pub use emulator::Emulator;
pub use operator::Operator;
