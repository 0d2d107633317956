//! A CloudEvents receiver that is the official CloudEvents Python SDK
//! (python/cloudevents_receiver.py in the venv `make python-sdk` installs): every
//! request is parsed and validated by the SDK, answered `202` when it is a valid event
//! and `400` otherwise, and recorded with the attributes and data the SDK read.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

/// How long the interpreter may take to import the SDK and listen.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// A running SDK receiver; stopped when dropped.
pub struct SdkReceiver {
    /// `http://127.0.0.1:PORT/events`.
    pub url: String,
    child: Child,
    records: Arc<Mutex<Vec<Value>>>,
}

impl SdkReceiver {
    /// Starts the receiver on a free port of 127.0.0.1.
    pub fn start() -> SdkReceiver {
        let python = crate::paths::python();
        assert!(
            python.exists(),
            "the CloudEvents Python SDK is not installed at {}: run `make python-sdk` first",
            python.display()
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/cloudevents_receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the CloudEvents SDK receiver");
        let stdout = child.stdout.take().expect("its stdout");
        let records = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel();
        let sink = Arc::clone(&records);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line.strip_prefix("listening on ") {
                    let _ = port_tx.send(port.trim().to_string());
                } else {
                    let record = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                    sink.lock().unwrap().push(record);
                }
            }
        });
        let port = match port_rx.recv_timeout(STARTUP_DEADLINE) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the CloudEvents SDK receiver did not start (is `cloudevents` installed? run `make python-sdk`)"
                );
            }
        };
        SdkReceiver {
            url: format!("http://127.0.0.1:{port}/events"),
            child,
            records,
        }
    }

    /// Every request so far, as the SDK read it: `mode` (`structured` or `binary`),
    /// `headers`, `body`, `attributes` and `data` (null when refused) and `error` (null when
    /// accepted).
    pub fn records(&self) -> Vec<Value> {
        self.records.lock().unwrap().clone()
    }

    /// The events the SDK accepted.
    pub fn accepted(&self) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["error"].is_null())
            .collect()
    }
}

impl Drop for SdkReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
