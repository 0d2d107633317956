//! Acting as a ServiceAccount on the local control plane with a token from the
//! TokenRequest API, the identity a pod of the chart would have, and asking the
//! apiserver's authorizer what that identity may do.

use std::os::unix::fs::PermissionsExt;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

use crate::controlplane::ControlPlane;

/// A kubeconfig for the ServiceAccount `namespace/name`: the control plane's server
/// and CA, authenticated by a one-hour token from the TokenRequest API. Readable by
/// any user (0644), so an operator in a container with a non-root user can read it.
pub fn kubeconfig_as(
    control_plane: &ControlPlane,
    namespace: &str,
    name: &str,
) -> tempfile::NamedTempFile {
    let token = control_plane.kubectl_stdout(&[
        "create",
        "token",
        name,
        "--namespace",
        namespace,
        "--duration",
        "1h",
    ]);
    let admin = std::fs::read_to_string(control_plane.kubeconfig_path()).expect("kubeconfig");
    let mut config: Value = serde_norway::from_str(&admin).expect("kubeconfig is YAML");
    let users = config["users"].as_array_mut().expect("kubeconfig users");
    for user in users {
        user["user"] = json!({"token": token.trim()});
    }
    let file = tempfile::Builder::new()
        .prefix("tagwatch-sa-")
        .suffix(".kubeconfig")
        .tempfile()
        .expect("a kubeconfig file");
    std::fs::write(file.path(), serde_norway::to_string(&config).unwrap()).unwrap();
    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    file
}

/// A client authenticated as the ServiceAccount `namespace/name`.
pub async fn client_as(control_plane: &ControlPlane, namespace: &str, name: &str) -> kube::Client {
    let file = kubeconfig_as(control_plane, namespace, name);
    let kubeconfig = Kubeconfig::read_from(file.path()).expect("reading the kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("loading the kubeconfig");
    kube::Client::try_from(config).expect("a client")
}

/// One request to authorize: `verb` on `group`/`resource` (`resource/subresource`
/// allowed), in `namespace` ("" = cluster-wide), optionally one object `name`.
#[derive(Clone, Copy, Debug)]
pub struct Access<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl<'a> Access<'a> {
    pub fn new(verb: &'a str, group: &'a str, resource: &'a str, namespace: &'a str) -> Self {
        Access {
            verb,
            group,
            resource,
            namespace,
            name: "",
        }
    }

    /// The same access to the object `name` only.
    pub fn named(self, name: &'a str) -> Self {
        Access { name, ..self }
    }
}

/// Whether `client`'s identity may do `access`, as the apiserver's authorizer says
/// (a SelfSubjectAccessReview).
pub async fn allowed(client: &kube::Client, access: Access<'_>) -> bool {
    let (resource, subresource) = match access.resource.split_once('/') {
        Some((resource, sub)) => (resource, Some(sub.to_string())),
        None => (access.resource, None),
    };
    let optional = |text: &str| (!text.is_empty()).then(|| text.to_string());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(access.verb.into()),
                group: Some(access.group.into()),
                resource: Some(resource.into()),
                subresource,
                namespace: optional(access.namespace),
                name: optional(access.name),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .unwrap_or_else(|e| panic!("SelfSubjectAccessReview {access:?}: {e}"));
    answer.status.expect("the review has a status").allowed
}

/// Panics naming every access in `expected` whose answer differs from its bool.
pub async fn assert_rights(client: &kube::Client, expected: &[(Access<'_>, bool)]) {
    let mut wrong = Vec::new();
    for (access, want) in expected {
        if allowed(client, *access).await != *want {
            wrong.push(format!("{access:?}: expected allowed={want}"));
        }
    }
    assert!(wrong.is_empty(), "wrong rights:\n{}", wrong.join("\n"));
}
