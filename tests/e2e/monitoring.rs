//! The chart's dashboard and alerts against real data: a Prometheus server (built from
//! the module pinned in tests/tools/prometheus) scrapes the operator while tags are pushed
//! and one TagWatch fails, and evaluates the chart's alert rules. Every dashboard query
//! and every alert expression returns series there (none is silently empty), and the
//! not-Ready alert fires for the failing TagWatch, and only for it. The panels' data is
//! kept for the picture of the dashboard in docs/ (`make dashboard-png`).

use std::time::Duration;

use serde_json::{Value, json};
use tagwatch::testing::env::{Env, spec};
use testkit::eventually;
use testkit::paths::repo_file;
use testkit::prometheus::{ALERTS, Prometheus, alert_rules, dashboard, panel_queries, yaml_file};

/// How long scrapes, rule evaluations and polls may take to show up on a loaded machine.
const SETTLE: Duration = Duration::from_secs(90);
/// The failing TagWatch: its Secret does not exist.
const BROKEN: &str = "broken";

/// The chart's rules with every `for` shortened to 2s, so that alerts fire in a test;
/// promtool's unit tests (tests/monitoring) cover the real durations.
fn rules_firing_quickly() -> Value {
    let mut rules = yaml_file(ALERTS);
    for group in rules["groups"].as_array_mut().unwrap() {
        for rule in group["rules"].as_array_mut().unwrap() {
            if rule.get("for").is_some() {
                rule["for"] = json!("2s");
            }
        }
    }
    rules
}

/// An alert expression without its final comparison with a number: what it compares
/// (`x > 0.5` is `x`), which has series whether or not the alert fires.
fn compared(expr: &str) -> String {
    let expr = expr.trim();
    for operator in ["==", ">", "<"] {
        if let Some((left, right)) = expr.rsplit_once(operator)
            && right.trim().parse::<f64>().is_ok()
        {
            return left.trim().to_string();
        }
    }
    panic!("{expr} does not end with a comparison with a number")
}

/// Waits until Prometheus holds `samples` scrapes of the operator (one a second).
async fn scraped_for(prometheus: &Prometheus, samples: u32) {
    let what = format!("{samples} scrapes of the operator");
    eventually(&what, SETTLE, || async {
        let data = prometheus
            .query("count_over_time(up{job=\"tagwatch\"}[5m])")
            .await?;
        let count = series(&data)?[0]["value"][1]
            .as_str()
            .unwrap_or("0")
            .to_string();
        (count.parse::<u32>().unwrap_or(0) >= samples)
            .then_some(())
            .ok_or(format!("{count} scrapes"))
    })
    .await;
}

/// The series of an instant query's result (a vector), or why there are none.
fn series(data: &Value) -> Result<Vec<Value>, String> {
    if data["resultType"] != "vector" {
        return Err(format!("not a vector: {data}"));
    }
    let result = data["result"].as_array().cloned().unwrap_or_default();
    if result.is_empty() {
        return Err("no series".to_string());
    }
    Ok(result)
}

#[tokio::test]
async fn prometheus_finds_data_for_every_panel_and_alert_and_fires_not_ready() {
    let mut env = Env::start("mon").await;
    env.ready_tagwatch("web", json!({})).await;
    env.create_tagwatch(
        BROKEN,
        spec(json!({"secretRef": {"name": "absent"}, "interval": "10s"})),
    )
    .await;
    env.wait_for_ready(BROKEN, "False", "CredentialsNotFound", SETTLE)
        .await;
    let target = env.operator().metrics_url().replace("http://", "");
    let started = now();
    let prometheus = Prometheus::start(&[&target], &[rules_firing_quickly()]).await;

    // Tags pushed while Prometheus scrapes, some seconds of data apart (for the picture):
    // new tags show up in its data.
    for (tag, samples) in [("v1.3.0", 10), ("v1.4.0", 20)] {
        scraped_for(&prometheus, samples).await;
        env.push(tag, None).await;
        env.request_poll("web").await;
    }
    scraped_for(&prometheus, 30).await;
    eventually("Prometheus saw the new tags", SETTLE, || async {
        let data = prometheus
            .query("sum(tagwatch_new_tags_total{job=\"tagwatch\"})")
            .await?;
        let value = series(&data)?[0]["value"][1].clone();
        (value.as_str() == Some("2"))
            .then_some(())
            .ok_or(format!("new tags {value}"))
    })
    .await;

    let dashboard = dashboard();
    for query in panel_queries(&dashboard) {
        let found = eventually(&format!("data for {}", query.name), SETTLE, || async {
            series(&prometheus.query(&query.promql).await?)
                .map_err(|e| format!("{}: {e}", query.promql))
        })
        .await;
        if query.name.starts_with("TagWatches not Ready") {
            let names: Vec<&str> = found
                .iter()
                .filter_map(|s| s["metric"]["name"].as_str())
                .collect();
            assert_eq!(names, [BROKEN], "{found:?}");
            assert_eq!(found[0]["metric"]["reason"], "CredentialsNotFound");
            assert_eq!(found[0]["metric"]["namespace"], env.name());
        }
    }

    let rules = alert_rules();
    eventually(
        "every alerting rule evaluated without error",
        SETTLE,
        || async {
            let evaluated = prometheus.alerting_rules().await?;
            let healthy = evaluated
                .iter()
                .filter(|r| r["health"] == "ok" && r["lastError"].as_str().unwrap_or("").is_empty())
                .count();
            (evaluated.len() == rules.len() && healthy == rules.len())
                .then_some(())
                .ok_or(format!("{evaluated:?}"))
        },
    )
    .await;
    for rule in &rules {
        let name = rule["alert"].as_str().unwrap();
        let expr = compared(rule["expr"].as_str().unwrap());
        eventually(&format!("data for {name}: {expr}"), SETTLE, || async {
            series(&prometheus.query(&expr).await?).map(drop)
        })
        .await;
    }

    let firing = eventually("TagwatchTagWatchNotReady fires", SETTLE, || async {
        let alerts = prometheus.alerts().await?;
        let not_ready: Vec<Value> = alerts
            .into_iter()
            .filter(|a| a["labels"]["alertname"] == "TagwatchTagWatchNotReady")
            .collect();
        (not_ready.len() == 1 && not_ready[0]["state"] == "firing")
            .then(|| not_ready[0].clone())
            .ok_or(format!("{not_ready:?}"))
    })
    .await;
    let labels = &firing["labels"];
    assert_eq!(labels["name"], BROKEN);
    assert_eq!(labels["namespace"], env.name());
    assert_eq!(labels["reason"], "CredentialsNotFound");
    assert_eq!(labels["severity"], "warning");
    // Nothing else is wrong: the healthy alerts stay quiet.
    let others: Vec<Value> = prometheus
        .alerts()
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a["labels"]["alertname"] != "TagwatchTagWatchNotReady")
        .collect();
    assert!(others.is_empty(), "{others:?}");

    save_panel_series(&prometheus, &dashboard, started).await;
}

/// Writes the range data of every time-series panel since `started` to
/// target/monitoring/dashboard-e2e.json, from which `make dashboard-png` draws
/// docs/dashboard.png.
async fn save_panel_series(prometheus: &Prometheus, dashboard: &Value, started: f64) {
    let end = now();
    let mut panels = Vec::new();
    for query in panel_queries(dashboard) {
        if query.panel_type != "timeseries" {
            continue;
        }
        let data = prometheus
            .query_range(&query.promql, started, end, 1.0)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", query.name));
        panels.push(json!({
            "name": query.name,
            "expr": query.promql,
            "legend": query.legend,
            "data": data,
        }));
    }
    let dir = repo_file("target/monitoring");
    std::fs::create_dir_all(&dir).unwrap();
    let saved = json!({"start": started, "end": end, "panels": panels});
    std::fs::write(dir.join("dashboard-e2e.json"), saved.to_string()).unwrap();
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
