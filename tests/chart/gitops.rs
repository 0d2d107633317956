//! The GitOps install snippets of docs/gitops.md: `deploy/gitops/flux-helmrelease.yaml`
//! and `deploy/gitops/argocd-application.yaml` pass the apiserver's server-side dry-run
//! against the real Flux and Argo CD CRDs (pinned, `make gitops-crds`), and the chart
//! values they set pass the chart's schema; `deploy/argocd/argocd-cm.yaml` carries
//! `deploy/argocd/health.lua` verbatim.

use serde::Deserialize;
use serde_json::Value;
use tagwatch::testing::env::shared_control_plane;
use testkit::controlplane::TestNamespace;
use testkit::{gitops, helm, paths};

/// The documents of the snippet `file`.
fn documents(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(paths::repo_file(file)).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).unwrap())
        .filter(|object| !object.is_null())
        .collect()
}

/// `kubectl apply --dry-run=server` of `objects` moved into `namespace`.
fn dry_run(namespace: &TestNamespace, mut objects: Vec<Value>) -> Vec<Value> {
    for object in &mut objects {
        object["metadata"]["namespace"] = Value::from(namespace.name());
    }
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
    let mut kubectl = shared_control_plane()
        .kubectl()
        .args([
            "apply",
            "--server-side",
            "--dry-run=server",
            "-o",
            "json",
            "-f",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    kubectl
        .stdin
        .take()
        .unwrap()
        .write_all(list.to_string().as_bytes())
        .unwrap();
    let output = kubectl.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "server-side dry-run of {list}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    match answer["kind"].as_str() {
        Some("List") => answer["items"].as_array().unwrap().clone(),
        _ => vec![answer],
    }
}

#[tokio::test]
async fn flux_helm_release_snippet_passes_server_side_dry_run_and_the_chart_schema() {
    gitops::install_crds(shared_control_plane());
    let namespace = TestNamespace::new_in(shared_control_plane(), "gitops-flux").await;
    let objects = documents("deploy/gitops/flux-helmrelease.yaml");
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["GitRepository", "HelmRelease"]);
    let release = objects[1].clone();
    let accepted = dry_run(&namespace, objects);
    assert_eq!(accepted.len(), 2);
    assert_eq!(
        accepted[1]["spec"]["chart"]["spec"]["chart"],
        "./charts/tagwatch"
    );
    let rendered = helm::render(&release["spec"]["values"]);
    assert!(!rendered.of_kind("Deployment").is_empty());
}

#[tokio::test]
async fn argo_cd_application_snippet_passes_server_side_dry_run_and_the_chart_schema() {
    gitops::install_crds(shared_control_plane());
    let namespace = TestNamespace::new_in(shared_control_plane(), "gitops-argocd").await;
    let objects = documents("deploy/gitops/argocd-application.yaml");
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["kind"], "Application");
    let values = objects[0]["spec"]["source"]["helm"]["valuesObject"].clone();
    let accepted = dry_run(&namespace, objects);
    assert_eq!(accepted[0]["spec"]["source"]["path"], "charts/tagwatch");
    let rendered = helm::render(&values);
    assert!(!rendered.of_kind("Deployment").is_empty());
}

#[test]
fn argocd_cm_snippet_carries_health_lua_verbatim() {
    let script = std::fs::read_to_string(paths::repo_file("deploy/argocd/health.lua")).unwrap();
    let config_map = &documents("deploy/argocd/argocd-cm.yaml")[0];
    assert_eq!(config_map["metadata"]["name"], "argocd-cm");
    let data = config_map["data"].as_object().unwrap();
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        ["resource.customizations.health.tagwatch.dev_TagWatch"]
    );
    assert_eq!(
        data["resource.customizations.health.tagwatch.dev_TagWatch"],
        script
    );
}
