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

/// The `reportingController` of every event.
pub const REPORTING_CONTROLLER: &str = "tagwatch.dev/controller";
/// The `action` of every event: what the controller was doing.
const ACTION: &str = "Poll";
/// Kubernetes rejects event notes longer than this many bytes.
pub const MAX_NOTE_BYTES: usize = 1024;

/// Normal or Warning, as Kubernetes events are typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Something happened as expected.
    Normal,
    /// Something needs attention.
    Warning,
}

/// One event to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventDraft {
    /// CamelCase reason, e.g. `NewTag`.
    pub reason: String,
    /// Human-readable note (truncated to [`MAX_NOTE_BYTES`]).
    pub note: String,
    /// Normal or Warning.
    pub severity: Severity,
    /// What makes this event unique for its TagWatch and reason; the same key is only
    /// ever published once.
    pub dedup_key: String,
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
        draft: &EventDraft,
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

    fn build(&self, regarding: &ObjectReference, draft: &EventDraft) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(event_name(regarding, draft)),
                namespace: regarding.namespace.clone(),
                ..Default::default()
            },
            action: Some(ACTION.to_string()),
            reason: Some(draft.reason.clone()),
            note: Some(truncate_note(&draft.note)),
            type_: Some(
                match draft.severity {
                    Severity::Normal => "Normal",
                    Severity::Warning => "Warning",
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
pub fn event_name(regarding: &ObjectReference, draft: &EventDraft) -> String {
    let mut hasher = Sha256::new();
    for part in [
        regarding.uid.as_deref().unwrap_or_default(),
        regarding.name.as_deref().unwrap_or_default(),
        &draft.reason,
        &draft.dedup_key,
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hex::encode(&hasher.finalize()[..10]);
    let mut prefix = regarding
        .name
        .clone()
        .unwrap_or_else(|| "tagwatch".to_string());
    prefix.truncate(200);
    format!("{prefix}.{digest}")
}

/// Cuts `note` to at most [`MAX_NOTE_BYTES`] bytes on a character boundary.
pub fn truncate_note(note: &str) -> String {
    if note.len() <= MAX_NOTE_BYTES {
        return note.to_string();
    }
    let mut end = MAX_NOTE_BYTES - 3;
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &note[..end])
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

    fn draft(reason: &str, key: &str) -> EventDraft {
        EventDraft {
            reason: reason.into(),
            note: "n".into(),
            severity: Severity::Normal,
            dedup_key: key.into(),
        }
    }

    #[test]
    fn names_are_stable_and_distinguish_identity() {
        let a = event_name(&reference("u1"), &draft("NewTag", "v1"));
        assert_eq!(a, event_name(&reference("u1"), &draft("NewTag", "v1")));
        assert!(a.starts_with("web."));
        assert_ne!(a, event_name(&reference("u2"), &draft("NewTag", "v1")));
        assert_ne!(a, event_name(&reference("u1"), &draft("TagRemoved", "v1")));
        assert_ne!(a, event_name(&reference("u1"), &draft("NewTag", "v2")));
        // Length-prefixing keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            event_name(&reference("u1"), &draft("NewTagx", "y")),
            event_name(&reference("u1"), &draft("NewTag", "xy"))
        );
    }

    #[test]
    fn notes_are_cut_on_char_boundaries() {
        assert_eq!(truncate_note("short"), "short");
        let long = "é".repeat(1000);
        let cut = truncate_note(&long);
        assert!(cut.len() <= MAX_NOTE_BYTES && cut.ends_with("..."));
    }

    #[tokio::test]
    async fn publishes_once_and_treats_already_exists_as_done() {
        let (service, mut handle) = tower_test::mock::pair::<
            http::Request<kube::client::Body>,
            http::Response<kube::client::Body>,
        >();
        let publisher = EventPublisher::new(kube::Client::new(service, "default"), "pod-1");
        let mut d = draft("SyncFailed", "k");
        d.severity = Severity::Warning;
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
