//! Runs the real `tagwatch run` operator for end-to-end tests, and installs the
//! committed CRD into a control plane.
//!
//! Include it with `#[path = "support/operator.rs"] mod operator;` next to
//! `support/controlplane.rs` (as `mod controlplane`).
//!
//! [`Operator::start`] runs the binary cargo built for this package, scoped to one
//! namespace (`--namespaces`), so that tests running in parallel never see each
//! other's TagWatches, pointed at one emulator and one control plane, with its
//! health endpoint on a free port. Its stderr (the log) goes to a file that
//! survives restarts; when a test panics, the log is printed with the failure.
//! The process is killed when the `Operator` is dropped.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::controlplane::ControlPlane;

/// How long the operator may take to stop after SIGTERM.
const STOP_DEADLINE: Duration = Duration::from_secs(30);

/// The committed CRD, as a user installs it.
pub fn crd_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/tagwatch.dev_tagwatches.yaml")
}

/// Applies the committed CRD to `control_plane` (server-side, as `kubectl apply
/// --server-side` does) and waits until the apiserver reports it Established.
pub fn install_crd(control_plane: &ControlPlane) {
    let crd = crd_path();
    let crd = crd.to_str().expect("UTF-8 repository path");
    control_plane.kubectl_stdout(&["apply", "--server-side", "--force-conflicts", "-f", crd]);
    control_plane.kubectl_stdout(&[
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "-f",
        crd,
    ]);
}

/// The control plane shared by this test binary, with the CRD installed once.
pub fn shared_control_plane() -> &'static ControlPlane {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    let control_plane = ControlPlane::shared();
    INSTALLED.get_or_init(|| install_crd(control_plane));
    control_plane
}

/// A running `tagwatch run`; killed when dropped.
pub struct Operator {
    child: Option<Child>,
    kubeconfig: PathBuf,
    namespace: String,
    endpoint: String,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Operator {
    /// Starts the operator for TagWatches in `namespace` of the cluster
    /// `kubeconfig` names, polling the UCloud API at `endpoint`.
    pub fn start(kubeconfig: &Path, namespace: &str, endpoint: &str) -> Operator {
        let dir = tempfile::Builder::new()
            .prefix("tagwatch-operator-")
            .tempdir()
            .expect("a directory for the operator's log");
        let mut operator = Operator {
            child: None,
            kubeconfig: kubeconfig.to_path_buf(),
            namespace: namespace.to_string(),
            endpoint: endpoint.to_string(),
            log_path: dir.path().join("tagwatch.log"),
            _dir: dir,
        };
        operator.spawn();
        operator
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "the operator is already running");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("opening the operator's log");
        let child = Command::new(env!("CARGO_BIN_EXE_tagwatch"))
            .args(["--log-level", "info,tagwatch=debug", "run"])
            .args(["--endpoint", &self.endpoint])
            .args(["--namespaces", &self.namespace])
            .args(["--metrics-addr", "127.0.0.1:0"])
            .args(["--instance", "e2e"])
            .env("KUBECONFIG", &self.kubeconfig)
            // Nothing from the test's environment may change what is tested.
            .env_remove("UCLOUD_ENDPOINT")
            .env_remove("UCLOUD_PUBLIC_KEY")
            .env_remove("UCLOUD_PRIVATE_KEY")
            .env_remove("UCLOUD_SECURITY_TOKEN")
            .env_remove("TAGWATCH_SELECTOR")
            .env_remove("TAGWATCH_DEFAULT_CREDENTIALS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting tagwatch run");
        self.child = Some(child);
    }

    /// Stops the operator as Kubernetes does (SIGTERM) and returns its exit status.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the operator is running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -TERM {} failed", child.id());
        let deadline = Instant::now() + STOP_DEADLINE;
        loop {
            if let Some(status) = child.try_wait().expect("waiting for the operator") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tagwatch run did not stop within {STOP_DEADLINE:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the operator with SIGKILL (no shutdown of any kind) and reaps it.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("the operator is running");
        child.kill().expect("sending SIGKILL to the operator");
        child.wait().expect("reaping the killed operator");
    }

    /// Starts the operator again after [`Operator::stop`] or [`Operator::kill`], with
    /// the same settings.
    pub fn start_again(&mut self) {
        self.spawn();
    }

    /// Whether the operator process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Everything the operator logged so far (all runs).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- tagwatch run log ({}) ---\n{}--- end of log ---",
                self.log_path.display(),
                self.log()
            );
        }
    }
}
