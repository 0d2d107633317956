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
//! - [`gitops`]: the CRDs of Flux and Argo CD, and Flux's notification-controller;
//! - [`prometheus`]: Prometheus' own server and the chart's alert rules and dashboard;
//! - [`registry`]: a local OCI registry (CNCF distribution) for the release tests;
//! - [`openmetrics`], [`process_stats`], [`signal`], [`paths`].

pub mod controlplane;
pub mod emulator;
pub mod gitops;
pub mod helm;
pub mod openmetrics;
pub mod operator;
pub mod paths;
pub mod pod_security;
pub mod podman;
pub mod process_stats;
pub mod prometheus;
pub mod receiver;
pub mod registry;
pub mod service_account;
pub mod signal;
pub mod tls;
pub mod ucloud_server;
pub mod uhub_client;

pub use controlplane::{ControlPlane, TestNamespace, eventually};
pub use emulator::Emulator;
pub use operator::Operator;
pub use registry::Registry;

/// A port on 127.0.0.1 that was free a moment ago, for servers that take a fixed address.
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("the bound address").port()
}

/// A finished command's exit code, stdout and stderr, for assertion messages.
pub fn output_text(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
