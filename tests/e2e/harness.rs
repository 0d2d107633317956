//! The local control plane and its test support: the pinned apiserver version,
//! a namespace per parallel test, the built kubectl, server-side apply, and an
//! apiserver restart that clients survive.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use testkit::controlplane::{ControlPlane, TestNamespace, eventually};

/// The Kubernetes version tests/controlplane/go.mod pins.
fn pinned_kubernetes_version() -> String {
    let go_mod = include_str!("../controlplane/go.mod");
    go_mod
        .lines()
        .find_map(|line| line.trim().strip_prefix("k8s.io/kubernetes "))
        .expect("go.mod requires k8s.io/kubernetes")
        .trim()
        .to_string()
}

fn config_map(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..ObjectMeta::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..ConfigMap::default()
    }
}

#[tokio::test]
async fn apiserver_and_kubectl_report_the_pinned_version() {
    let pinned = pinned_kubernetes_version();
    let control_plane = ControlPlane::shared();
    let info = control_plane
        .client()
        .await
        .apiserver_version()
        .await
        .unwrap();
    assert_eq!(info.git_version, pinned);
    assert_eq!((info.major.as_str(), info.minor.as_str()), ("1", "36"));

    let output = control_plane.kubectl_stdout(&["version", "-o", "json"]);
    let version: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(version["clientVersion"]["gitVersion"], pinned.as_str());
    assert_eq!(version["serverVersion"]["gitVersion"], pinned.as_str());
}

/// Creates a ConfigMap in a fresh namespace and checks that listing the
/// namespace shows exactly that one (besides the kube-root-ca.crt a
/// controller-manager would add, which this control plane has not).
async fn own_namespace_holds_only_own_config_map(prefix: &str) {
    let namespace = TestNamespace::new(prefix).await;
    assert!(namespace.name().starts_with(&format!("{prefix}-")));
    let config_maps: Api<ConfigMap> = namespace.api();
    config_maps
        .create(
            &PostParams::default(),
            &config_map("settings", &[("owner", prefix)]),
        )
        .await
        .unwrap();
    let listed = config_maps.list(&ListParams::default()).await.unwrap();
    let owners: Vec<_> = listed
        .items
        .iter()
        .map(|cm| cm.data.as_ref().and_then(|d| d.get("owner")).cloned())
        .collect();
    assert_eq!(owners, [Some(prefix.to_string())]);
}

#[tokio::test]
async fn parallel_test_a_gets_its_own_namespace() {
    own_namespace_holds_only_own_config_map("parallel-a").await;
}

#[tokio::test]
async fn parallel_test_b_gets_its_own_namespace() {
    own_namespace_holds_only_own_config_map("parallel-b").await;
}

#[tokio::test]
async fn built_kubectl_reads_the_namespace() {
    let namespace = TestNamespace::new("kubectl").await;
    let output = ControlPlane::shared().kubectl_stdout(&[
        "get",
        "namespace",
        namespace.name(),
        "-o",
        "jsonpath={.metadata.name} {.status.phase}",
    ]);
    assert_eq!(output, format!("{} Active", namespace.name()));
}

#[tokio::test]
async fn server_side_apply_tracks_field_managers() {
    let namespace = TestNamespace::new("apply").await;
    let config_maps: Api<ConfigMap> = namespace.api();
    let apply = |manager: &str| PatchParams::apply(manager);

    let first = config_map("applied", &[("interval", "30s")]);
    config_maps
        .patch("applied", &apply("tagwatch-test"), &Patch::Apply(&first))
        .await
        .unwrap();
    let second = config_map("applied", &[("interval", "1m")]);
    let updated = config_maps
        .patch("applied", &apply("tagwatch-test"), &Patch::Apply(&second))
        .await
        .unwrap();
    assert_eq!(
        updated.data,
        Some(BTreeMap::from([("interval".into(), "1m".into())]))
    );
    let managers: Vec<_> = updated
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| entry.manager)
        .collect();
    assert_eq!(managers, ["tagwatch-test"]);

    // Another manager changing an owned field without force is a conflict.
    let rival = config_map("applied", &[("interval", "5m")]);
    let conflict = config_maps
        .patch("applied", &apply("rival"), &Patch::Apply(&rival))
        .await;
    match conflict {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 409, "{status:?}"),
        other => panic!("expected a 409 conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn clients_reconnect_after_an_apiserver_restart() {
    // A control plane of its own: a restart would disturb the shared one's tests.
    let control_plane = ControlPlane::start();
    let namespace = TestNamespace::new_in(&control_plane, "restart").await;
    let config_maps: Api<ConfigMap> = namespace.api();
    config_maps
        .create(
            &PostParams::default(),
            &config_map("before-restart", &[("kept", "yes")]),
        )
        .await
        .unwrap();

    control_plane.restart_apiserver().await;

    let kept = eventually(
        "reading after the restart",
        Duration::from_secs(30),
        || async {
            config_maps
                .get("before-restart")
                .await
                .map_err(|e| e.to_string())
        },
    )
    .await;
    assert_eq!(
        kept.data,
        Some(BTreeMap::from([("kept".into(), "yes".into())]))
    );
    config_maps
        .create(&PostParams::default(), &config_map("after-restart", &[]))
        .await
        .unwrap();
}

#[tokio::test]
async fn stopped_apiserver_refuses_requests_until_started_again() {
    let control_plane = ControlPlane::start();
    let client = control_plane.client().await;

    control_plane.stop_apiserver().await;
    assert!(client.apiserver_version().await.is_err());

    control_plane.start_apiserver().await;
    let info = eventually(
        "reading the version after start",
        Duration::from_secs(30),
        || async { client.apiserver_version().await.map_err(|e| e.to_string()) },
    )
    .await;
    assert_eq!(info.git_version, pinned_kubernetes_version());
}
