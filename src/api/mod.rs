//! The `tagwatch.dev` Kubernetes API: the `TagWatch` custom resource and its CRD.

pub mod conditions;
pub mod v1alpha1;

use kube::CustomResourceExt;

/// The API group of every tagwatch resource.
pub const GROUP: &str = "tagwatch.dev";

/// Annotation whose every new value requests an immediate poll (echoed in
/// `status.lastHandledReconcileAt`), as Flux's `reconcile.fluxcd.io/requestedAt`.
pub const RECONCILE_REQUESTED_AT: &str = "tagwatch.dev/reconcile-requested-at";

/// The CustomResourceDefinition of `TagWatch` as YAML, as committed under `crds/`.
pub fn crd_yaml() -> String {
    let crd = v1alpha1::TagWatch::crd();
    let body = serde_norway::to_string(&crd).expect("a CRD always serializes");
    format!("---\n{body}")
}
