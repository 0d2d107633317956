//! End to end: the committed CRD installs into a real apiserver, `kubectl explain`
//! documents it, and admission rejects invalid TagWatches with the messages
//! docs/api.md promises (and accepts a valid one, with its defaults).

use std::process::Output;

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, PostParams};
use kube::core::ApiResource;
use serde_json::json;
use tagwatch::api::v1alpha1::TagWatch;
use tagwatch::testing::env::shared_control_plane;
use testkit::controlplane::{TestNamespace, eventually};

/// How long the apiserver may take to publish the OpenAPI schema of a new CRD.
const SCHEMA_PUBLISHED: Duration = Duration::from_secs(30);

/// `kubectl apply -f -` of a TagWatch named `name` with `spec_yaml` (indented by two).
fn kubectl_apply(namespace: &TestNamespace, name: &str, spec_yaml: &str) -> Output {
    let manifest = format!(
        "apiVersion: tagwatch.dev/v1alpha1\nkind: TagWatch\nmetadata:\n  name: {name}\nspec:\n{spec_yaml}"
    );
    shared_control_plane().kubectl_apply(namespace.name(), &manifest)
}

/// Applies a TagWatch with `spec_yaml` in a fresh namespace, checks that kubectl
/// fails with every one of `messages` on stderr and that nothing was created.
async fn assert_rejected(spec_yaml: &str, messages: &[&str]) {
    let namespace = TestNamespace::new_in(shared_control_plane(), "admission").await;
    let output = kubectl_apply(&namespace, "bad", spec_yaml);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "accepted:\n{spec_yaml}\nstdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    for message in messages {
        assert!(
            stderr.contains(message),
            "kubectl's error for\n{spec_yaml}\nlacks {message:?}:\n{stderr}"
        );
    }
    let stored = namespace.api::<TagWatch>().get_opt("bad").await.unwrap();
    assert!(stored.is_none(), "a rejected TagWatch was stored");
}

#[tokio::test]
async fn crd_is_established_and_explained() {
    let control_plane = shared_control_plane();
    let crds: Api<CustomResourceDefinition> = Api::all(control_plane.client().await);
    let crd = crds.get("tagwatches.tagwatch.dev").await.unwrap();
    let conditions = crd.status.and_then(|s| s.conditions).unwrap_or_default();
    let established = conditions.iter().find(|c| c.type_ == "Established");
    assert_eq!(
        established.map(|c| c.status.as_str()),
        Some("True"),
        "{conditions:?}"
    );
    assert_eq!(crd.spec.names.short_names, Some(vec!["tw".to_string()]));

    // The apiserver publishes a new CRD's OpenAPI schema, which `kubectl explain`
    // reads, a moment after it is Established.
    let explain = |field: &'static str| async move {
        let output = control_plane
            .kubectl()
            .args(["explain", field])
            .output()
            .map_err(|e| e.to_string())?;
        match output.status.success() {
            true => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
            false => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
        }
    };
    let explained = eventually("kubectl explain tagwatch.spec", SCHEMA_PUBLISHED, || {
        explain("tagwatch.spec")
    })
    .await;
    for field in [
        "repoName",
        "imageName",
        "interval",
        "timeout",
        "secretRef",
        "filter",
        "policy",
        "historyLimit",
        "suspend",
    ] {
        assert!(
            explained.contains(field),
            "`kubectl explain tagwatch.spec` does not mention {field}:\n{explained}"
        );
    }
    assert!(explained.contains("The UHub repository"), "{explained}");
    let policy = explain("tw.spec.policy.semver").await.unwrap();
    assert!(policy.contains("range"), "{policy}");
}

#[tokio::test]
async fn empty_repo_name_is_rejected() {
    assert_rejected(
        "  repoName: \"\"\n  imageName: web\n",
        &[r#"spec.repoName: Invalid value: "": spec.repoName in body should be at least 1 chars long"#],
    )
    .await;
}

#[tokio::test]
async fn missing_image_name_is_rejected() {
    assert_rejected("  repoName: team\n", &["spec.imageName: Required value"]).await;
}

#[tokio::test]
async fn interval_that_is_not_a_duration_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  interval: abc\n",
        &[r#"spec.interval: Invalid value: "abc": spec.interval in body should match '^([0-9]+(ms|s|m|h))+$'"#],
    )
    .await;
}

#[tokio::test]
async fn interval_below_ten_seconds_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  interval: 1s\n",
        &[
            "spec.interval: Invalid value",
            "interval must be at least 10s",
        ],
    )
    .await;
}

#[tokio::test]
async fn timeout_longer_than_interval_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  interval: 1m\n  timeout: 2m\n",
        &["timeout must not be longer than interval"],
    )
    .await;
}

#[tokio::test]
async fn history_limit_zero_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  historyLimit: 0\n",
        &[
            "spec.historyLimit: Invalid value: 0",
            "should be greater than or equal to 1",
        ],
    )
    .await;
}

#[tokio::test]
async fn history_limit_5000_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  historyLimit: 5000\n",
        &[
            "spec.historyLimit: Invalid value: 5000",
            "should be less than or equal to 1000",
        ],
    )
    .await;
}

#[tokio::test]
async fn unknown_policy_is_rejected_by_kubectl_and_by_the_api() {
    // kubectl asks for strict field validation: the unknown field itself is named.
    assert_rejected(
        "  repoName: team\n  imageName: web\n  policy: {latest: {}}\n",
        &[r#"unknown field "spec.policy.latest""#],
    )
    .await;

    // A client without strict validation gets the field dropped, and then the
    // policy names none: the CEL rule says what to do.
    let namespace = TestNamespace::new_in(shared_control_plane(), "admission").await;
    let resource = ApiResource::erase::<TagWatch>(&());
    let api: Api<DynamicObject> =
        Api::namespaced_with(namespace.client(), namespace.name(), &resource);
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "tagwatch.dev/v1alpha1",
        "kind": "TagWatch",
        "metadata": {"name": "bad"},
        "spec": {"repoName": "team", "imageName": "web", "policy": {"latest": {}}},
    }))
    .unwrap();
    match api.create(&PostParams::default(), &object).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422, "{status:?}");
            assert!(
                status.message.contains(
                    "policy must set exactly one of newest, semver, alphabetical or numerical"
                ),
                "{}",
                status.message
            );
        }
        other => panic!("expected a 422 rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn two_policies_at_once_are_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  policy:\n    newest: {}\n    semver: {range: '1.x'}\n",
        &["spec.policy: Invalid value", "policy must set exactly one of newest, semver, alphabetical or numerical"],
    )
    .await;
}

#[tokio::test]
async fn secret_ref_with_a_namespace_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  secretRef: {name: keys, namespace: other}\n",
        &[
            "spec.secretRef: Invalid value",
            "secretRef.namespace is not supported: the Secret must be in the TagWatch's namespace",
        ],
    )
    .await;
}

#[tokio::test]
async fn cloud_events_mode_without_the_cloudevents_format_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  notify:\n    - secretRef: {name: hook}\n      format: slack\n      cloudEventsMode: binary\n",
        &[
            "spec.notify[0]: Invalid value",
            "cloudEventsMode is only valid with format: cloudevents",
        ],
    )
    .await;
}

#[tokio::test]
async fn valid_tagwatch_is_accepted_with_its_defaults() {
    let namespace = TestNamespace::new_in(shared_control_plane(), "admission").await;
    let output = kubectl_apply(
        &namespace,
        "valid",
        "  repoName: team\n  imageName: web\n  policy:\n    semver: {range: '>=1.2 <2'}\n  filter:\n    exclude: ['-rc']\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "tagwatch.tagwatch.dev/valid created"
    );
    let stored = namespace.api::<TagWatch>().get("valid").await.unwrap();
    assert_eq!(stored.spec.interval, "5m");
    assert_eq!(stored.spec.history_limit, 100);
    assert!(!stored.spec.suspend);
    let raw = shared_control_plane().kubectl_stdout(&[
        "get",
        "tw",
        "valid",
        "-n",
        namespace.name(),
        "-o",
        "jsonpath={.spec.interval} {.spec.historyLimit} {.spec.policy.semver.range}",
    ]);
    assert_eq!(raw, "5m 100 >=1.2 <2");
}

#[tokio::test]
async fn trigger_in_another_namespace_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  triggers:\n  - {apiVersion: kustomize.toolkit.fluxcd.io/v1, kind: Kustomization, name: app, namespace: flux-system}\n",
        &["triggers[].namespace is not supported: the object must be in the TagWatch's namespace"],
    )
    .await;
}

#[tokio::test]
async fn trigger_of_another_kind_without_annotation_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  triggers:\n  - {apiVersion: apps/v1, kind: Deployment, name: web}\n",
        &["triggers[].annotation is required for kinds other than Flux kinds (*.toolkit.fluxcd.io) and Argo CD Applications (argoproj.io)"],
    )
    .await;
}

#[tokio::test]
async fn trigger_with_a_malformed_api_version_or_too_many_triggers_is_rejected() {
    assert_rejected(
        "  repoName: team\n  imageName: web\n  triggers:\n  - {apiVersion: Kustomization, kind: Kustomization, name: app}\n",
        &["spec.triggers[0].apiVersion in body should match"],
    )
    .await;
    let many: String = (0..11)
        .map(|i| {
            format!("  - {{apiVersion: argoproj.io/v1alpha1, kind: Application, name: app-{i}}}\n")
        })
        .collect();
    assert_rejected(
        &format!("  repoName: team\n  imageName: web\n  triggers:\n{many}"),
        &["spec.triggers: Too many: 11: must have at most 10 items"],
    )
    .await;
}
