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

use tags::announce::{self, Announcement, fit};

/// The `reportingController` of every event.
pub const REPORTING_CONTROLLER: &str = "tagwatch.dev/controller";

/// The reason of an event, as Kubernetes shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A tag change a poll announced (Normal).
    Announced(announce::Reason),
    /// A poll failed (Warning).
    SyncFailed,
    /// Webhook notifications were given up (Warning).
    NotificationFailed,
    /// A reconcile request of `spec.triggers` could not be made (Warning).
    TriggerFailed,
}

impl Reason {
    /// The reason's name, e.g. `NewTag`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Announced(reason) => reason.into(),
            Reason::SyncFailed => "SyncFailed",
            Reason::NotificationFailed => "NotificationFailed",
            Reason::TriggerFailed => "TriggerFailed",
        }
    }

    /// `Normal` for announcements, `Warning` for failures.
    pub fn event_type(self) -> &'static str {
        match self {
            Reason::Announced(_) => "Normal",
            Reason::SyncFailed | Reason::NotificationFailed | Reason::TriggerFailed => "Warning",
        }
    }

    /// What the controller was doing: `Poll`, or `Notify` for notifications.
    fn action(self) -> &'static str {
        match self {
            Reason::NotificationFailed => "Notify",
            Reason::TriggerFailed => "Trigger",
            _ => "Poll",
        }
    }
}

/// One event to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// Why.
    pub reason: Reason,
    /// The human-readable note, at most [`announce::NOTE_LIMIT_BYTES`] bytes.
    pub note: String,
    /// What the event reports; publishing the same key twice creates one event.
    pub key: String,
}

impl From<Announcement> for Draft {
    fn from(announcement: Announcement) -> Self {
        Draft {
            reason: Reason::Announced(announcement.reason),
            note: announcement.note,
            key: announcement.key,
        }
    }
}

impl Draft {
    /// The Warning for a failed poll with the user-facing `message`, keyed by `key`.
    pub fn sync_failed(message: &str, key: String) -> Self {
        Draft {
            reason: Reason::SyncFailed,
            note: fit(message.to_string()),
            key,
        }
    }

    /// The Warning for a reconcile request that failed, identified by `key`.
    pub fn trigger_failed(note: String, key: String) -> Self {
        Draft {
            reason: Reason::TriggerFailed,
            note: fit(note),
            key,
        }
    }

    /// The Warning for notifications given up, identified by `key`.
    pub fn notification_failed(note: String, key: String) -> Self {
        Draft {
            reason: Reason::NotificationFailed,
            note: fit(note),
            key,
        }
    }
}

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
        draft: &Draft,
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

    fn build(&self, regarding: &ObjectReference, draft: &Draft) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(event_name(regarding, draft)),
                namespace: regarding.namespace.clone(),
                ..Default::default()
            },
            action: Some(draft.reason.action().to_string()),
            reason: Some(draft.reason.as_str().to_string()),
            note: Some(draft.note.clone()),
            type_: Some(draft.reason.event_type().to_string()),
            event_time: Some(MicroTime(jiff::Timestamp::now())),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(REPORTING_CONTROLLER.to_string()),
            reporting_instance: Some(self.instance.clone()),
            ..Default::default()
        }
    }
}

/// `<object name>.<hash of uid, reason and dedup key>`: stable for one announcement.
pub fn event_name(regarding: &ObjectReference, draft: &Draft) -> String {
    let mut hasher = Sha256::new();
    for part in [
        regarding.uid.as_deref().unwrap_or_default(),
        regarding.name.as_deref().unwrap_or_default(),
        draft.reason.as_str(),
        &draft.key,
    ] {
        tags::revision::field(&mut hasher, part);
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
    use crate::testing::fixtures::{mock_client, status};

    fn reference(uid: &str) -> ObjectReference {
        ObjectReference {
            name: Some("web".into()),
            namespace: Some("team".into()),
            uid: Some(uid.into()),
            ..Default::default()
        }
    }

    fn draft(reason: Reason, key: &str) -> Draft {
        Draft {
            reason,
            note: "n".into(),
            key: key.into(),
        }
    }

    const NEW_TAG: Reason = Reason::Announced(announce::Reason::NewTag);
    const TAG_REMOVED: Reason = Reason::Announced(announce::Reason::TagRemoved);

    #[test]
    fn names_are_stable_and_distinguish_identity() {
        let a = event_name(&reference("u1"), &draft(NEW_TAG, "v1"));
        assert_eq!(a, event_name(&reference("u1"), &draft(NEW_TAG, "v1")));
        assert!(a.starts_with("web."));
        assert_ne!(a, event_name(&reference("u2"), &draft(NEW_TAG, "v1")));
        assert_ne!(a, event_name(&reference("u1"), &draft(TAG_REMOVED, "v1")));
        assert_ne!(a, event_name(&reference("u1"), &draft(NEW_TAG, "v2")));
        // Length-prefixing keeps ("u1", "xy") and ("u1x", "y") apart.
        assert_ne!(
            event_name(&reference("u1x"), &draft(NEW_TAG, "y")),
            event_name(&reference("u1"), &draft(NEW_TAG, "xy"))
        );
    }

    #[test]
    fn failures_are_warnings_that_fit_and_announcements_normal() {
        let failed =
            Draft::sync_failed("UCloud rejected the credentials (RetCode 171)", "k".into());
        assert_eq!(failed.reason.as_str(), "SyncFailed");
        assert_eq!(failed.reason.event_type(), "Warning");
        assert_eq!(failed.note, "UCloud rejected the credentials (RetCode 171)");
        let long = Draft::sync_failed(&"e".repeat(5000), String::new());
        assert!(long.note.len() <= announce::NOTE_LIMIT_BYTES);
        let given_up = Draft::notification_failed("gave up".into(), "ids".into());
        assert_eq!(
            (given_up.reason.as_str(), given_up.reason.event_type()),
            ("NotificationFailed", "Warning")
        );
        assert_eq!(given_up.reason.action(), "Notify");
        let announced = Draft::from(Announcement {
            reason: announce::Reason::NewTag,
            note: "new tag v2".into(),
            key: "k".into(),
        });
        assert_eq!(
            (announced.reason.as_str(), announced.reason.event_type()),
            ("NewTag", "Normal")
        );
        assert_eq!(announced.reason.action(), "Poll");
    }

    #[tokio::test]
    async fn publishes_once_and_treats_already_exists_as_done() {
        let (client, mut api) = mock_client();
        let publisher = EventPublisher::new(client, "pod-1");
        let d = draft(Reason::SyncFailed, "k");
        let expected_name = event_name(&reference("u1"), &d);
        let server = tokio::spawn(async move {
            let path = "/apis/events.k8s.io/v1/namespaces/team/events";
            let exists = status(409, "AlreadyExists", "exists");
            for (code, answer) in [(201, serde_json::Value::Null), (409, exists)] {
                let event = api
                    .expect(http::Method::POST, path, code, answer)
                    .await
                    .body;
                assert_eq!(event["metadata"]["name"], expected_name.as_str());
                assert_eq!(event["type"], "Warning");
                assert_eq!(event["reason"], "SyncFailed");
                assert_eq!(event["action"], "Poll");
                assert_eq!(event["reportingController"], REPORTING_CONTROLLER);
                assert_eq!(event["reportingInstance"], "pod-1");
                assert_eq!(event["regarding"]["uid"], "u1");
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
