//! Runs the real `tagwatch run` binary against a control plane for integration tests,
//! with its log in a temporary file; killed (SIGKILL) on drop. Include it with
//! `#[path = "support/operator_process.rs"] mod operator_process;` next to
//! `support/controlplane.rs`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;

/// A running operator process.
pub struct OperatorProcess {
    child: Option<Child>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl OperatorProcess {
    /// Starts `tagwatch run` serving `namespace` with the UCloud `endpoint`, a free
    /// metrics port and `extra` arguments, logging at debug level.
    pub fn start(kubeconfig: &Path, endpoint: &str, namespace: &str, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("operator.log");
        let file = std::fs::File::create(&log).expect("operator log");
        let child = Command::new(env!("CARGO_BIN_EXE_tagwatch"))
            .args(["run", "--endpoint", endpoint, "--namespaces", namespace])
            .args(["--metrics-addr", "127.0.0.1:0"])
            .args(extra)
            .env("KUBECONFIG", kubeconfig)
            .env("TAGWATCH_LOG_LEVEL", "info,tagwatch=debug")
            .env_remove("TAGWATCH_NAMESPACES")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("spawn tagwatch run");
        OperatorProcess {
            child: Some(child),
            log,
            _dir: dir,
        }
    }

    /// Kills the process with SIGKILL (no graceful shutdown) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Everything the operator logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Applies the committed CRD (once per test process) and waits until it is served.
pub fn install_crd(kubectl: impl Fn() -> Command) {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let crd = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/tagwatch.dev_tagwatches.yaml");
        for args in [
            vec![
                "apply",
                "--server-side",
                "--force-conflicts",
                "-f",
                crd.to_str().unwrap(),
            ],
            vec![
                "wait",
                "--for=condition=Established",
                "crd/tagwatches.tagwatch.dev",
                "--timeout=60s",
            ],
        ] {
            let output = kubectl().args(&args).output().expect("run kubectl");
            assert!(
                output.status.success(),
                "kubectl {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    });
}
