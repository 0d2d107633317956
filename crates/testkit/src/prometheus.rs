//! Prometheus' own tools, built by `make prometheus-tools` from the module pinned in
//! tests/tools/prometheus: the server ([`Prometheus`], scraping targets on 127.0.0.1 and
//! evaluating rule files, with its HTTP API), and the chart's monitoring files they check
//! (the alert rules and the Grafana dashboard, with its queries as Prometheus receives
//! them).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::controlplane::eventually;
use crate::paths::{repo_file, tool};

/// The chart's alert rules (Prometheus rule file format).
pub const ALERTS: &str = "charts/tagwatch/monitoring/alerts.yaml";
/// The chart's Grafana dashboard.
pub const DASHBOARD: &str = "charts/tagwatch/monitoring/dashboard.json";
/// What Grafana puts for `$__rate_interval` in the tests: rates over this window.
pub const RATE_INTERVAL: &str = "1m";

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The YAML file `path` of the repository as JSON.
pub fn yaml_file(path: &str) -> Value {
    serde_norway::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The alerting rules of [`ALERTS`].
pub fn alert_rules() -> Vec<Value> {
    yaml_file(ALERTS)["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").clone())
        .filter(|r| r.get("alert").is_some())
        .collect()
}

/// [`DASHBOARD`] as JSON.
pub fn dashboard() -> Value {
    serde_json::from_str(&read(DASHBOARD)).expect("dashboard JSON")
}

/// The panels of `dashboard`, rows' nested panels included, depth first.
pub fn panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
        for panel in panels.as_array().into_iter().flatten() {
            out.push(panel);
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// One query of a dashboard panel.
#[derive(Clone, Debug)]
pub struct PanelQuery {
    /// The panel's title and the target's refId.
    pub name: String,
    /// The panel type (`timeseries`, `table`, `stat`).
    pub panel_type: String,
    /// The expression as written in the dashboard.
    pub expr: String,
    /// The expression as Prometheus receives it (see [`substitute`]).
    pub promql: String,
    /// The target's `legendFormat` (`{{label}}` placeholders).
    pub legend: String,
}

/// Every panel query of `dashboard`.
pub fn panel_queries(dashboard: &Value) -> Vec<PanelQuery> {
    let mut out = Vec::new();
    for panel in panels(dashboard) {
        let title = panel["title"].as_str().unwrap_or("");
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("an expr").to_string();
            out.push(PanelQuery {
                name: format!("{title} {}", target["refId"].as_str().unwrap_or("?")),
                panel_type: panel["type"].as_str().unwrap_or("").to_string(),
                promql: substitute(&expr, dashboard),
                expr,
                legend: target["legendFormat"].as_str().unwrap_or("").to_string(),
            });
        }
    }
    out
}

/// `expr` with Grafana's variables replaced by what Grafana sends: `$__rate_interval`
/// a duration ([`RATE_INTERVAL`]), each query variable (`$name`, `${name}`) its
/// "All" value.
pub fn substitute(expr: &str, dashboard: &Value) -> String {
    let mut out = expr.replace("$__rate_interval", RATE_INTERVAL);
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if variable["type"] != "query" {
            continue;
        }
        let name = variable["name"].as_str().expect("a variable name");
        let value = variable["allValue"].as_str().expect("an allValue");
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    out
}

/// A Prometheus server on 127.0.0.1 scraping `job="tagwatch"` targets every second
/// (keeping their own labels, as the chart's ServiceMonitor does) and evaluating its rule
/// files every second; stopped on drop.
pub struct Prometheus {
    child: Child,
    url: String,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts the server scraping `targets` (`host:port`) with the rule files `rules`
    /// (JSON, written as YAML files), and waits until it is ready.
    pub async fn start(targets: &[&str], rules: &[Value]) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let mut rule_files = Vec::new();
        for (i, groups) in rules.iter().enumerate() {
            let name = format!("rules-{i}.yaml");
            std::fs::write(dir.path().join(&name), groups.to_string()).unwrap();
            rule_files.push(name);
        }
        let config = json!({
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": rule_files,
            "scrape_configs": [{
                "job_name": "tagwatch",
                "honor_labels": true,
                "static_configs": [{"targets": targets}],
            }],
        });
        // JSON is YAML: the server reads it as its configuration.
        std::fs::write(dir.path().join("prometheus.yml"), config.to_string()).unwrap();
        let port = crate::free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(tool("prometheus", "prometheus-tools"))
            .current_dir(dir.path())
            .arg("--config.file=prometheus.yml")
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Targets are known at once: the first scrape need not wait 5 s.
            .arg("--scrape.discovery-reload-interval=200ms")
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting prometheus");
        let prometheus = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            dir,
        };
        eventually("prometheus is ready", Duration::from_secs(30), || async {
            let ready = prometheus.get("/-/ready", &[]).await;
            ready
                .map(|_| ())
                .map_err(|e| format!("{e}\n{}", prometheus.log()))
        })
        .await;
        prometheus
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<String, String> {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .query(query)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("GET {path}: {status} {body}"));
        }
        Ok(body)
    }

    /// An API call's `data` (`status` must be `success`).
    pub async fn api(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, String> {
        let body: Value = serde_json::from_str(&self.get(path, query).await?)
            .map_err(|e| format!("{path}: {e}"))?;
        if body["status"] != "success" {
            return Err(format!("{path}: {body}"));
        }
        Ok(body["data"].clone())
    }

    /// The instant query `expr` now: its result (a vector's series, or a scalar).
    pub async fn query(&self, expr: &str) -> Result<Value, String> {
        self.api("/api/v1/query", &[("query", expr)]).await
    }

    /// The range query `expr` from `start` to `end` (Unix seconds) every `step` seconds.
    pub async fn query_range(
        &self,
        expr: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Value, String> {
        let (start, end, step) = (start.to_string(), end.to_string(), step.to_string());
        let query = [
            ("query", expr),
            ("start", &start),
            ("end", &end),
            ("step", &step),
        ];
        self.api("/api/v1/query_range", &query).await
    }

    /// The active alerts (pending and firing).
    pub async fn alerts(&self) -> Result<Vec<Value>, String> {
        let data = self.api("/api/v1/alerts", &[]).await?;
        Ok(data["alerts"].as_array().cloned().unwrap_or_default())
    }

    /// The alerting rules as the server evaluates them (`health`, `lastError`, `state`).
    pub async fn alerting_rules(&self) -> Result<Vec<Value>, String> {
        let data = self.api("/api/v1/rules", &[("type", "alert")]).await?;
        Ok(data["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect())
    }

    /// The directory the server runs in (its configuration and log).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
