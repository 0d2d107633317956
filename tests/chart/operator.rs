//! The operator with nothing but the rights of the chart's ServiceAccount: `helm
//! install` of the chart scoped to a test namespace on the local control plane, a
//! token for its ServiceAccount from the TokenRequest API, and `tagwatch run` with
//! that token, out of cluster and in the image built by `make image` (host
//! network). A TagWatch is reconciled end to end, so the chart's RBAC suffices;
//! Secrets of other namespaces stay out of reach.

use serde_json::json;
use tagwatch::testing::env::{
    Env, FIXTURE_TAGS, IMAGE, NEXT_POLL, PROMPTLY, REPO, newest_tag_is, shared_control_plane, spec,
    tag_names,
};
use tempfile::NamedTempFile;
use testkit::controlplane::{ControlPlane, TestNamespace, eventually};
use testkit::podman::{self, Container};
use testkit::{gitops, helm, service_account};

/// A namespace with a release of the chart in it, named after it and serving only
/// it, and a kubeconfig with a token of the release's ServiceAccount (named after the
/// release too).
async fn install_scoped(
    control_plane: &'static ControlPlane,
    prefix: &str,
) -> (TestNamespace, NamedTempFile) {
    let namespace = TestNamespace::new_in(control_plane, prefix).await;
    let release = namespace.name();
    helm::apply(
        control_plane.kubeconfig_path(),
        "install",
        release,
        release,
        &json!({"scope": {"namespaces": [release]}}),
    );
    let kubeconfig = service_account::kubeconfig_as(control_plane, release, release);
    (namespace, kubeconfig)
}

/// `helm uninstall` of the release [`install_scoped`] installed in `namespace`.
fn uninstall_scoped(control_plane: &ControlPlane, namespace: &TestNamespace) {
    let release = namespace.name();
    helm::uninstall(control_plane.kubeconfig_path(), release, release);
}

/// `kubectl auth can-i --as USER VERB RESOURCE -n NAMESPACE`, as the apiserver's
/// authorizer answers it.
fn can_i(control_plane: &ControlPlane, user: &str, verb: &str, resource: &str, ns: &str) -> bool {
    let output = control_plane
        .kubectl()
        .args(["auth", "can-i", "--as", user, verb, resource, "-n", ns])
        .output()
        .expect("running kubectl auth can-i");
    match String::from_utf8_lossy(&output.stdout).trim() {
        "yes" => true,
        "no" => false,
        other => panic!(
            "kubectl auth can-i {verb} {resource} -n {ns}: {other}\n{}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

#[tokio::test]
async fn operator_with_the_charts_service_account_reconciles_end_to_end() {
    let control_plane = shared_control_plane();
    let other = TestNamespace::new_in(control_plane, "tagwatch-sa-other").await;
    let (namespace, kubeconfig) = install_scoped(control_plane, "tagwatch-sa").await;

    let (served, unserved) = (namespace.name(), other.name());
    let user = format!("system:serviceaccount:{served}:{served}");
    assert!(can_i(control_plane, &user, "get", "secrets", served));
    assert!(!can_i(control_plane, &user, "get", "secrets", unserved));
    assert!(!can_i(control_plane, &user, "list", "secrets", unserved));
    // spec.triggers: get and patch on the kinds of `triggers.resources`, nothing more.
    gitops::install_crds(control_plane);
    for resource in [
        "imagerepositories.image.toolkit.fluxcd.io",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "helmreleases.helm.toolkit.fluxcd.io",
        "gitrepositories.source.toolkit.fluxcd.io",
        "applications.argoproj.io",
    ] {
        assert!(
            can_i(control_plane, &user, "patch", resource, served),
            "{resource}"
        );
        assert!(
            can_i(control_plane, &user, "get", resource, served),
            "{resource}"
        );
        assert!(
            !can_i(control_plane, &user, "patch", resource, unserved),
            "{resource}"
        );
        assert!(
            !can_i(control_plane, &user, "delete", resource, served),
            "{resource}"
        );
        assert!(
            !can_i(control_plane, &user, "update", resource, served),
            "{resource}"
        );
    }
    assert!(!can_i(
        control_plane,
        &user,
        "patch",
        "deployments.apps",
        served
    ));

    let mut stack = Env::builder("unused")
        .namespace(namespace)
        .operator_kubeconfig(kubeconfig.path())
        .start()
        .await;
    let ready = stack.ready_tagwatch("web", json!({})).await;
    let fixture: Vec<_> = FIXTURE_TAGS.iter().map(|(name, _)| *name).collect();
    assert_eq!(tag_names(&ready), fixture);

    stack.push("v2.0.0", None).await;
    stack
        .wait_until("web", "v2.0.0 found", NEXT_POLL, newest_tag_is("v2.0.0"))
        .await;
    let notes = eventually("a NewTag event for v2.0.0", PROMPTLY, || async {
        let notes = stack.notes("web", "NewTag").await;
        match notes.iter().any(|note| note.contains("v2.0.0")) {
            true => Ok(notes),
            false => Err(format!("NewTag notes: {notes:?}")),
        }
    })
    .await;
    assert_eq!(notes.len(), 1, "{notes:?}");

    assert!(
        stack.operator().stop().success(),
        "{}",
        stack.operator().log()
    );
    uninstall_scoped(control_plane, &stack.namespace);
}

#[tokio::test]
async fn image_runs_the_operator_with_the_charts_service_account() {
    let image = podman::image();
    let control_plane = shared_control_plane();
    let (namespace, kubeconfig) = install_scoped(control_plane, "tagwatch-image").await;
    let env = Env::builder("unused")
        .namespace(namespace)
        .without_operator()
        .start()
        .await;

    let mount = format!("{}:/kubeconfig:ro", kubeconfig.path().display());
    let container = Container::start(
        &["--volume", &mount],
        &[("KUBECONFIG", "/kubeconfig")],
        &[
            "run",
            "--namespaces",
            env.name(),
            "--metrics-addr",
            "127.0.0.1:0",
            "--endpoint",
            env.emulator.url(),
        ],
    );

    env.apply_valid_secret().await;
    env.create_tagwatch("web", spec(json!({}))).await;
    let ready = env
        .wait_for_ready("web", "True", "Succeeded", PROMPTLY)
        .await;
    assert_eq!(
        tag_names(&ready).first().map(String::as_str),
        Some(FIXTURE_TAGS[0].0),
        "{image} polled {REPO}/{IMAGE}"
    );
    let requests = env.emulator.stats().await["total"].as_u64();
    assert!(
        requests.is_some_and(|n| n > 0),
        "emulator stats: {requests:?}"
    );

    drop(container);
    uninstall_scoped(control_plane, &env.namespace);
}
