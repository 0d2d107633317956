//! The chart's rendered objects as a real apiserver sees them: every value combination
//! passes `kubectl apply --dry-run=server` (schemas, defaulting, admission) without a
//! Pod Security warning, and the operator's pod is admitted by a namespace that
//! enforces the restricted profile.

use std::process::Output;

use serde_json::{Value, json};
use testkit::controlplane::{ControlPlane, TestNamespace};
use testkit::helm::{Rendered, template_release};

/// Labels the namespace to enforce (and warn about) the restricted profile.
fn enforce_restricted(namespace: &TestNamespace) {
    ControlPlane::shared().kubectl_stdout(&[
        "label",
        "namespace",
        namespace.name(),
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/warn=restricted",
    ]);
}

/// `kubectl <verb> --dry-run=server -f` with `objects` as one List.
fn dry_run(verb: &str, objects: &[Value]) -> Output {
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
    std::fs::write(file.path(), list.to_string()).unwrap();
    ControlPlane::shared()
        .kubectl()
        .args([verb, "--dry-run=server", "-f"])
        .arg(file.path())
        .output()
        .expect("running kubectl")
}

/// The chart rendered as release "tagwatch" in `namespace`.
fn render_in(namespace: &str, values: &Value) -> Rendered {
    let yaml = template_release("tagwatch", namespace, values, &[])
        .unwrap_or_else(|e| panic!("helm template {values}: {e}"));
    Rendered::parse(&yaml)
}

#[tokio::test]
async fn every_combination_passes_server_side_dry_run_without_warnings() {
    let release = TestNamespace::new("chart-dry-run").await;
    let served = [
        TestNamespace::new("chart-served-a").await,
        TestNamespace::new("chart-served-b").await,
    ];
    enforce_restricted(&release);
    let combinations = [
        json!({}),
        json!({"scope": {"namespaces": [served[0].name(), served[1].name()]}}),
        json!({"replicaCount": 2, "leaderElection": {"leaseName": "tw-lock"}}),
        json!({"networkPolicy": {"enabled": true, "metricsFrom": [{"namespaceSelector": {}}]},
               "metrics": {"serviceMonitor": {"enabled": true}}}),
        json!({"ucloud": {"defaultCredentials": {"enabled": true, "existingSecret": "keys"}},
               "extraEnv": [{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}]}),
    ];
    for values in combinations {
        let rendered = render_in(release.name(), &values);
        // This control plane has no Prometheus Operator CRDs; chart.rs checks the
        // ServiceMonitor's fields.
        let objects: Vec<Value> = rendered
            .objects
            .into_iter()
            .filter(|o| o["kind"] != "ServiceMonitor")
            .collect();
        let output = dry_run("apply", &objects);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{values}: {stderr}");
        assert!(!stderr.contains("Warning"), "{values}: {stderr}");
        let applied = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            applied.matches("(server dry run)").count(),
            objects.len(),
            "{values}: {applied}"
        );
    }
}

#[tokio::test]
async fn a_restricted_namespace_admits_the_operator_pod() {
    let namespace = TestNamespace::new("chart-restricted").await;
    enforce_restricted(&namespace);
    let rendered = render_in(namespace.name(), &json!({"replicaCount": 2}));
    let template = &rendered.one("Deployment")["spec"]["template"];
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "tagwatch", "namespace": namespace.name(),
                     "labels": template["metadata"]["labels"]},
        "spec": template["spec"],
    });
    let admitted = dry_run("create", std::slice::from_ref(&pod));
    assert!(
        admitted.status.success(),
        "{}",
        String::from_utf8_lossy(&admitted.stderr)
    );

    // The namespace does enforce: the same pod with a privilege escalation is refused.
    let mut escalating = pod;
    escalating["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] =
        json!(true);
    let refused = dry_run("create", &[escalating]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("violates PodSecurity \"restricted:"),
        "{stderr}"
    );
}
