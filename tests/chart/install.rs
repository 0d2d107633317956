//! `helm install`, `helm upgrade` and `helm uninstall` of the chart on the local control
//! plane, and what the installed ServiceAccount may then do, asked of the apiserver's
//! authorizer with a token from the TokenRequest API: exactly the operator's needs.
//! (Pods never run here: there is no kubelet.)

use std::time::Duration;
use testkit::helm;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tagwatch::api::v1alpha1::TagWatch;
use testkit::controlplane::{ControlPlane, TestNamespace, eventually};
use testkit::service_account::{Access, assert_rights, client_as};

/// `helm install|upgrade` of the chart as `release` in `namespace`.
fn helm_apply(command: &str, release: &str, namespace: &str, values: &Value) {
    helm::apply(
        ControlPlane::shared().kubeconfig_path(),
        command,
        release,
        namespace,
        values,
    );
}

fn helm_uninstall(release: &str, namespace: &str) {
    helm::uninstall(ControlPlane::shared().kubeconfig_path(), release, namespace);
}

/// (verb, API group, resource) the operator needs in a namespace it serves.
const SERVING_NEEDS: [(&str, &str, &str); 8] = [
    ("get", "tagwatch.dev", "tagwatches"),
    ("list", "tagwatch.dev", "tagwatches"),
    ("watch", "tagwatch.dev", "tagwatches"),
    ("patch", "tagwatch.dev", "tagwatches/status"),
    ("get", "", "secrets"),
    ("list", "", "secrets"),
    ("watch", "", "secrets"),
    ("create", "events.k8s.io", "events"),
];

/// (verb, API group, resource) it must not get there.
const SERVING_DENIED: [(&str, &str, &str); 12] = [
    ("create", "tagwatch.dev", "tagwatches"),
    ("update", "tagwatch.dev", "tagwatches"),
    ("patch", "tagwatch.dev", "tagwatches"),
    ("delete", "tagwatch.dev", "tagwatches"),
    ("update", "tagwatch.dev", "tagwatches/status"),
    ("create", "", "secrets"),
    ("update", "", "secrets"),
    ("delete", "", "secrets"),
    ("patch", "events.k8s.io", "events"),
    ("create", "", "events"),
    ("list", "", "pods"),
    ("list", "", "configmaps"),
];

/// The serving rights in `namespace`: each of SERVING_NEEDS with `granted`, each of
/// SERVING_DENIED refused.
fn serving_rights(namespace: &str, granted: bool) -> Vec<(Access<'_>, bool)> {
    let needs = SERVING_NEEDS
        .map(|(verb, group, resource)| (Access::new(verb, group, resource, namespace), granted));
    let denied = SERVING_DENIED
        .map(|(verb, group, resource)| (Access::new(verb, group, resource, namespace), false));
    needs.into_iter().chain(denied).collect()
}

/// The Lease rights: none without leader election, else only the named Lease.
fn lease_rights<'a>(namespace: &'a str, lease: &'a str, elects: bool) -> Vec<(Access<'a>, bool)> {
    let leases = |verb| Access::new(verb, "coordination.k8s.io", "leases", namespace);
    vec![
        (leases("create"), elects),
        (leases("get").named(lease), elects),
        (leases("update").named(lease), elects),
        (leases("get").named("another-lease"), false),
        (leases("update").named("another-lease"), false),
        (leases("delete").named(lease), false),
        (leases("list"), false),
    ]
}

#[tokio::test]
async fn install_upgrade_uninstall_grant_exactly_the_operators_rights() {
    let control_plane = ControlPlane::shared();
    let namespace = TestNamespace::new("tagwatch-install").await;
    let other = TestNamespace::new("tagwatch-elsewhere").await;
    // Cluster-scoped names derive from the release: one per test.
    let release = namespace.name();
    let lease = format!("{release}-leader");
    helm_apply("install", release, release, &json!({}));

    let admin = control_plane.client().await;
    let deployment = namespace.api::<Deployment>().get(release).await.unwrap();
    assert_eq!(deployment.spec.unwrap().replicas, Some(1));
    Api::<ClusterRole>::all(admin.clone())
        .get(release)
        .await
        .unwrap();

    let operator = client_as(control_plane, release, release).await;
    let mut expected = serving_rights(other.name(), true);
    expected.extend(serving_rights(release, true));
    expected.extend(lease_rights(release, &lease, false));
    expected.push((Access::new("list", "tagwatch.dev", "tagwatches", ""), true));
    expected.push((Access::new("list", "", "secrets", ""), true));
    expected.push((Access::new("list", "", "namespaces", ""), false));
    expected.push((
        Access::new(
            "get",
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "",
        ),
        false,
    ));
    assert_rights(&operator, &expected).await;

    // Two replicas: leader election on, with rights to its Lease only.
    helm_apply("upgrade", release, release, &json!({"replicaCount": 2}));
    let deployment = namespace.api::<Deployment>().get(release).await.unwrap();
    assert_eq!(deployment.spec.unwrap().replicas, Some(2));
    let mut expected = lease_rights(release, &lease, true);
    expected.extend(lease_rights(other.name(), &lease, false));
    assert_rights(&operator, &expected).await;

    let selector = format!("app.kubernetes.io/instance={release}");
    let release_objects = || {
        control_plane.kubectl_stdout(&[
            "get",
            "deployments,services,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings",
            "--all-namespaces",
            "--selector",
            &selector,
            "--output",
            "name",
        ])
    };
    assert_eq!(
        release_objects().lines().count(),
        7,
        "{}",
        release_objects()
    );
    helm_uninstall(release, release);
    assert_eq!(
        release_objects(),
        "",
        "objects of the release outlived helm uninstall"
    );
}

#[tokio::test]
async fn namespaced_install_reaches_only_the_listed_namespaces() {
    let control_plane = ControlPlane::shared();
    let namespace = TestNamespace::new("tagwatch-scoped").await;
    let served = TestNamespace::new("tagwatch-served").await;
    let unserved = TestNamespace::new("tagwatch-unserved").await;
    let release = namespace.name();
    helm_apply(
        "install",
        release,
        release,
        &json!({"scope": {"namespaces": [served.name()]}}),
    );
    let admin = control_plane.client().await;
    assert!(
        Api::<ClusterRole>::all(admin)
            .get_opt(release)
            .await
            .unwrap()
            .is_none()
    );

    let operator = client_as(control_plane, release, release).await;
    let mut expected = serving_rights(served.name(), true);
    expected.extend(serving_rights(unserved.name(), false));
    for namespace in ["", release] {
        expected.push((Access::new("list", "", "secrets", namespace), false));
        expected.push((Access::new("get", "", "secrets", namespace), false));
        expected.push((
            Access::new("list", "tagwatch.dev", "tagwatches", namespace),
            false,
        ));
    }
    assert_rights(&operator, &expected).await;
    operator_calls_succeed_only_where_served(&served, &unserved, operator).await;
    helm_uninstall(release, release);
}

/// The calls of one poll, made as the operator: read the TagWatch and its Secret,
/// write status with server-side apply. They work in `served`; a Secret in
/// `unserved` stays unreadable.
async fn operator_calls_succeed_only_where_served(
    served: &TestNamespace,
    unserved: &TestNamespace,
    operator: kube::Client,
) {
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "ucloud-keys"},
        "stringData": {"publicKey": "pub", "privateKey": "pri"},
    }))
    .unwrap();
    for namespace in [served, unserved] {
        namespace
            .api::<Secret>()
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }
    let tagwatch: TagWatch = serde_json::from_value(json!({
        "apiVersion": "tagwatch.dev/v1alpha1",
        "kind": "TagWatch",
        "metadata": {"name": "web"},
        "spec": {"repoName": "team", "imageName": "web", "secretRef": {"name": "ucloud-keys"}},
    }))
    .unwrap();
    // Another test's helm install may have created the CRD a moment ago: it is
    // served once established.
    eventually("creating a TagWatch", Duration::from_secs(30), || async {
        let api = served.api::<TagWatch>();
        api.create(&PostParams::default(), &tagwatch)
            .await
            .map_err(|e| e.to_string())
    })
    .await;

    let tagwatches = Api::<TagWatch>::namespaced(operator.clone(), served.name());
    tagwatches
        .get("web")
        .await
        .expect("the operator reads the TagWatch");
    let status = json!({"apiVersion": "tagwatch.dev/v1alpha1", "kind": "TagWatch",
                        "status": {"tagCount": 0}});
    let patched = tagwatches
        .patch_status(
            "web",
            &PatchParams::apply("tagwatch-chart-test"),
            &Patch::Apply(status),
        )
        .await
        .expect("the operator writes status");
    assert_eq!(patched.status.unwrap().tag_count, Some(0));
    Api::<Secret>::namespaced(operator.clone(), served.name())
        .get("ucloud-keys")
        .await
        .expect("the operator reads a Secret where it serves");
    match Api::<Secret>::namespaced(operator, unserved.name())
        .get("ucloud-keys")
        .await
    {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{status:?}"),
        other => panic!("a Secret of an unserved namespace: {other:?}"),
    }
}
