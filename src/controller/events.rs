//! Publishes Kubernetes Events (`events.k8s.io/v1`) about TagWatches, exactly once.
//!
//! kube-runtime's `Recorder` is not used here on purpose: it names events at random and
//! folds every event with the same reason into one series for six minutes, keeping the
//! first note. Tag events need the opposite: one event per tag, never repeated. So each
//! event's name is derived from what it announces (the TagWatch's UID, the reason and a
//! key such as the tag and its UpdateTime). Publishing the same announcement again, for
//! instance after the operator restarted between publishing and writing status, meets
//! `AlreadyExists` and is dropped. Events are published before status is written, so a
//! crash in between repeats the publication (harmlessly) instead of losing it.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use sha2::{Digest, Sha256};

use crate::tags::announce::{Announcement, EventKind, Reason};

/// The `reportingController` of every event.
pub const REPORTING_CONTROLLER: &str = "tagwatch.dev/controller";
/// The `action` of events about polls: what the controller was doing.
const ACTION: &str = "Poll";
/// The `action` of events about notifications.
const NOTIFY_ACTION: &str = "Notify";
/// Creates events with deterministic names.
#[derive(Clone)]
pub struct EventPublisher {
    client: kube::Client,
    instance: String,
}

impl EventPublisher {
    /// A publisher reporting as `instance` (the pod or host name).
    pub fn new(client: kube::Client, instance: impl Into<String>) -> Self {
        let mut instance = instance.into();
        instance.truncate(128);
        Self { client, instance }
    }

    /// Publishes `draft` about `regarding` unless an event with the same identity exists.
    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        draft: &Announcement,
    ) -> Result<(), kube::Error> {
        let event = self.build(regarding, draft);
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn build(&self, regarding: &ObjectReference, draft: &Announcement) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(event_name(regarding, draft)),
                namespace: regarding.namespace.clone(),
                ..Default::default()
            },
            action: Some(
                match draft.reason {
                    Reason::NotificationFailed => NOTIFY_ACTION,
                    _ => ACTION,
                }
                .to_string(),
            ),
            reason: Some(draft.reason.as_str().to_string()),
            note: Some(draft.note.clone()),
            type_: Some(
                match draft.kind {
                    EventKind::Normal => "Normal",
                    EventKind::Warning => "Warning",
                }
                .to_string(),
            ),
            event_time: Some(MicroTime(jiff::Timestamp::now())),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(REPORTING_CONTROLLER.to_string()),
            reporting_instance: Some(self.instance.clone()),
            ..Default::default()
        }
    }
}

/// `<object name>.<hash of uid, reason and dedup key>`: stable for one announcement.
pub fn event_name(regarding: &ObjectReference, draft: &Announcement) -> String {
    let mut hasher = Sha256::new();
    for part in [
        regarding.uid.as_deref().unwrap_or_default(),
        regarding.name.as_deref().unwrap_or_default(),
        draft.reason.as_str(),
        &draft.key,
    ] {
        crate::tags::revision::field(&mut hasher, part);
    }
    let digest = hex::encode(&hasher.finalize()[..10]);
    let mut prefix = regarding
        .name
        .clone()
        .unwrap_or_else(|| "tagwatch".to_string());
    prefix.truncate(200);
    format!("{prefix}.{digest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(uid: &str) -> ObjectReference {
        ObjectReference {
            name: Some("web".into()),
            namespace: Some("team".into()),
            uid: Some(uid.into()),
            ..Default::default()
        }
    }

    fn draft(reason: Reason, key: &str) -> Announcement {
        Announcement {
            reason,
            kind: EventKind::Normal,
            note: "n".into(),
            key: key.into(),
        }
    }

    #[test]
    fn names_are_stable_and_distinguish_identity() {
        let a = event_name(&reference("u1"), &draft(Reason::NewTag, "v1"));
        assert_eq!(
            a,
            event_name(&reference("u1"), &draft(Reason::NewTag, "v1"))
        );
        assert!(a.starts_with("web."));
        assert_ne!(
            a,
            event_name(&reference("u2"), &draft(Reason::NewTag, "v1"))
        );
        assert_ne!(
            a,
            event_name(&reference("u1"), &draft(Reason::TagRemoved, "v1"))
        );
        assert_ne!(
            a,
            event_name(&reference("u1"), &draft(Reason::NewTag, "v2"))
        );
        // Length-prefixing keeps ("u1", "xy") and ("u1x", "y") apart.
        assert_ne!(
            event_name(&reference("u1x"), &draft(Reason::NewTag, "y")),
            event_name(&reference("u1"), &draft(Reason::NewTag, "xy"))
        );
    }

    #[tokio::test]
    async fn publishes_once_and_treats_already_exists_as_done() {
        let (service, mut handle) = tower_test::mock::pair::<
            http::Request<kube::client::Body>,
            http::Response<kube::client::Body>,
        >();
        let publisher = EventPublisher::new(kube::Client::new(service, "default"), "pod-1");
        let mut d = draft(Reason::SyncFailed, "k");
        d.kind = EventKind::Warning;
        let expected_name = event_name(&reference("u1"), &d);
        let server = tokio::spawn(async move {
            for code in [201u16, 409] {
                let (request, send) = handle.next_request().await.expect("a request");
                assert_eq!(request.method(), http::Method::POST);
                assert_eq!(
                    request.uri().path(),
                    "/apis/events.k8s.io/v1/namespaces/team/events"
                );
                let body = request.into_body().collect_bytes().await.unwrap();
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(event["metadata"]["name"], expected_name.as_str());
                assert_eq!(event["type"], "Warning");
                assert_eq!(event["reason"], "SyncFailed");
                assert_eq!(event["action"], "Poll");
                assert_eq!(event["reportingController"], REPORTING_CONTROLLER);
                assert_eq!(event["reportingInstance"], "pod-1");
                assert_eq!(event["regarding"]["uid"], "u1");
                let status = if code == 201 {
                    body.to_vec()
                } else {
                    serde_json::to_vec(&serde_json::json!({
                        "kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "reason": "AlreadyExists", "code": 409, "message": "exists"
                    }))
                    .unwrap()
                };
                send.send_response(
                    http::Response::builder()
                        .status(code)
                        .body(status.into())
                        .unwrap(),
                );
            }
        });
        publisher
            .publish(&reference("u1"), &d)
            .await
            .expect("created");
        publisher
            .publish(&reference("u1"), &d)
            .await
            .expect("already exists is success");
        server.await.unwrap();
    }
}
