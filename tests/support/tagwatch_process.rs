//! Runs the real `tagwatch run` binary against the test control plane and reads what it
//! exposes: the metrics address it logs (`metrics listening on http://ADDR`, asked for
//! with `--metrics-addr 127.0.0.1:0`), `/metrics` parsed with [`super::openmetrics`],
//! `/readyz`, and its log. The process is killed when dropped.
//!
//! Include it together with `openmetrics.rs` and `signal.rs`:
//! `#[path = "support/openmetrics.rs"] mod openmetrics;` and
//! `#[path = "support/tagwatch_process.rs"] mod tagwatch_process;`.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::openmetrics::Scrape;

/// How long the operator may take to log its metrics address or to exit.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);
/// The log line announcing the endpoints' address.
const LISTENING: &str = "metrics listening on http://";

/// A running `tagwatch run`.
pub struct OperatorProcess {
    child: Child,
    dir: tempfile::TempDir,
    metrics_url: String,
    http: reqwest::Client,
}

impl OperatorProcess {
    /// Starts `tagwatch run --metrics-addr 127.0.0.1:0 ARGS` with `kubeconfig`, logging
    /// JSON at `info,tagwatch=debug`; returns once it logged its metrics address.
    pub async fn start(kubeconfig: &Path, args: &[&str]) -> OperatorProcess {
        Self::start_logging(kubeconfig, "info,tagwatch=debug", args).await
    }

    /// Like [`OperatorProcess::start`], logging at `log_level` (benchmarks measure the
    /// operator at the level users run it at).
    pub async fn start_logging(
        kubeconfig: &Path,
        log_level: &str,
        args: &[&str],
    ) -> OperatorProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("stderr log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tagwatch"));
        command
            .args(["--log-format", "json", "--log-level", log_level])
            .args(["run", "--metrics-addr", "127.0.0.1:0"])
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        for (name, _) in std::env::vars() {
            if name.starts_with("TAGWATCH_")
                || name.starts_with("UCLOUD_")
                || name == "POD_NAMESPACE"
            {
                command.env_remove(name);
            }
        }
        let mut child = command.spawn().expect("spawn tagwatch");
        let log_path = dir.path().join("stderr.log");
        let deadline = Instant::now() + STARTUP_DEADLINE;
        let metrics_url = loop {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(url) = listening_url(&log) {
                break url;
            }
            if let Some(status) = child.try_wait().expect("wait for tagwatch") {
                panic!("tagwatch exited ({status}) before serving metrics:\n{log}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("tagwatch logged no `{LISTENING}` line:\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        OperatorProcess {
            child,
            dir,
            metrics_url,
            http: reqwest::Client::new(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn metrics_url(&self) -> &str {
        &self.metrics_url
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
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

    /// `GET /metrics`, parsed.
    pub async fn scrape(&self) -> Result<Scrape, String> {
        let (status, text) = self.get("/metrics").await?;
        if status != 200 {
            return Err(format!("/metrics answered {status}: {text}"));
        }
        Scrape::parse(&text)
    }

    /// `GET path`: status and body.
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

    /// Sends `signal` (e.g. "TERM") without waiting.
    pub fn signal(&self, signal: &str) {
        super::signal::send(self.pid(), signal);
    }

    /// SIGKILL, and reap the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits (polling) for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for tagwatch") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "tagwatch did not exit within {timeout:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        self.kill();
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
