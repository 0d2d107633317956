//! GitOps tools on the local control plane: the CRDs of Flux and Argo CD (copied out of
//! their Go modules at pinned versions by `make gitops-crds`) and Flux's real
//! notification-controller (`make gitops-tools`), whose Receivers accept webhooks.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::controlplane::{ControlPlane, eventually};
use crate::paths;

/// How long notification-controller may take to become ready (about a second here).
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// Installs the pinned Flux and Argo CD CRDs on `control_plane` (once per kubeconfig
/// in this process) and waits until they are Established.
pub fn install_crds(control_plane: &ControlPlane) {
    static INSTALLED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    let installed = installed.get_or_insert_with(HashSet::new);
    if installed.contains(control_plane.kubeconfig_path()) {
        return;
    }
    let dir = paths::gitops_crds();
    let dir = dir.to_str().expect("a UTF-8 path");
    control_plane.kubectl_stdout(&["apply", "--server-side", "-f", dir]);
    control_plane.kubectl_stdout(&[
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "-f",
        dir,
    ]);
    installed.insert(control_plane.kubeconfig_path().to_path_buf());
}

/// `kubectl apply -n namespace -f -` of `manifest` (JSON or YAML) on `control_plane`.
pub fn apply(control_plane: &ControlPlane, namespace: &str, manifest: &str) {
    let output = control_plane.kubectl_apply(namespace, manifest);
    assert!(
        output.status.success(),
        "kubectl apply of\n{manifest}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Flux's notification-controller, serving Receivers of every namespace on
/// `127.0.0.1`; killed when dropped.
pub struct NotificationController {
    child: Child,
    /// `http://127.0.0.1:PORT`, where Receivers' `status.webhookPath` are served.
    pub receiver_url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl NotificationController {
    /// Installs the CRDs and starts the controller against `control_plane`; returns
    /// once it answers `/readyz` and its receiver server listens.
    pub async fn start(control_plane: &ControlPlane) -> NotificationController {
        install_crds(control_plane);
        let binary = paths::tool("notification-controller", "gitops-tools");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let log = dir.path().join("notification-controller.log");
        let file = std::fs::File::create(&log).expect("a log file");
        let [metrics, health, events, receiver] = [(); 4].map(|()| crate::free_port());
        let child = Command::new(binary)
            .env("KUBECONFIG", control_plane.kubeconfig_path())
            .args([
                format!("--metrics-addr=127.0.0.1:{metrics}"),
                format!("--health-addr=127.0.0.1:{health}"),
                format!("--events-addr=127.0.0.1:{events}"),
                format!("--receiverAddr=127.0.0.1:{receiver}"),
                "--watch-all-namespaces=true".into(),
                "--enable-leader-election=false".into(),
                "--log-encoding=console".into(),
            ])
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("the log file"))
            .stderr(file)
            .spawn()
            .expect("starting notification-controller");
        let controller = NotificationController {
            child,
            receiver_url: format!("http://127.0.0.1:{receiver}"),
            log,
            _dir: dir,
        };
        let client = reqwest::Client::new();
        let ready = format!("http://127.0.0.1:{health}/readyz");
        let unknown = format!("{}/hook/none", controller.receiver_url);
        eventually("notification-controller ready", READY_DEADLINE, || async {
            let ready = client.get(&ready).send().await.map_err(|e| e.to_string())?;
            // The receiver server answers once the controller's caches are synced.
            let hook = client
                .post(&unknown)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            match (ready.status().as_u16(), hook.status().as_u16()) {
                (200, 404) => Ok(()),
                other => Err(format!("readyz, unknown hook: {other:?}")),
            }
        })
        .await;
        controller
    }

    /// What the controller logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for NotificationController {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
