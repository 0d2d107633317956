//! End to end: `spec.triggers` against the real Flux and Argo CD CRDs (copied out of
//! their Go modules at pinned versions by `make gitops-crds`) on the control plane. A
//! pushed tag annotates a Flux ImageRepository and an Argo CD Application within the
//! poll, under tagwatch's own field manager and nothing else; a request recorded with the
//! poll survives an operator killed with SIGKILL before it could be made; a kind the
//! operator may not patch, or that does not exist, gives `Triggered=False` with its
//! reason and one Warning event while polls stay Ready.

use serde_json::{Value, json};
use tagwatch::testing::env::{A_FEW_ATTEMPTS, Env, NEXT_POLL, condition, shared_control_plane};
use testkit::controlplane::{TestNamespace, eventually};
use testkit::{gitops, service_account};

fn install_gitops_crds() {
    gitops::install_crds(shared_control_plane());
}

/// `kubectl apply -n namespace -f -` of `manifest` (JSON or YAML).
fn apply(namespace: &str, manifest: &str) {
    gitops::apply(shared_control_plane(), namespace, manifest);
}

/// The object `resource/name` as JSON.
fn get(namespace: &str, resource: &str, name: &str) -> Value {
    let text = shared_control_plane().kubectl_stdout(&[
        "get",
        "-n",
        namespace,
        resource,
        name,
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    serde_json::from_str(&text).unwrap()
}

const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";

fn image_repository(name: &str) -> String {
    json!({
        "apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
        "metadata": {"name": name},
        "spec": {"image": "uhub.service.ucloud.cn/team/web", "interval": "5m"},
    })
    .to_string()
}

fn application(name: &str) -> String {
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://git.invalid/app.git", "path": ".", "targetRevision": "HEAD"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "app"},
        },
    })
    .to_string()
}

fn flux_trigger(name: &str) -> Value {
    json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository", "name": name})
}

/// Waits until `resource/name` carries `annotation` and returns its value.
async fn annotated(namespace: &str, resource: &str, name: &str, annotation: &str) -> String {
    let what = format!("{resource}/{name} annotated with {annotation}");
    eventually(&what, NEXT_POLL, || async {
        let object = get(namespace, resource, name);
        object["metadata"]["annotations"][annotation]
            .as_str()
            .map(str::to_string)
            .ok_or(format!("annotations {}", object["metadata"]["annotations"]))
    })
    .await
}

/// The fields the manager `manager` owns in `object`.
fn owned_by(object: &Value, manager: &str) -> Vec<Value> {
    let managed = object["metadata"]["managedFields"].as_array().unwrap();
    managed
        .iter()
        .filter(|m| m["manager"] == manager)
        .map(|m| m["fieldsV1"].clone())
        .collect()
}

#[tokio::test]
async fn a_pushed_tag_annotates_a_flux_image_repository_and_an_argo_cd_application() {
    install_gitops_crds();
    let env = Env::start("triggers").await;
    let ns = env.name();
    apply(ns, &image_repository("app"));
    apply(ns, &application("app"));
    let triggers = json!({"triggers": [
        flux_trigger("app"),
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "name": "app", "events": ["NewTag"]},
    ]});
    env.ready_tagwatch("web", triggers).await;
    let before = get(ns, "imagerepository", "app");
    assert!(
        before["metadata"]["annotations"][REQUESTED_AT].is_null(),
        "the first sync requests nothing: {}",
        before["metadata"]
    );

    env.push("v2.0.0", None).await;
    let requested = annotated(ns, "imagerepository", "app", REQUESTED_AT).await;
    assert!(
        requested.parse::<jiff::Timestamp>().is_ok(),
        "an RFC 3339 time, as flux reconcile writes: {requested}"
    );
    let refresh = annotated(ns, "application", "app", "argocd.argoproj.io/refresh").await;
    assert_eq!(refresh, "normal");

    let repository = get(ns, "imagerepository", "app");
    let owned = owned_by(&repository, "tagwatch-trigger");
    assert_eq!(owned.len(), 1, "{owned:?}");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&owned[0]), ["f:metadata"], "{owned:?}");
    assert_eq!(
        keys(&owned[0]["f:metadata"]),
        ["f:annotations"],
        "{owned:?}"
    );
    let annotations = keys(&owned[0]["f:metadata"]["f:annotations"]);
    assert!(
        annotations
            .iter()
            .all(|k| k == "." || k == "f:reconcile.fluxcd.io/requestedAt"),
        "tagwatch owns that annotation and nothing else: {owned:?}"
    );
    let tw = env
        .wait_until("web", "Triggered=True", NEXT_POLL, |tw| {
            let triggered =
                condition(tw, "Triggered").map(|c| (c.status.clone(), c.reason.clone()));
            let pending = tw.status.as_ref().unwrap().pending_triggers.len();
            (triggered == Some(("True".into(), "Triggered".into())) && pending == 0)
                .then_some(())
                .ok_or(format!("Triggered {triggered:?}, {pending} pending"))
        })
        .await;
    let message = &condition(&tw, "Triggered").unwrap().message;
    assert!(message.contains("ImageRepository app"), "{message}");
}

#[tokio::test]
async fn a_request_recorded_with_the_poll_survives_a_killed_operator() {
    install_gitops_crds();
    let mut env = Env::start("triggers-kill").await;
    let ns = env.name().to_string();
    env.ready_tagwatch("web", json!({"triggers": [flux_trigger("late")]}))
        .await;

    // The object does not exist yet: the request stays pending (ObjectNotFound).
    env.push("v2.0.0", None).await;
    let recorded = env
        .wait_for("web", "a pending request", NEXT_POLL, |tw| {
            let status = tw.status.as_ref().unwrap();
            let reason = condition(tw, "Triggered").map(|c| c.reason.clone());
            match (&status.pending_triggers[..], reason.as_deref()) {
                ([pending], Some("ObjectNotFound")) => Ok(pending.clone()),
                _ => Err(format!("{:?} {reason:?}", status.pending_triggers)),
            }
        })
        .await;
    env.operator().kill();
    let notes = env.notes("web", "TriggerFailed").await;
    assert_eq!(
        notes.len(),
        1,
        "one Warning for the missing object: {notes:?}"
    );
    assert!(
        notes[0].contains("ImageRepository late not found"),
        "{notes:?}"
    );

    apply(&ns, &image_repository("late"));
    let _restarted = env.operator_process(&[]);
    let value = annotated(&ns, "imagerepository", "late", REQUESTED_AT).await;
    assert_eq!(value, recorded.value, "the recorded request is made");
    env.wait_until("web", "nothing pending", A_FEW_ATTEMPTS, |tw| {
        let pending = &tw.status.as_ref().unwrap().pending_triggers;
        let triggered = condition(tw, "Triggered").map(|c| c.status.clone());
        (pending.is_empty() && triggered.as_deref() == Some("True"))
            .then_some(())
            .ok_or(format!("{pending:?} {triggered:?}"))
    })
    .await;
}

/// The rules of the chart's (Cluster)Role with trigger rights on ImageRepositories only.
fn role_patching_image_repositories_only(name: &str) -> String {
    json!({
        "apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name},
             "rules": [
                {"apiGroups": ["tagwatch.dev"], "resources": ["tagwatches"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["tagwatch.dev"], "resources": ["tagwatches/status"], "verbs": ["patch"]},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
                {"apiGroups": ["image.toolkit.fluxcd.io"], "resources": ["imagerepositories"], "verbs": ["get", "patch"]},
             ]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
             "subjects": [{"kind": "ServiceAccount", "name": name}]},
        ]
    })
    .to_string()
}

#[tokio::test]
async fn a_forbidden_or_unknown_kind_gives_triggered_false_with_its_reason() {
    install_gitops_crds();
    let control_plane = shared_control_plane();
    let namespace = TestNamespace::new_in(control_plane, "triggers-rbac").await;
    let ns = namespace.name().to_string();
    apply(&ns, &role_patching_image_repositories_only("operator"));
    let kubeconfig = service_account::kubeconfig_as(control_plane, &ns, "operator");
    let env = Env::builder("unused")
        .namespace(namespace)
        .operator_kubeconfig(kubeconfig.path())
        .start()
        .await;
    apply(&ns, &image_repository("app"));
    let kustomization = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "app"},
        "spec": {"interval": "5m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "app"}},
    });
    apply(&ns, &kustomization.to_string());
    let triggers = json!({"triggers": [
        flux_trigger("app"),
        {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "name": "app"},
    ]});
    env.ready_tagwatch("web", triggers).await;

    env.push("v2.0.0", None).await;
    annotated(&ns, "imagerepository", "app", REQUESTED_AT).await;
    let tw = env
        .wait_until("web", "Triggered=False Forbidden", NEXT_POLL, |tw| {
            let triggered =
                condition(tw, "Triggered").map(|c| (c.status.clone(), c.reason.clone()));
            (triggered == Some(("False".into(), "Forbidden".into())))
                .then_some(())
                .ok_or(format!("Triggered {triggered:?}"))
        })
        .await;
    let status = tw.status.as_ref().unwrap();
    assert!(status.pending_triggers.is_empty(), "a 403 is not retried");
    assert_eq!(
        condition(&tw, "Ready").unwrap().status,
        "True",
        "the poll did not fail"
    );
    let message = &condition(&tw, "Triggered").unwrap().message;
    assert!(
        message.contains("may not patch Kustomization app"),
        "{message}"
    );
    let kustomization = get(&ns, "kustomization", "app");
    assert!(kustomization["metadata"]["annotations"][REQUESTED_AT].is_null());
    let notes = env.notes("web", "TriggerFailed").await;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("Forbidden: "), "{notes:?}");

    // An unknown kind: given up at once with UnknownKind.
    env.patch(
        "web",
        json!({"spec": {"triggers": [
            {"apiVersion": "example.com/v1", "kind": "Thing", "name": "x", "annotation": "example.com/poke"},
        ]}}),
    )
    .await;
    env.wait_observed("web", Some(2)).await;
    env.push("v3.0.0", None).await;
    env.wait_until("web", "Triggered=False UnknownKind", NEXT_POLL, |tw| {
        let triggered = condition(tw, "Triggered").map(|c| c.reason.clone());
        (triggered.as_deref() == Some("UnknownKind"))
            .then_some(())
            .ok_or(format!("Triggered {triggered:?}"))
    })
    .await;

    // Each request counted by its result, for the TagwatchTriggersFailing alert.
    let metrics = env.operator.as_ref().unwrap().scrape().await.unwrap();
    let requests =
        |result| metrics.value_or_zero("tagwatch_trigger_requests_total", &[("result", result)]);
    assert!(
        requests("Triggered") >= 1.0,
        "the ImageRepository was annotated"
    );
    assert_eq!(requests("Forbidden"), 1.0);
    assert_eq!(requests("UnknownKind"), 1.0);
}
