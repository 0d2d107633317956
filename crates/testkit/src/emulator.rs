//! UHub emulators for tests: in-process on a thread of their own ([`Emulator::start`]),
//! or the real `uhub-emulator` binary ([`Emulator::start_binary`]), driven the same way
//! through the emulator's admin API; and signing of raw UCloud requests.
//!
//! ```ignore
//! let emu = testkit::Emulator::start(FIXTURE_YAML);
//! emu.push_tag("team", "web", "v2", Some("2026-11-27 10:00:00")).await;
//! assert_eq!(emu.stats().await["total"], 0);
//! ```

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::oneshot;

/// How long the emulator may take to print its `listening on` line or to exit.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// A running emulator; stopped when dropped.
pub struct Emulator {
    backend: Backend,
    addr: SocketAddr,
    url: String,
    http: reqwest::Client,
}

enum Backend {
    /// The `uhub-emulator` binary, its stderr in `dir`.
    Process {
        child: Child,
        dir: tempfile::TempDir,
    },
    /// The emulator library on a thread with its own runtime.
    Thread {
        stop: Option<oneshot::Sender<()>>,
        thread: Option<JoinHandle<()>>,
    },
}

impl Emulator {
    /// Starts an emulator of `fixture_yaml` in this process, on a free port of 127.0.0.1,
    /// on a thread of its own (so that any test, synchronous or not, can use it).
    pub fn start(fixture_yaml: &str) -> Self {
        let state = uhub_emulator::Emulator::builder()
            .fixture_yaml(fixture_yaml)
            .and_then(uhub_emulator::EmulatorBuilder::build)
            .unwrap_or_else(|e| panic!("emulator fixture: {e}"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("listener address");
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("emulator runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let shutdown = async {
                    let _ = stopped.await;
                };
                uhub_emulator::serve(listener, state, shutdown)
                    .await
                    .expect("serving the emulator");
            });
        });
        Self::new(
            Backend::Thread {
                stop: Some(stop),
                thread: Some(thread),
            },
            addr,
        )
    }

    /// Starts the `uhub-emulator` binary on a free port of 127.0.0.1 with `fixture_yaml`.
    pub fn start_binary(fixture_yaml: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let fixture = dir.path().join("fixture.yaml");
        std::fs::write(&fixture, fixture_yaml).expect("write fixture");
        let fixture = fixture.to_str().expect("UTF-8 temp path").to_string();
        Self::spawn(dir, &["--listen", "127.0.0.1:0", "--fixture", &fixture])
    }

    /// Starts the `uhub-emulator` binary without a fixture (it generates a credential,
    /// see [`Emulator::generated_credential`]).
    pub fn start_binary_empty() -> Self {
        Self::spawn(
            tempfile::tempdir().expect("temp dir"),
            &["--listen", "127.0.0.1:0"],
        )
    }

    fn new(backend: Backend, addr: SocketAddr) -> Self {
        Emulator {
            backend,
            addr,
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    fn spawn(dir: tempfile::TempDir, args: &[&str]) -> Self {
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("stderr log");
        let mut child = Command::new(crate::paths::binary("uhub-emulator"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn uhub-emulator");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines, first) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let Ok(line) = first.recv_timeout(STARTUP_DEADLINE) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "uhub-emulator printed no `listening on` line; stderr:\n{}",
                read_log(&dir.path().join("stderr.log"))
            );
        };
        let addr = line
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Self::new(Backend::Process { child, dir }, addr)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The binary's process id.
    pub fn pid(&self) -> u32 {
        match &self.backend {
            Backend::Process { child, .. } => child.id(),
            Backend::Thread { .. } => panic!("an in-process emulator has no process id"),
        }
    }

    /// Everything the binary wrote to stderr so far (empty in-process).
    pub fn stderr(&self) -> String {
        match &self.backend {
            Backend::Process { dir, .. } => read_log(&dir.path().join("stderr.log")),
            Backend::Thread { .. } => String::new(),
        }
    }

    /// The `(publicKey, privateKey)` an emulator started without a fixture printed.
    pub fn generated_credential(&self) -> (String, String) {
        let log = self.stderr();
        let field = |name: &str| {
            log.split_whitespace()
                .find_map(|word| word.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in stderr:\n{log}"))
                .to_string()
        };
        (field("publicKey="), field("privateKey="))
    }

    /// Sends `signal` (e.g. "TERM") and waits for the process to exit.
    pub fn signal_and_wait(&mut self, signal: &str) -> ExitStatus {
        crate::signal::send(self.pid(), signal);
        let Backend::Process { child, .. } = &mut self.backend else {
            unreachable!("pid() panics for an in-process emulator")
        };
        let deadline = Instant::now() + STARTUP_DEADLINE;
        loop {
            if let Some(status) = child.try_wait().expect("wait for uhub-emulator") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "uhub-emulator did not exit after SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/_emulator/{path}", self.url));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("admin request");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("admin response body");
        (
            status,
            serde_json::from_slice(&bytes).expect("admin response is JSON"),
        )
    }

    async fn admin_ok(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.admin(method.clone(), path, body).await;
        assert_eq!(status, 200, "{method} /_emulator/{path}: {value}");
        value
    }

    /// Creates or updates a tag (`updateTime` defaults to now); returns the admin answer.
    pub async fn push_tag(
        &self,
        repo: &str,
        image: &str,
        name: &str,
        update_time: Option<&str>,
    ) -> Value {
        self.put_tag(repo, image, name, update_time, None).await
    }

    /// Creates or updates a tag with `digest` (none when `None`); `updateTime` defaults
    /// to now. Returns the admin answer.
    pub async fn put_tag(
        &self,
        repo: &str,
        image: &str,
        name: &str,
        update_time: Option<&str>,
        digest: Option<&str>,
    ) -> Value {
        let mut body = json!({ "repo": repo, "image": image, "name": name });
        if let Some(time) = update_time {
            body["updateTime"] = json!(time);
        }
        if let Some(digest) = digest {
            body["digest"] = json!(digest);
        }
        self.admin_ok(reqwest::Method::POST, "tags", Some(body))
            .await
    }

    /// Serves `GetImageTag` pages in `order` from now on: `newest`, `oldest` or `name`.
    pub async fn set_order(&self, order: &str) {
        let body = json!({ "order": order });
        self.admin_ok(reqwest::Method::PUT, "order", Some(body))
            .await;
    }

    /// Removes a tag; false when it did not exist.
    pub async fn delete_tag(&self, repo: &str, image: &str, name: &str) -> bool {
        let body = json!({ "repo": repo, "image": image, "name": name });
        match self
            .admin(reqwest::Method::DELETE, "tags", Some(body))
            .await
        {
            (200, _) => true,
            (404, _) => false,
            (status, value) => panic!("DELETE /_emulator/tags: {status} {value}"),
        }
    }

    /// Replaces the fault settings, e.g. `json!({"retCode": 153, "repo": "team"})`.
    pub async fn set_faults(&self, faults: Value) -> Value {
        self.admin_ok(reqwest::Method::PUT, "faults", Some(faults))
            .await
    }

    pub async fn clear_faults(&self) {
        self.admin_ok(reqwest::Method::DELETE, "faults", None).await;
    }

    /// `{"total", "byAction", "byRetCode", "byHttpStatus", "resets"}`.
    pub async fn stats(&self) -> Value {
        self.admin_ok(reqwest::Method::GET, "stats", None).await
    }

    pub async fn reset_stats(&self) {
        self.admin_ok(reqwest::Method::DELETE, "stats", None).await;
    }

    /// Any admin request, for tests of the admin API itself: `(status, JSON body)`.
    pub async fn admin_request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.admin(method, path, body).await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        match &mut self.backend {
            Backend::Process { child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Backend::Thread { stop, thread } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `params` plus `PublicKey` and a `Signature` made with `private_key`.
pub fn signed(
    params: &[(&str, &str)],
    public_key: &str,
    private_key: &str,
) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.push(("PublicKey".into(), public_key.into()));
    let signature = uhub::signature::sign(&all, private_key);
    all.push(("Signature".into(), signature));
    all
}

/// A UCloud API answer: HTTP status, `X-UCLOUD-REQUEST-UUID` and the JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub request_uuid: Option<String>,
    pub body: Value,
}

/// POSTs `params` as a form to the UCloud API at `url`, as the SDKs do.
pub async fn post_form(url: &str, params: &[(String, String)]) -> Answer {
    let body = serde_urlencoded::to_string(params).expect("form encoding");
    let request = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    into_answer(request.send().await.expect("UCloud API request")).await
}

/// Reads an answer; panics when the body is not JSON.
pub async fn into_answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let request_uuid = response
        .headers()
        .get("x-ucloud-request-uuid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = response.bytes().await.expect("UCloud API response body");
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    Answer {
        status,
        request_uuid,
        body,
    }
}
