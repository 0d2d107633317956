//! The Helm chart `charts/tagwatch` as `helm lint --strict` and `helm template` see it:
//! which objects each combination of values renders, what the operator container gets,
//! and the values the schema or the templates refuse.

use serde_json::{Value, json};
use testkit::helm::{NAMESPACE, Rendered, render, template};
use testkit::{helm, pod_security};

/// The value combinations the chart is checked with (lint, restricted profile).
fn combinations() -> Vec<Value> {
    vec![
        json!({}),
        json!({"scope": {"namespaces": ["team-a", "team-b"], "selector": "tier=prod"}}),
        json!({"replicaCount": 2}),
        json!({"metrics": {"serviceMonitor": {"enabled": true}}, "networkPolicy": {"enabled": true}}),
        json!({"ucloud": {"defaultCredentials": {"enabled": true, "existingSecret": "ucloud-default"}}}),
    ]
}

/// The rules every (Cluster)Role serving TagWatches holds, in order.
fn tagwatch_rules() -> Value {
    json!([
        {"apiGroups": ["tagwatch.dev"], "resources": ["tagwatches"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["tagwatch.dev"], "resources": ["tagwatches/status"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
        {"apiGroups": ["source.toolkit.fluxcd.io"], "resources": ["gitrepositories", "ocirepositories", "helmrepositories", "helmcharts", "buckets"], "verbs": ["get", "patch"]},
        {"apiGroups": ["kustomize.toolkit.fluxcd.io"], "resources": ["kustomizations"], "verbs": ["get", "patch"]},
        {"apiGroups": ["helm.toolkit.fluxcd.io"], "resources": ["helmreleases"], "verbs": ["get", "patch"]},
        {"apiGroups": ["image.toolkit.fluxcd.io"], "resources": ["imagerepositories", "imagepolicies", "imageupdateautomations"], "verbs": ["get", "patch"]},
        {"apiGroups": ["argoproj.io"], "resources": ["applications"], "verbs": ["get", "patch"]},
    ])
}

#[test]
fn trigger_rights_follow_the_triggers_value_and_empty_grants_none() {
    let rendered = render(&json!({"triggers": {"resources": []}}));
    let rules = rendered.one("ClusterRole")["rules"].clone();
    let expected: Vec<Value> = tagwatch_rules().as_array().unwrap()[..4].to_vec();
    assert_eq!(rules, Value::Array(expected));

    let custom = json!({"scope": {"namespaces": ["team-a"]}, "triggers": {"resources": [
        {"apiGroup": "example.com", "resources": ["things"]}
    ]}});
    let rendered = render(&custom);
    let rules = rendered.one("Role")["rules"].clone();
    assert_eq!(
        rules.as_array().unwrap().last().unwrap(),
        &json!({"apiGroups": ["example.com"], "resources": ["things"], "verbs": ["get", "patch"]})
    );
    assert_eq!(rules.as_array().unwrap().len(), 5);
}

fn id(kind: &str, namespace: &str, name: &str) -> (String, String, String) {
    (kind.into(), namespace.into(), name.into())
}

fn service_account_subject() -> Value {
    json!([{"kind": "ServiceAccount", "name": "tagwatch", "namespace": NAMESPACE}])
}

#[test]
fn chart_passes_helm_lint_strict_for_every_combination() {
    let chart = helm::chart_dir();
    let kube_version = helm::kube_version();
    for values in combinations() {
        let file = helm::values_file(&values);
        let output = helm::helm(&[
            "lint",
            "--strict",
            chart.to_str().unwrap(),
            "--kube-version",
            &kube_version,
            "--values",
            file.path().to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("0 chart(s) failed"),
            "helm lint --strict with {values}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn defaults_render_a_cluster_wide_single_replica_install() {
    let rendered = render(&json!({}));
    assert_eq!(
        rendered.ids(),
        [
            id("ClusterRole", "", "tagwatch"),
            id("ClusterRoleBinding", "", "tagwatch"),
            id("Deployment", NAMESPACE, "tagwatch"),
            id("Service", NAMESPACE, "tagwatch-metrics"),
            id("ServiceAccount", NAMESPACE, "tagwatch"),
        ]
    );
    assert_eq!(rendered.one("ClusterRole")["rules"], tagwatch_rules());
    let binding = rendered.one("ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], "tagwatch");
    assert_eq!(binding["subjects"], service_account_subject());

    let deployment = rendered.one("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(deployment["spec"]["replicas"], 1);
    // One replica without leader election: never two pollers during an update.
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    assert_eq!(pod["serviceAccountName"], "tagwatch");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    let container = rendered.container();
    assert_eq!(
        container["image"],
        "uhub.service.ucloud.cn/tagwatch/tagwatch:0.1.0"
    );
    for (pointer, expected) in [
        ("/args", json!(["run"])),
        (
            "/ports",
            json!([{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}]),
        ),
        (
            "/livenessProbe/httpGet",
            json!({"path": "/healthz", "port": "metrics"}),
        ),
        (
            "/readinessProbe/httpGet",
            json!({"path": "/readyz", "port": "metrics"}),
        ),
        (
            "/resources",
            json!({"requests": {"cpu": "100m", "memory": "128Mi"},
                   "limits": {"cpu": "1", "memory": "512Mi"}}),
        ),
    ] {
        assert_eq!(container.pointer(pointer), Some(&expected), "{pointer}");
    }

    let env = rendered.env();
    let plain: Vec<(&str, &str)> = env
        .iter()
        .filter(|(name, _)| !name.starts_with("POD_"))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        plain,
        [
            ("UCLOUD_ENDPOINT", "https://api.ucloud.cn"),
            ("TAGWATCH_REGISTRY_HOST", "uhub.service.ucloud.cn"),
            ("TAGWATCH_UCLOUD_QPS", "10"),
            ("TAGWATCH_UCLOUD_BURST", "20"),
            ("TAGWATCH_FULL_LISTING_EVERY", "100"),
            ("TAGWATCH_CONCURRENCY", "16"),
            ("TAGWATCH_METRICS_ADDR", "0.0.0.0:8080"),
            ("TAGWATCH_LOG_LEVEL", "info"),
            ("TAGWATCH_LOG_FORMAT", "json"),
        ]
    );
    let service = rendered.one("Service");
    assert_eq!(
        service["spec"]["ports"],
        json!([{"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}])
    );
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["selector"]["matchLabels"]
    );
}

#[test]
fn every_object_carries_the_recommended_labels() {
    for values in combinations() {
        for object in render(&values).objects {
            let labels = &object["metadata"]["labels"];
            for (key, expected) in [
                ("app.kubernetes.io/name", "tagwatch"),
                ("app.kubernetes.io/instance", "tagwatch"),
                ("app.kubernetes.io/version", "0.1.0"),
                ("app.kubernetes.io/managed-by", "Helm"),
                ("helm.sh/chart", "tagwatch-0.1.0"),
            ] {
                assert_eq!(labels[key], expected, "{key} of {}", object["kind"]);
            }
        }
    }
}

#[test]
fn namespaced_scope_grants_roles_in_each_namespace_and_nothing_cluster_wide() {
    let rendered =
        render(&json!({"scope": {"namespaces": ["team-a", "team-b"], "selector": "tier=prod"}}));
    assert!(rendered.of_kind("ClusterRole").is_empty());
    assert!(rendered.of_kind("ClusterRoleBinding").is_empty());
    for kind in ["Role", "RoleBinding"] {
        let namespaces: Vec<_> = rendered
            .of_kind(kind)
            .iter()
            .map(|o| o["metadata"]["namespace"].clone())
            .collect();
        assert_eq!(namespaces, [json!("team-a"), json!("team-b")], "{kind}s");
    }
    for role in rendered.of_kind("Role") {
        assert_eq!(role["rules"], tagwatch_rules());
    }
    for binding in rendered.of_kind("RoleBinding") {
        assert_eq!(binding["roleRef"]["kind"], "Role");
        assert_eq!(binding["subjects"], service_account_subject());
    }
    assert_eq!(
        rendered.env_var("TAGWATCH_NAMESPACES").as_deref(),
        Some("team-a,team-b")
    );
    assert_eq!(
        rendered.env_var("TAGWATCH_SELECTOR").as_deref(),
        Some("tier=prod")
    );
}

/// The operator is started with leader election on the Lease `lease`.
fn assert_elects_a_leader_on(rendered: &Rendered, lease: &str) {
    assert_eq!(
        rendered.env_var("TAGWATCH_LEADER_ELECT").as_deref(),
        Some("true")
    );
    assert_eq!(
        rendered.container()["args"],
        json!(["run", format!("--lease-name={lease}")])
    );
}

#[test]
fn two_replicas_elect_a_leader_and_get_a_disruption_budget() {
    let rendered = render(&json!({"replicaCount": 2}));
    assert_elects_a_leader_on(&rendered, "tagwatch-leader");
    let field = |path: &str| json!({"fieldRef": {"fieldPath": path}}).to_string();
    assert_eq!(rendered.env_var("POD_NAME"), Some(field("metadata.name")));
    assert_eq!(
        rendered.env_var("POD_NAMESPACE"),
        Some(field("metadata.namespace"))
    );
    let deployment = rendered.one("Deployment");
    assert_eq!(deployment["spec"]["strategy"]["type"], "RollingUpdate");

    let lease_role = rendered.one("Role");
    assert_eq!(lease_role["metadata"]["namespace"], NAMESPACE);
    assert_eq!(
        lease_role["rules"],
        json!([
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
             "resourceNames": ["tagwatch-leader"], "verbs": ["get", "update"]},
        ])
    );
    assert_eq!(
        rendered.one("RoleBinding")["subjects"],
        service_account_subject()
    );

    let budget = rendered.one("PodDisruptionBudget");
    assert_eq!(budget["spec"]["maxUnavailable"], 1);
    assert_eq!(
        budget["spec"]["selector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
}

#[test]
fn leader_election_follows_an_explicit_value() {
    let forced = render(&json!({"leaderElection": {"enabled": true, "leaseName": "tw-lock"}}));
    assert_elects_a_leader_on(&forced, "tw-lock");
    assert!(forced.of_kind("PodDisruptionBudget").is_empty());

    let error = template(
        &json!({"replicaCount": 3, "leaderElection": {"enabled": false}}),
        &[],
    )
    .expect_err("replicas without leader election render");
    assert!(
        error.contains("replicaCount > 1 needs leader election"),
        "{error}"
    );
}

#[test]
fn service_monitor_and_network_policy_when_enabled() {
    let rendered = render(&json!({
        "metrics": {"serviceMonitor": {"enabled": true, "labels": {"release": "prom"}}},
        "networkPolicy": {"enabled": true},
        "ucloud": {"endpoint": "http://api.service.ucloud.cn"},
    }));
    let monitor = rendered.one("ServiceMonitor");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prom");
    assert_eq!(
        monitor["spec"]["selector"]["matchLabels"],
        rendered.one("Service")["metadata"]["labels"]
            .as_object()
            .map(|labels| json!({
                "app.kubernetes.io/name": labels["app.kubernetes.io/name"],
                "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"],
            }))
            .unwrap()
    );
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");

    let policy = &rendered.one("NetworkPolicy")["spec"];
    assert_eq!(policy["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(
        policy["ingress"],
        json!([{"ports": [{"port": "metrics", "protocol": "TCP"}]}])
    );
    let egress_ports: Vec<_> = policy["egress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["ports"].as_array().unwrap().clone())
        .map(|port| format!("{}/{}", port["protocol"].as_str().unwrap(), port["port"]))
        .collect();
    // DNS, the API server's Service and own port, and plain HTTP for the VPC endpoint.
    assert_eq!(
        egress_ports,
        ["UDP/53", "TCP/53", "TCP/443", "TCP/6443", "TCP/80"]
    );

    let explicit = render(&json!({
        "networkPolicy": {"enabled": true, "apiServerPorts": [6443]},
        "ucloud": {"endpoint": "https://127.0.0.1:8443"},
    }));
    let ports = &explicit.one("NetworkPolicy")["spec"]["egress"][1]["ports"];
    assert_eq!(
        ports,
        &json!([{"port": 6443, "protocol": "TCP"}, {"port": 8443, "protocol": "TCP"}])
    );
}

#[test]
fn default_credentials_come_from_an_existing_secret_only_when_enabled() {
    let off = render(&json!({}));
    for name in [
        "TAGWATCH_DEFAULT_CREDENTIALS",
        "UCLOUD_PUBLIC_KEY",
        "UCLOUD_PRIVATE_KEY",
    ] {
        assert_eq!(off.env_var(name), None, "{name} set by default");
    }

    let on = render(
        &json!({"ucloud": {"defaultCredentials": {"enabled": true, "existingSecret": "ucloud-default"}}}),
    );
    let key_ref = |key: &str, optional: bool| {
        let mut reference = json!({"name": "ucloud-default", "key": key});
        if optional {
            reference["optional"] = json!(true);
        }
        Some(json!({"secretKeyRef": reference}).to_string())
    };
    assert_eq!(
        on.env_var("TAGWATCH_DEFAULT_CREDENTIALS").as_deref(),
        Some("true")
    );
    assert_eq!(on.env_var("UCLOUD_PUBLIC_KEY"), key_ref("publicKey", false));
    assert_eq!(
        on.env_var("UCLOUD_PRIVATE_KEY"),
        key_ref("privateKey", false)
    );
    assert_eq!(
        on.env_var("UCLOUD_SECURITY_TOKEN"),
        key_ref("securityToken", true)
    );
    assert!(
        on.of_kind("Secret").is_empty(),
        "the chart never holds keys"
    );

    let error = template(
        &json!({"ucloud": {"defaultCredentials": {"enabled": true}}}),
        &[],
    )
    .expect_err("default credentials without a Secret render");
    assert!(
        error.contains("needs ucloud.defaultCredentials.existingSecret"),
        "{error}"
    );
}

#[test]
fn scheduling_and_image_values_pass_through() {
    let scheduling = json!({
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
             "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "tagwatch"}}}}]}},
        "priorityClassName": "system-cluster-critical",
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway"}],
    });
    let mut values = scheduling.clone();
    values["image"] =
        json!({"repository": "registry.example/tw", "tag": "x", "digest": "sha256:abc"});
    let rendered = render(&values);
    let pod = &rendered.one("Deployment")["spec"]["template"]["spec"];
    for (key, expected) in scheduling.as_object().unwrap() {
        assert_eq!(&pod[key], expected, "{key}");
    }
    assert_eq!(
        rendered.container()["image"],
        "registry.example/tw@sha256:abc"
    );
}

#[test]
fn schema_rejects_wrong_types_and_unknown_keys_naming_them() {
    for (values, message) in [
        (
            json!({"replicaCount": "two"}),
            "at '/replicaCount': got string, want integer",
        ),
        (
            json!({"replicas": 2}),
            "additional properties 'replicas' not allowed",
        ),
        (
            json!({"ucloud": {"qps": "fast"}}),
            "at '/ucloud/qps': got string, want number",
        ),
        (
            json!({"scope": {"namespaces": "team-a"}}),
            "at '/scope/namespaces': got string, want array",
        ),
        (
            json!({"leaderElection": {"enabled": "yes"}}),
            "at '/leaderElection/enabled': value must be one of 'auto', true, false",
        ),
        (
            json!({"ucloud": {"endpoint": "api.ucloud.cn"}}),
            "at '/ucloud/endpoint'",
        ),
        (
            json!({"ucloud": {"registryHost": "https://uhub.service.ucloud.cn"}}),
            "at '/ucloud/registryHost'",
        ),
        (
            json!({"image": {"tags": "1"}}),
            "at '/image': additional properties 'tags' not allowed",
        ),
    ] {
        let error = template(&values, &[]).expect_err(&format!("{values} was accepted"));
        assert!(
            error.contains("values don't meet the specifications of the schema")
                && error.contains(message),
            "{values}: expected {message:?} in:\n{error}"
        );
    }
}

#[test]
fn every_container_meets_the_restricted_pod_security_profile() {
    for values in combinations() {
        let rendered = render(&values);
        let pod_spec = &rendered.one("Deployment")["spec"]["template"]["spec"];
        let violations = pod_security::restricted_violations(pod_spec);
        assert!(violations.is_empty(), "{values}: {violations:#?}");
        let container = rendered.container();
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    }
}

#[test]
fn restricted_profile_check_reports_what_a_privileged_pod_breaks() {
    let pod_spec = json!({
        "hostNetwork": true,
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
        "securityContext": {"seccompProfile": {"type": "Unconfined"}},
        "containers": [{
            "name": "app",
            "ports": [{"containerPort": 80, "hostPort": 80}],
            "securityContext": {"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}},
        }],
    });
    assert_eq!(
        pod_security::restricted_violations(&pod_spec),
        [
            "pod: hostNetwork is true",
            "volume \"root\": type not allowed",
            "pod: seccompProfile type Some(\"Unconfined\")",
            "containers[\"app\"]: privileged",
            "containers[\"app\"]: allowPrivilegeEscalation is not false",
            "containers[\"app\"]: runAsNonRoot is not true (container or pod)",
            "containers[\"app\"]: capabilities.drop lacks ALL",
            "containers[\"app\"]: adds capability \"SYS_ADMIN\"",
            "containers[\"app\"]: hostPort 80",
        ]
    );
}
