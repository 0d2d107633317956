//! The checks of the Kubernetes Pod Security Standards' "restricted"
//! profile (which includes "baseline") on a pod spec given as JSON, so a rendered
//! chart can be checked without an apiserver. The apiserver's PodSecurity admission
//! enforces the same profile on a namespace labelled
//! `pod-security.kubernetes.io/enforce: restricted`.

use serde_json::Value;

/// Volume types the restricted profile allows.
const ALLOWED_VOLUMES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Every way `pod_spec` breaks the restricted profile, one sentence each; empty when it
/// complies.
pub fn restricted_violations(pod_spec: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod_spec[field] == true {
            found.push(format!("pod: {field} is true"));
        }
    }
    for volume in pod_spec["volumes"].as_array().into_iter().flatten() {
        let name = &volume["name"];
        let allowed = volume
            .as_object()
            .into_iter()
            .flatten()
            .all(|(key, _)| key == "name" || ALLOWED_VOLUMES.contains(&key.as_str()));
        if !allowed {
            found.push(format!("volume {name}: type not allowed"));
        }
    }
    let pod = &pod_spec["securityContext"];
    found.extend(seccomp_violations("pod", &pod["seccompProfile"]));
    if pod["runAsUser"] == 0 {
        found.push("pod: runAsUser is 0".into());
    }
    for kind in ["initContainers", "containers", "ephemeralContainers"] {
        for container in pod_spec[kind].as_array().into_iter().flatten() {
            let who = format!("{kind}[{}]", container["name"]);
            found.extend(container_violations(&who, container, pod));
        }
    }
    found
}

/// The restricted checks of one container, whose pod's securityContext is `pod`.
fn container_violations(who: &str, container: &Value, pod: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let context = &container["securityContext"];
    if context["privileged"] == true {
        found.push(format!("{who}: privileged"));
    }
    if context["allowPrivilegeEscalation"] != false {
        found.push(format!("{who}: allowPrivilegeEscalation is not false"));
    }
    let non_root = match &context["runAsNonRoot"] {
        Value::Bool(set) => *set,
        _ => pod["runAsNonRoot"] == true,
    };
    if !non_root {
        found.push(format!(
            "{who}: runAsNonRoot is not true (container or pod)"
        ));
    }
    if context["runAsUser"] == 0 {
        found.push(format!("{who}: runAsUser is 0"));
    }
    if context["seccompProfile"].is_null() {
        if pod["seccompProfile"].is_null() {
            found.push(format!("{who}: no seccompProfile (container or pod)"));
        }
    } else {
        found.extend(seccomp_violations(who, &context["seccompProfile"]));
    }
    let capabilities = &context["capabilities"];
    let drops_all = capabilities["drop"]
        .as_array()
        .is_some_and(|drop| drop.iter().any(|c| c == "ALL"));
    if !drops_all {
        found.push(format!("{who}: capabilities.drop lacks ALL"));
    }
    for added in capabilities["add"].as_array().into_iter().flatten() {
        if added != "NET_BIND_SERVICE" {
            found.push(format!("{who}: adds capability {added}"));
        }
    }
    if context["procMount"]
        .as_str()
        .is_some_and(|m| m != "Default")
    {
        found.push(format!("{who}: procMount is not Default"));
    }
    for port in container["ports"].as_array().into_iter().flatten() {
        if port["hostPort"].as_u64().is_some_and(|p| p != 0) {
            found.push(format!("{who}: hostPort {}", port["hostPort"]));
        }
    }
    found
}

/// A set seccomp profile must be RuntimeDefault or Localhost.
fn seccomp_violations(who: &str, profile: &Value) -> Vec<String> {
    match profile["type"].as_str() {
        None if profile.is_null() => Vec::new(),
        Some("RuntimeDefault" | "Localhost") => Vec::new(),
        other => vec![format!("{who}: seccompProfile type {other:?}")],
    }
}
