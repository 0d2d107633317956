//! A local OCI registry: CNCF distribution's `registry` (built from its Go module by
//! `make release-tools`) on a free 127.0.0.1 port, storing into a temporary directory;
//! killed when dropped. No authentication, plain HTTP.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::controlplane::eventually;
use crate::paths::tool;

/// A running registry.
pub struct Registry {
    child: Child,
    host: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts the registry and returns once `GET /v2/` answers.
    pub async fn start() -> Registry {
        let dir = tempfile::tempdir().expect("a directory for the registry");
        let host = format!("127.0.0.1:{}", crate::free_port());
        let config = json!({
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": true}},
            "storage": {
                "filesystem": {"rootdirectory": dir.path().join("data")},
                "delete": {"enabled": true},
            },
            // A fixed secret silences the warning about a random one.
            "http": {"addr": host, "secret": "local-test-only"},
        });
        // JSON is YAML: the registry reads it as its configuration.
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config.to_string()).expect("writing the registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(tool("registry", "release-tools"))
            .arg("serve")
            .arg(&config_path)
            // Otherwise distribution v3 exports traces to an OTLP collector on localhost.
            .env("OTEL_TRACES_EXPORTER", "none")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting the registry");
        let registry = Registry { child, host, dir };
        let url = format!("http://{}/v2/", registry.host);
        let http = reqwest::Client::new();
        eventually("the registry answers", Duration::from_secs(30), || async {
            match http.get(&url).send().await {
                Ok(response) if response.status().is_success() => Ok(()),
                Ok(response) => Err(format!("{}\n{}", response.status(), registry.log())),
                Err(e) => Err(format!("{e}\n{}", registry.log())),
            }
        })
        .await;
        registry
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
