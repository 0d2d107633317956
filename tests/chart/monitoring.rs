//! The chart's monitoring: the alert rules (`monitoring/alerts.yaml`) as promtool checks
//! and unit-tests them, each with its runbook in docs/operations.md; the Grafana
//! dashboard (`monitoring/dashboard.json`, copied in docs/) with unique panel ids, a
//! data source variable and every query parsed by Prometheus' own parser; and the
//! PrometheusRule and dashboard ConfigMap the chart renders from them, admitted by an
//! apiserver serving the Prometheus Operator's own PrometheusRule CRD.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use testkit::controlplane::{ControlPlane, TestNamespace};
use testkit::helm::{Rendered, render, template_release};
use testkit::paths::{repo_file, tool, tools_file};
use testkit::prometheus::{
    ALERTS, DASHBOARD, alert_rules, dashboard, panel_queries, panels, yaml_file,
};

const ALERT_TESTS: &str = "tests/monitoring/alerts_test.yaml";
const DOCS_DASHBOARD: &str = "docs/grafana-dashboard.json";
const RUNBOOKS: &str = "https://github.com/tagwatch/tagwatch/blob/main/docs/operations.md#";

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn promtool(args: &[&str]) -> Output {
    Command::new(tool("promtool", "prometheus-tools"))
        .args(args)
        .current_dir(repo_file(""))
        .output()
        .expect("running promtool")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn promtool_checks_the_alert_rules() {
    let output = promtool(&["check", "rules", "--lint-fatal", ALERTS]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    let count = alert_rules().len();
    assert!(
        stdout.contains(&format!("SUCCESS: {count} rules found")),
        "{stdout}"
    );
}

#[test]
fn promtool_unit_tests_fire_and_hold_every_alert() {
    let output = promtool(&["test", "rules", ALERT_TESTS]);
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(text(&output.stdout).contains("SUCCESS"));

    // Every alert is expected both firing and not firing at some evaluation.
    let mut firing = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for case in yaml_file(ALERT_TESTS)["tests"].as_array().expect("tests") {
        for check in case["alert_rule_test"].as_array().into_iter().flatten() {
            let name = check["alertname"].as_str().expect("alertname").to_string();
            let expected = check["exp_alerts"].as_array().map_or(0, Vec::len);
            if expected > 0 {
                firing.insert(name);
            } else {
                quiet.insert(name);
            }
        }
    }
    let alerts: BTreeSet<String> = alert_rules()
        .iter()
        .map(|r| r["alert"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(firing, alerts, "alerts with a firing test");
    assert_eq!(quiet, alerts, "alerts with a not-firing test");
}

#[test]
fn every_alert_links_its_runbook_section_in_operations_md() {
    let docs = read("docs/operations.md");
    let headings: BTreeSet<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .collect();
    for rule in alert_rules() {
        let name = rule["alert"].as_str().unwrap();
        let url = rule["annotations"]["runbook_url"].as_str().unwrap_or("");
        assert_eq!(url, format!("{RUNBOOKS}{}", name.to_lowercase()), "{name}");
        assert!(
            headings.contains(name),
            "docs/operations.md has no ### {name}"
        );
        for key in ["summary", "description"] {
            assert!(rule["annotations"][key].is_string(), "{name} {key}");
        }
        let severity = rule["labels"]["severity"].as_str().unwrap_or("");
        assert!(["warning", "critical"].contains(&severity), "{name}");
    }
}

/// Runs promql-parse (Prometheus' parser) over `queries`.
fn parse<'a>(queries: impl Iterator<Item = (&'a str, &'a str)>) -> Output {
    let input: Vec<Value> = queries
        .map(|(name, expr)| json!({"name": name, "expr": expr}))
        .collect();
    let mut child = Command::new(tool("promql-parse", "prometheus-tools"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running promql-parse");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(Value::from(input).to_string().as_bytes())
        .unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn dashboard_has_unique_panel_ids_a_data_source_variable_and_parsed_queries() {
    let dashboard = dashboard();
    assert_eq!(
        read(DOCS_DASHBOARD),
        read(DASHBOARD),
        "{DOCS_DASHBOARD} is a copy"
    );
    assert!(
        dashboard["id"].is_null(),
        "provisioned dashboards have no id"
    );
    assert_eq!(dashboard["uid"], "tagwatch-overview");

    let variables = dashboard["templating"]["list"].as_array().unwrap();
    let source = variables
        .iter()
        .find(|v| v["type"] == "datasource")
        .expect("a data source variable");
    assert_eq!(source["name"], "datasource");
    assert_eq!(source["query"], "prometheus");
    let uses_variable = json!({"type": "prometheus", "uid": "${datasource}"});

    let panels = panels(&dashboard);
    let mut ids = BTreeMap::new();
    for panel in &panels {
        let id = panel["id"].as_u64().expect("an integer panel id");
        let title = panel["title"].as_str().unwrap();
        if let Some(other) = ids.insert(id, title) {
            panic!("panels {other:?} and {title:?} share id {id}");
        }
        assert!(panel["gridPos"]["w"].as_u64().is_some(), "{title}");
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"], uses_variable, "{title}");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title} has no query");
        for target in targets {
            assert_eq!(target["datasource"], uses_variable, "{title}");
        }
    }

    let queries = panel_queries(&dashboard);
    // As written, `[$__rate_interval]` is no PromQL: the parser must say so.
    let raw = parse(queries.iter().map(|q| (q.name.as_str(), q.expr.as_str())));
    assert_eq!(raw.status.code(), Some(1), "{}", text(&raw.stdout));
    let parsed = parse(queries.iter().map(|q| (q.name.as_str(), q.promql.as_str())));
    let stdout = text(&parsed.stdout);
    assert!(parsed.status.success(), "{stdout}{}", text(&parsed.stderr));
    assert!(
        stdout.ends_with(&format!("{} passed, 0 failed\n", queries.len())),
        "{stdout}"
    );
}

#[test]
fn dashboard_and_alerts_name_only_documented_metrics() {
    let docs = read("docs/operations.md");
    let mut exprs: Vec<String> = panel_queries(&dashboard())
        .into_iter()
        .map(|q| q.expr)
        .collect();
    exprs.extend(
        alert_rules()
            .iter()
            .map(|r| r["expr"].as_str().unwrap().to_string()),
    );
    for expr in exprs {
        let names = expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("tagwatch_") || w.starts_with("process_"));
        for name in names {
            let queried = [
                name,
                name.trim_end_matches("_bucket"),
                name.trim_end_matches("_sum"),
            ];
            assert!(
                queried.iter().any(|n| docs.contains(&format!("| `{n}` |"))),
                "{name} (in {expr}) is not in docs/operations.md's metric table"
            );
        }
    }
}

#[test]
fn chart_renders_the_rule_and_the_dashboard_only_when_enabled() {
    let defaults = render(&json!({}));
    assert!(defaults.of_kind("PrometheusRule").is_empty());
    assert!(defaults.of_kind("ConfigMap").is_empty());

    let rendered = render(&json!({"metrics": {
        "prometheusRule": {"enabled": true, "labels": {"release": "prom"}},
        "grafanaDashboard": {"enabled": true,
                             "annotations": {"grafana_folder": "Operators"}},
    }}));
    let rule = rendered.one("PrometheusRule");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(rule["metadata"]["labels"]["release"], "prom");
    assert_eq!(
        rule["spec"],
        yaml_file(ALERTS),
        "the rules as promtool checked them"
    );

    let config_map = rendered.one("ConfigMap");
    assert_eq!(config_map["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(
        config_map["metadata"]["annotations"]["grafana_folder"],
        "Operators"
    );
    let shipped: Value =
        serde_json::from_str(config_map["data"]["tagwatch.json"].as_str().unwrap()).unwrap();
    assert_eq!(shipped, dashboard());
}

fn kubectl_apply(args: &[&str], objects: &[Value]) -> Output {
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
    std::fs::write(file.path(), list.to_string()).unwrap();
    ControlPlane::shared()
        .kubectl()
        .arg("apply")
        .args(args)
        .arg("-f")
        .arg(file.path())
        .output()
        .expect("running kubectl")
}

#[tokio::test]
async fn prometheus_rule_and_dashboard_pass_server_side_dry_run() {
    // The Prometheus Operator's PrometheusRule CRD at the version the Makefile pins.
    let crd = "crds/monitoring.coreos.com_prometheusrules.yaml";
    ControlPlane::shared().apply_crd(&tools_file(crd, "prometheus-operator-crds"));
    let namespace = TestNamespace::new("chart-monitoring").await;
    let values = json!({"metrics": {
        "prometheusRule": {"enabled": true},
        "grafanaDashboard": {"enabled": true},
    }});
    let yaml = template_release("tagwatch", namespace.name(), &values, &[])
        .unwrap_or_else(|e| panic!("helm template: {e}"));
    let rendered = Rendered::parse(&yaml);
    let objects = vec![
        rendered.one("PrometheusRule").clone(),
        rendered.one("ConfigMap").clone(),
    ];
    let output = kubectl_apply(&["--server-side", "--dry-run=server"], &objects);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("Warning"), "{stderr}");
    let applied = text(&output.stdout);
    assert!(
        applied.contains(
            "prometheusrule.monitoring.coreos.com/tagwatch serverside-applied (server dry run)"
        ),
        "{applied}"
    );

    // The schema is enforced: a rule without an expression is refused.
    let mut broken = objects[0].clone();
    broken["spec"]["groups"][0]["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("expr");
    let refused = kubectl_apply(&["--server-side", "--dry-run=server"], &[broken]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("expr"),
        "{}",
        text(&refused.stderr)
    );
}
