//! A real Kubernetes control plane (etcd and kube-apiserver built by
//! `make controlplane-bin`, run by `target/controlplane/bin/controlplane`), a namespace
//! per test, and [`eventually`], the one way tests wait.
//!
//! [`ControlPlane::shared`] starts one control plane per test binary. The
//! launcher runs with `--exit-on-stdin-eof --cleanup` and its stdin is a pipe
//! this process holds open until it exits, so the control plane stops (and its
//! state is removed) when the test process ends for any reason: success, a
//! panicking test, or an aborted harness. When `KUBECONFIG` points at the
//! `target/controlplane/kubeconfig` that `make controlplane` writes, the
//! running control plane is reused instead, which saves the start-up time when
//! running a test binary repeatedly.
//!
//! Restarting the apiserver disturbs every test using it: a test that does it
//! starts its own with [`ControlPlane::start`].
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Longest a control-plane request (an apiserver restart) may take.
const CONTROL_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A running etcd + kube-apiserver pair with an admin kubeconfig.
pub struct ControlPlane {
    kubeconfig: PathBuf,
    /// Base URL of the launcher's control endpoint (apiserver stop/start/restart).
    control_url: String,
    /// The launcher this process started; `None` when reusing `make controlplane`.
    launcher: Option<Launcher>,
}

/// The launcher child and the pipe ends that tie its life to ours.
struct Launcher {
    child: Child,
    /// Closing it (drop, or this process exiting) stops the control plane.
    stdin: Option<ChildStdin>,
    /// Kept open so the launcher never writes into a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

/// The repository's directory of control-plane binaries.
pub fn bin_dir() -> PathBuf {
    crate::paths::repo_file("target/controlplane/bin")
}

impl ControlPlane {
    /// The control plane shared by all tests of this test binary, started on
    /// first use (or the `make controlplane` one, see the module docs).
    pub fn shared() -> &'static ControlPlane {
        static SHARED: OnceLock<ControlPlane> = OnceLock::new();
        SHARED.get_or_init(|| Self::from_make_controlplane().unwrap_or_else(Self::start))
    }

    /// Starts a control plane of its own, stopped and removed on drop.
    pub fn start() -> ControlPlane {
        let launcher_bin = bin_dir().join("controlplane");
        assert!(
            launcher_bin.exists() && bin_dir().join("kubectl").exists(),
            "{} is missing: run `make controlplane-bin` first",
            launcher_bin.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("tagwatch-controlplane-")
            .tempdir()
            .expect("creating a directory for the control plane")
            .keep();
        let mut child = Command::new(&launcher_bin)
            .arg("--dir")
            .arg(&dir)
            .args(["--exit-on-stdin-eof", "--cleanup"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", launcher_bin.display()));
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut stderr = child.stderr.take().expect("piped stderr");
        let mut line = String::new();
        let read = stdout
            .read_line(&mut line)
            .expect("reading the launcher's output");
        let Some(kubeconfig) = line.trim_end().strip_prefix("ready KUBECONFIG=") else {
            let mut errors = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut errors);
            let status = child.wait().expect("waiting for the launcher");
            panic!(
                "the control plane did not start ({status}, read {read} bytes: {line:?}):\n{errors}"
            );
        };
        // From now on the launcher's messages (e.g. a crashed apiserver) go
        // straight to this process's stderr.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::stderr()));
        let kubeconfig = PathBuf::from(kubeconfig);
        let control_url = read_control_url(&kubeconfig);
        ControlPlane {
            kubeconfig,
            control_url,
            launcher: Some(Launcher {
                child,
                stdin,
                _stdout: stdout,
            }),
        }
    }

    /// The control plane of `make controlplane`, when `KUBECONFIG` names it.
    fn from_make_controlplane() -> Option<ControlPlane> {
        let ours = crate::paths::repo_file("target/controlplane/kubeconfig");
        let from_env = PathBuf::from(std::env::var_os("KUBECONFIG")?);
        if from_env.canonicalize().ok()? != ours.canonicalize().ok()? {
            return None;
        }
        let kubeconfig = ours.canonicalize().ok()?;
        let control_url = read_control_url(&kubeconfig);
        Some(ControlPlane {
            kubeconfig,
            control_url,
            launcher: None,
        })
    }

    /// The admin kubeconfig (client certificate in group system:masters).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// A new admin client. Create one per test: a client belongs to the
    /// Tokio runtime it was created on, and each `#[tokio::test]` has its own.
    pub async fn client(&self) -> kube::Client {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig)
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.kubeconfig.display()));
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("loading the control plane's kubeconfig");
        kube::Client::try_from(config).expect("building a client for the control plane")
    }

    /// `kubectl` (the one built with the control plane) preset with `--kubeconfig`.
    pub fn kubectl(&self) -> Command {
        kubectl_for(&self.kubeconfig)
    }

    /// `kubectl apply -n namespace -f -` of `manifest` (YAML or JSON), its output
    /// captured: the caller checks success or the refusal it expects.
    pub fn kubectl_apply(&self, namespace: &str, manifest: &str) -> std::process::Output {
        self.kubectl_with_input(&["apply", "-n", namespace, "-f", "-"], manifest)
    }

    /// `kubectl args` with `input` on its stdin (e.g. `apply --server-side -f -`), its
    /// output captured: the caller checks success or the refusal it expects.
    pub fn kubectl_with_input(&self, args: &[&str], input: &str) -> std::process::Output {
        use std::io::Write;
        use std::process::Stdio;
        let mut kubectl = self
            .kubectl()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running kubectl");
        kubectl
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input.as_bytes())
            .expect("writing kubectl's input");
        kubectl.wait_with_output().expect("waiting for kubectl")
    }

    /// The built kubectl with `KUBECONFIG` in its environment rather than
    /// `--kubeconfig` on its command line: kubectl runs a plugin (`kubectl NAME ...`
    /// finding `kubectl-NAME` on `PATH`) only when no flag precedes the plugin's name,
    /// and passes its environment, not its flags, to the plugin.
    pub fn kubectl_env(&self) -> Command {
        let mut kubectl = Command::new(bin_dir().join("kubectl"));
        kubectl.env("KUBECONFIG", &self.kubeconfig);
        kubectl
    }

    /// Applies the CustomResourceDefinition file `crd` (`kubectl apply --server-side
    /// --force-conflicts`, so that tests applying the same file at once agree) and waits
    /// until the apiserver reports it Established.
    pub fn apply_crd(&self, crd: &Path) {
        let crd = crd.to_str().expect("a UTF-8 path");
        self.kubectl_stdout(&["apply", "--server-side", "--force-conflicts", "-f", crd]);
        let established = [
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "-f",
            crd,
        ];
        self.kubectl_stdout(&established);
    }

    /// Runs the built kubectl with `args`, panics with its stderr when it
    /// fails, and returns its stdout.
    pub fn kubectl_stdout(&self, args: &[&str]) -> String {
        let output = self.kubectl().args(args).output().expect("running kubectl");
        assert!(
            output.status.success(),
            "kubectl {}: {}\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("kubectl prints UTF-8")
    }

    /// Stops kube-apiserver and starts it again on the same port; returns once
    /// it answers `/readyz`. Clients keep their URL and reconnect by themselves.
    pub async fn restart_apiserver(&self) {
        self.control("kube-apiserver/restart").await;
    }

    /// Stops kube-apiserver (etcd keeps running) until [`Self::start_apiserver`].
    pub async fn stop_apiserver(&self) {
        self.control("kube-apiserver/stop").await;
    }

    /// Starts a stopped kube-apiserver on its port; returns once it is ready.
    pub async fn start_apiserver(&self) {
        self.control("kube-apiserver/start").await;
    }

    async fn control(&self, action: &str) {
        let url = format!("{}/{action}", self.control_url);
        let response = reqwest::Client::new()
            .post(&url)
            .timeout(CONTROL_REQUEST_TIMEOUT)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "POST {url}: {status}: {body}");
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        if let Some(launcher) = &mut self.launcher {
            drop(launcher.stdin.take()); // end of file: the launcher stops everything
            let _ = launcher.child.wait();
        }
    }
}

/// The built kubectl, preset with `--kubeconfig kubeconfig`.
fn kubectl_for(kubeconfig: &Path) -> Command {
    let mut kubectl = Command::new(bin_dir().join("kubectl"));
    kubectl.arg("--kubeconfig").arg(kubeconfig);
    kubectl
}

/// Reads CONTROL_URL from the controlplane.env next to the kubeconfig.
fn read_control_url(kubeconfig: &Path) -> String {
    let env_file = kubeconfig.with_file_name("controlplane.env");
    let content = std::fs::read_to_string(&env_file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", env_file.display()));
    content
        .lines()
        .find_map(|line| line.strip_prefix("CONTROL_URL="))
        .unwrap_or_else(|| panic!("{} has no CONTROL_URL", env_file.display()))
        .to_string()
}

/// A uniquely named namespace for one test, deleted (best effort) on drop.
/// Deleted namespaces stay `Terminating`: there is no controller-manager.
pub struct TestNamespace {
    name: String,
    client: kube::Client,
    kubeconfig: PathBuf,
}

impl TestNamespace {
    /// A new namespace named `<prefix>-<random>` on the shared control plane.
    pub async fn new(prefix: &str) -> TestNamespace {
        Self::new_in(ControlPlane::shared(), prefix).await
    }

    /// A new namespace named `<prefix>-<random>` on `control_plane`.
    pub async fn new_in(control_plane: &ControlPlane, prefix: &str) -> TestNamespace {
        let client = control_plane.client().await;
        let namespace = Namespace {
            metadata: ObjectMeta {
                generate_name: Some(format!("{prefix}-")),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        let created = Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("creating a namespace {prefix}-*: {e}"));
        TestNamespace {
            name: created
                .metadata
                .name
                .expect("the apiserver names generated namespaces"),
            client,
            kubeconfig: control_plane.kubeconfig.clone(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// An `Api` for namespaced resources of type `K` in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        // kubectl rather than the async client: drop cannot await, and the
        // test's runtime may already be shutting down (e.g. after a panic).
        let _ = kubectl_for(&self.kubeconfig)
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Calls `attempt` every 100 ms until it returns `Ok`, and panics with the
/// last error once `timeout` has passed.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(error) if Instant::now() >= deadline => {
                panic!("{what}: still failing after {timeout:?}: {error}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
