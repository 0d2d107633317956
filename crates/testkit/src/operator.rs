//! The one way tests run the real `tagwatch run`: against a control plane's kubeconfig,
//! with JSON logs in a file that survives restarts (printed with the failure when a test
//! panics), metrics on a free loopback port, and nothing from the test's environment
//! (`TAGWATCH_*`, `UCLOUD_*`, `POD_NAMESPACE`) changing what is tested. Stop it as
//! Kubernetes does (SIGTERM), kill it, start it again; read its log, `/metrics`,
//! `/readyz`. Killed when dropped.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::openmetrics::Scrape;

/// How long the operator may take to log its metrics address, or to stop after SIGTERM.
const DEADLINE: Duration = Duration::from_secs(60);
/// The log line announcing the endpoints' address.
const LISTENING: &str = "metrics listening on http://";
/// The log filter unless a test asks for another.
pub const LOG_LEVEL: &str = "info,tagwatch=debug,uhub=debug";

/// A `tagwatch run` process.
pub struct Operator {
    binary: PathBuf,
    kubeconfig: PathBuf,
    log_level: String,
    args: Vec<String>,
    child: Option<Child>,
    metrics_url: String,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Operator {
    /// Starts `binary run --metrics-addr 127.0.0.1:0 ARGS` against the cluster of
    /// `kubeconfig`, logging at [`LOG_LEVEL`]; returns once it logged its metrics address.
    pub fn start(binary: &Path, kubeconfig: &Path, args: &[&str]) -> Operator {
        Self::start_logging(binary, kubeconfig, LOG_LEVEL, args)
    }

    /// Like [`Operator::start`], logging at `log_level` (benchmarks measure the operator
    /// at the level users run it at).
    pub fn start_logging(
        binary: &Path,
        kubeconfig: &Path,
        log_level: &str,
        args: &[&str],
    ) -> Operator {
        let dir = tempfile::Builder::new()
            .prefix("tagwatch-operator-")
            .tempdir()
            .expect("a directory for the operator's log");
        let mut operator = Operator {
            binary: binary.to_path_buf(),
            kubeconfig: kubeconfig.to_path_buf(),
            log_level: log_level.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            child: None,
            metrics_url: String::new(),
            log_path: dir.path().join("tagwatch.log"),
            _dir: dir,
            http: reqwest::Client::new(),
        };
        operator.spawn();
        operator
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "the operator is already running");
        let logged_before = self.log().len();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("opening the operator's log");
        let mut command = Command::new(&self.binary);
        command
            .args(["--log-format", "json", "--log-level", &self.log_level])
            .args(["run", "--metrics-addr", "127.0.0.1:0"])
            .args(&self.args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (name, _) in std::env::vars() {
            if name.starts_with("TAGWATCH_")
                || name.starts_with("UCLOUD_")
                || name == "POD_NAMESPACE"
            {
                command.env_remove(name);
            }
        }
        let mut child = command.spawn().expect("starting tagwatch run");
        let deadline = Instant::now() + DEADLINE;
        self.metrics_url = loop {
            let log = self.log();
            if let Some(url) = listening_url(&log[logged_before..]) {
                break url;
            }
            if let Some(status) = child.try_wait().expect("waiting for tagwatch") {
                panic!("tagwatch exited ({status}) before serving metrics:\n{log}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("tagwatch logged no `{LISTENING}` line:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.child = Some(child);
    }

    /// Stops the operator as Kubernetes does (SIGTERM) and returns its exit status.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the operator is running");
        crate::signal::send(child.id(), "TERM");
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = child.try_wait().expect("waiting for the operator") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tagwatch run did not stop within {DEADLINE:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the operator with SIGKILL (no shutdown of any kind) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
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

    /// The running process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the operator is running").id()
    }

    /// Sends `signal` (e.g. "TERM") without waiting.
    pub fn signal(&self, signal: &str) {
        crate::signal::send(self.pid(), signal);
    }

    /// Waits (polling) for the process to exit by itself.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().expect("the operator is running");
        loop {
            if let Some(status) = child.try_wait().expect("waiting for tagwatch") {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "tagwatch did not exit within {timeout:?}:\n{}",
                std::fs::read_to_string(&self.log_path).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Everything the operator logged so far (all runs).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The logged lines, each a JSON object.
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        self.log()
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"))
            })
            .collect()
    }

    /// `http://127.0.0.1:PORT` of the current run's endpoints.
    pub fn metrics_url(&self) -> &str {
        &self.metrics_url
    }

    /// `GET /metrics`, parsed.
    pub async fn scrape(&self) -> Result<Scrape, String> {
        let (status, text) = self.get("/metrics").await?;
        if status != 200 {
            return Err(format!("/metrics answered {status}: {text}"));
        }
        Scrape::parse(&text)
    }

    /// `GET path` of the endpoints: status and body.
    pub async fn get(&self, path: &str) -> Result<(u16, String), String> {
        let response = self
            .http
            .get(format!("{}{path}", self.metrics_url))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, text))
    }

    /// The `tagwatch_leader` gauge.
    pub async fn leader_gauge(&self) -> Result<f64, String> {
        self.scrape()
            .await?
            .value("tagwatch_leader", &[])
            .ok_or_else(|| "no tagwatch_leader sample".to_string())
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- tagwatch run log ({}) ---\n{}--- end of log ---",
                self.log_path.display(),
                self.log()
            );
        }
    }
}

/// The URL of the first `metrics listening on` line of `log`.
fn listening_url(log: &str) -> Option<String> {
    let start = log.find(LISTENING)? + LISTENING.len();
    let rest = &log[start..];
    // The address ends at a character that cannot be part of it; a line still being
    // written may end before that.
    let end =
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']')))?;
    (end > 0).then(|| format!("http://{}", &rest[..end]))
}
