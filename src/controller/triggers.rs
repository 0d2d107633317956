//! Reconcile requests to GitOps tools (`spec.triggers`): when a poll finds a change a
//! trigger subscribes to, the object's controller is asked to reconcile now, the way its
//! own CLI asks: Flux kinds get `reconcile.fluxcd.io/requestedAt` (what `flux reconcile`
//! writes), Argo CD Applications `argocd.argoproj.io/refresh: normal` (what `argocd app
//! get --refresh` writes), other kinds the annotation the trigger names.
//!
//! At least once: a poll's requests are recorded in `status.pendingTriggers` in the same
//! status write as the poll's result ([`admit`]), made once that write is stored
//! ([`attempt`], a JSON merge patch of that one annotation under its own field manager,
//! so no other field changes hands), and removed by the next write ([`settle`]), which
//! also sets the `Triggered` condition and a `TriggerFailed` Warning event per failure.
//! An object not found yet is retried until the request is an hour old; a kind the
//! operator may not patch (403) or that the apiserver does not serve is given up at once.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::{self, Scope};
use tags::observe::Observation;

use super::events::Draft;
use crate::api::conditions;
use crate::api::v1alpha1::{PendingTrigger, TagWatch, TagWatchStatus, TriggerTarget};
use crate::notify::payload::happened;

/// The field manager of the annotation patches (never the status writer's).
pub const FIELD_MANAGER: &str = "tagwatch-trigger";
/// The annotation Flux controllers reconcile on.
pub const FLUX_REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";
/// The annotation Argo CD refreshes an Application on.
pub const ARGO_CD_REFRESH: &str = "argocd.argoproj.io/refresh";
/// Condition type: how the last reconcile requests went.
pub const TRIGGERED: &str = "Triggered";
/// A request whose object is still missing is given up once it is this old.
pub const MAX_AGE: Duration = Duration::from_secs(3600);
/// Delay before pending requests are tried again.
pub const RETRY: Duration = Duration::from_secs(10);

/// The `Triggered` condition's reasons (and `TriggerFailed` events' first word).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::Display, strum::VariantArray,
)]
pub enum TriggerReason {
    /// Every request was made.
    Triggered,
    /// The object does not exist (retried until the request is an hour old).
    ObjectNotFound,
    /// The operator may not patch the kind (the chart's `triggers.rules`).
    Forbidden,
    /// The apiserver serves no such apiVersion and kind, or not in a namespace.
    UnknownKind,
    /// The apiserver failed otherwise (retried).
    TriggerFailed,
}

/// Why one request failed.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// 404 on the object.
    #[error("{0} not found")]
    NotFound(String),
    /// 403 on the kind.
    #[error("the operator may not patch {0}: {1}")]
    Forbidden(String, String),
    /// Discovery does not know the kind.
    #[error("{0}: no namespaced kind {1} is served in {2}")]
    UnknownKind(String, String, String),
    /// Any other API error.
    #[error("{0}: {1}")]
    Api(String, String),
}

impl TriggerError {
    /// The condition reason.
    pub fn reason(&self) -> TriggerReason {
        match self {
            TriggerError::NotFound(_) => TriggerReason::ObjectNotFound,
            TriggerError::Forbidden(..) => TriggerReason::Forbidden,
            TriggerError::UnknownKind(..) => TriggerReason::UnknownKind,
            TriggerError::Api(..) => TriggerReason::TriggerFailed,
        }
    }

    /// Whether trying again later may succeed without a change elsewhere.
    pub fn retried(&self) -> bool {
        matches!(self, TriggerError::NotFound(_) | TriggerError::Api(..))
    }
}

/// The annotation and value that ask `target`'s controller to reconcile, at `now`.
pub fn request(target: &TriggerTarget, now: &Time) -> (String, String) {
    let time = now.0.to_string();
    if let Some(annotation) = &target.annotation {
        return (annotation.clone(), time);
    }
    if is_argo_cd_application(&target.api_version, &target.kind) {
        return (ARGO_CD_REFRESH.to_string(), "normal".to_string());
    }
    (FLUX_REQUESTED_AT.to_string(), time)
}

fn is_argo_cd_application(api_version: &str, kind: &str) -> bool {
    api_version.starts_with("argoproj.io/") && kind == "Application"
}

fn same_object(p: &PendingTrigger, t: &TriggerTarget) -> bool {
    p.api_version == t.api_version && p.kind == t.kind && p.name == t.name
}

/// Records the requests of a successful poll in `status.pendingTriggers` (one per
/// object: a newer request replaces a pending one), and forgets pending requests whose
/// object left `spec.triggers`. Without triggers, the `Triggered` condition goes.
pub fn admit(tw: &TagWatch, seen: Option<&Observation>, status: &mut TagWatchStatus, now: &Time) {
    let triggers = &tw.spec.triggers;
    status
        .pending_triggers
        .retain(|p| triggers.iter().any(|t| same_object(p, t)));
    if let Some(seen) = seen {
        for target in triggers {
            if !target.events.iter().any(|&kind| happened(kind, seen)) {
                continue;
            }
            let (annotation, value) = request(target, now);
            let pending = PendingTrigger {
                api_version: target.api_version.clone(),
                kind: target.kind.clone(),
                name: target.name.clone(),
                annotation,
                value,
                created_at: now.clone(),
                attempts: 0,
            };
            status.pending_triggers.retain(|p| !same_object(p, target));
            status.pending_triggers.push(pending);
        }
    }
    if triggers.is_empty() && status.pending_triggers.is_empty() {
        conditions::set(&mut status.conditions, TRIGGERED, None, None, now);
    }
}

/// Sets the annotation of `pending` on its object in `namespace`.
pub async fn attempt(
    client: &kube::Client,
    namespace: &str,
    pending: &PendingTrigger,
) -> Result<(), TriggerError> {
    let object = format!("{} {}", pending.kind, pending.name);
    let (group, version) = match pending.api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", pending.api_version.as_str()),
    };
    let gvk = GroupVersionKind::gvk(group, version, &pending.kind);
    let unknown = || {
        TriggerError::UnknownKind(
            object.clone(),
            pending.kind.clone(),
            pending.api_version.clone(),
        )
    };
    let (resource, capabilities) = match discovery::pinned_kind(client, &gvk).await {
        Ok(found) => found,
        Err(kube::Error::Discovery(_)) => return Err(unknown()),
        Err(kube::Error::Api(status)) if status.code == 404 => return Err(unknown()),
        Err(error) => return Err(classify(&object, error)),
    };
    if capabilities.scope != Scope::Namespaced {
        return Err(unknown());
    }
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let patch = serde_json::json!({
        "metadata": {"annotations": {pending.annotation.as_str(): pending.value.as_str()}}
    });
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    };
    api.patch(&pending.name, &params, &Patch::Merge(&patch))
        .await
        .map(drop)
        .map_err(|error| classify(&object, error))
}

fn classify(object: &str, error: kube::Error) -> TriggerError {
    match error {
        kube::Error::Api(status) if status.code == 404 => TriggerError::NotFound(object.into()),
        kube::Error::Api(status) if status.code == 403 => {
            TriggerError::Forbidden(object.into(), status.message.clone())
        }
        other => TriggerError::Api(object.into(), other.to_string()),
    }
}

/// Folds the results of [`attempt`] into `status`: made requests and those given up
/// leave `pendingTriggers`, the others count an attempt. Sets `Triggered` (False with
/// the first failure's reason, else True) and returns one `TriggerFailed` Warning per
/// request and reason (keyed, so repeats of it are not published again).
pub fn settle(
    tw: &TagWatch,
    status: &mut TagWatchStatus,
    results: Vec<(PendingTrigger, Result<(), TriggerError>)>,
    now: &Time,
) -> Vec<Draft> {
    let uid = tw.metadata.uid.as_deref().unwrap_or_default();
    let mut made = Vec::new();
    let mut failures = Vec::new();
    let mut events = Vec::new();
    for (pending, result) in results {
        status.pending_triggers.retain(|p| p != &pending);
        match result {
            Ok(()) => made.push(format!("{} {}", pending.kind, pending.name)),
            Err(error) => {
                let reason = error.reason();
                let expired = age(&pending, now) >= MAX_AGE;
                let mut message = error.to_string();
                if error.retried() && !expired {
                    message.push_str(" (will retry)");
                    status.pending_triggers.push(PendingTrigger {
                        attempts: pending.attempts.saturating_add(1),
                        ..pending.clone()
                    });
                } else if error.retried() {
                    message.push_str(" (given up)");
                }
                let key = format!(
                    "{uid}/{reason}/{}/{}/{}/{}",
                    pending.api_version, pending.kind, pending.name, pending.value
                );
                events.push(Draft::trigger_failed(
                    format!("{reason}: reconcile request not made: {message}"),
                    key,
                ));
                failures.push((reason, message));
            }
        }
    }
    let generation = tw.metadata.generation;
    let value = match failures.first() {
        Some((reason, _)) => {
            let messages: Vec<&str> = failures.iter().map(|(_, m)| m.as_str()).collect();
            Some((false, (*reason).into(), messages.join("; ")))
        }
        None if !made.is_empty() => Some((
            true,
            TriggerReason::Triggered.into(),
            format!("requested a reconcile of {}", made.join(", ")),
        )),
        None => None,
    };
    if let Some((state, reason, message)) = &value {
        let value = Some((*state, *reason, message.as_str()));
        conditions::set(&mut status.conditions, TRIGGERED, value, generation, now);
    }
    events
}

fn age(pending: &PendingTrigger, now: &Time) -> Duration {
    pending
        .created_at
        .0
        .until(now.0)
        .ok()
        .and_then(|span| Duration::try_from(span).ok())
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::v1alpha1::NotifyEvent;

    fn target(api_version: &str, kind: &str, annotation: Option<&str>) -> TriggerTarget {
        TriggerTarget {
            api_version: api_version.into(),
            kind: kind.into(),
            name: "app".into(),
            namespace: None,
            annotation: annotation.map(str::to_string),
            events: vec![NotifyEvent::NewTag],
        }
    }

    fn now() -> Time {
        Time("2027-01-01T00:00:00Z".parse().unwrap())
    }

    #[test]
    fn each_kind_gets_the_annotation_its_controller_reconciles_on() {
        let now = now();
        let flux = request(
            &target("image.toolkit.fluxcd.io/v1", "ImageRepository", None),
            &now,
        );
        assert_eq!(
            flux,
            (FLUX_REQUESTED_AT.into(), "2027-01-01T00:00:00Z".into())
        );
        let argo = request(&target("argoproj.io/v1alpha1", "Application", None), &now);
        assert_eq!(argo, (ARGO_CD_REFRESH.into(), "normal".into()));
        let other = request(
            &target("example.com/v1", "Thing", Some("example.com/poke")),
            &now,
        );
        assert_eq!(
            other,
            ("example.com/poke".into(), "2027-01-01T00:00:00Z".into())
        );
    }

    fn pending(created_at: Time) -> PendingTrigger {
        PendingTrigger {
            api_version: "image.toolkit.fluxcd.io/v1".into(),
            kind: "ImageRepository".into(),
            name: "app".into(),
            annotation: FLUX_REQUESTED_AT.into(),
            value: "v".into(),
            created_at,
            attempts: 0,
        }
    }

    fn tagwatch() -> TagWatch {
        let mut tw = TagWatch::new("tw", serde_json::from_value(serde_json::json!({
            "repoName": "team", "imageName": "web",
            "triggers": [{"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository", "name": "app"}],
        })).unwrap());
        tw.metadata.uid = Some("uid".into());
        tw
    }

    #[test]
    fn made_requests_leave_status_and_set_triggered() {
        let tw = tagwatch();
        let mut status = TagWatchStatus {
            pending_triggers: vec![pending(now())],
            ..Default::default()
        };
        let events = settle(&tw, &mut status, vec![(pending(now()), Ok(()))], &now());
        assert!(events.is_empty());
        assert!(status.pending_triggers.is_empty());
        let c = conditions::find(&status.conditions, TRIGGERED).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "Triggered")
        );
    }

    #[test]
    fn a_missing_object_is_retried_until_an_hour_old_and_a_forbidden_kind_is_given_up() {
        let tw = tagwatch();
        let mut status = TagWatchStatus {
            pending_triggers: vec![pending(now())],
            ..Default::default()
        };
        let missing = Err(TriggerError::NotFound("ImageRepository app".into()));
        let events = settle(&tw, &mut status, vec![(pending(now()), missing)], &now());
        assert_eq!(events.len(), 1);
        assert_eq!(status.pending_triggers.len(), 1);
        assert_eq!(status.pending_triggers[0].attempts, 1);
        let c = conditions::find(&status.conditions, TRIGGERED).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("False", "ObjectNotFound")
        );

        let later = Time("2027-01-01T01:00:00Z".parse().unwrap());
        let missing = Err(TriggerError::NotFound("ImageRepository app".into()));
        let retried = status.pending_triggers[0].clone();
        settle(&tw, &mut status, vec![(retried, missing)], &later);
        assert!(status.pending_triggers.is_empty(), "given up after an hour");

        let mut status = TagWatchStatus {
            pending_triggers: vec![pending(now())],
            ..Default::default()
        };
        let forbidden = Err(TriggerError::Forbidden(
            "ImageRepository app".into(),
            "no".into(),
        ));
        let events = settle(&tw, &mut status, vec![(pending(now()), forbidden)], &now());
        assert!(status.pending_triggers.is_empty());
        assert_eq!(events[0].reason.as_str(), "TriggerFailed");
        let c = conditions::find(&status.conditions, TRIGGERED).unwrap();
        assert_eq!(c.reason, "Forbidden");
    }
}
