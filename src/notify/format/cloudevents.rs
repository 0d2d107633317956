//! `format: cloudevents`: a CloudEvents 1.0 event over HTTP, whose data is the `json`
//! document.
//!
//! - Attributes (spec v1.0.2,
//!   <https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md>): `id` = the
//!   delivery id (`source` + `id` identify an event: a retry has the same pair, so
//!   consumers may drop it as a duplicate), `source` = the TagWatch's API path, `type` =
//!   `dev.tagwatch.tag.new`, `.tag.updated`, `.tag.removed` or `.latest.changed`,
//!   `subject` = `repo/image`, `time` = when the change was noticed, `datacontenttype`
//!   = `application/json`.
//! - HTTP binding
//!   (<https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md>):
//!   structured mode sends the event in the JSON event format
//!   (<https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md>)
//!   as `application/cloudevents+json`; binary mode sends the data as the body with
//!   `Content-Type: application/json` and every other attribute as a `ce-` header, its
//!   value percent-encoded where the binding says it must be (space, `"`, `%` and
//!   anything outside printable ASCII).
//! - Success is any 2xx (the webhook spec's 200, 201, 202 or 204).

use serde::{Deserialize, Serialize};

use super::json::Payload;
use crate::api::v1alpha1::NotifyEvent;

/// The CloudEvents version.
pub const SPEC_VERSION: &str = "1.0";
/// The body's media type in structured mode.
pub const STRUCTURED_CONTENT_TYPE: &str = "application/cloudevents+json; charset=UTF-8";
/// The data's media type (`datacontenttype`), the body's in binary mode.
pub const DATA_CONTENT_TYPE: &str = "application/json";

/// The event `type` of a kind of change.
pub fn event_type(kind: NotifyEvent) -> &'static str {
    match kind {
        NotifyEvent::NewTag => "dev.tagwatch.tag.new",
        NotifyEvent::TagUpdated => "dev.tagwatch.tag.updated",
        NotifyEvent::TagRemoved => "dev.tagwatch.tag.removed",
        NotifyEvent::LatestTagChanged => "dev.tagwatch.latest.changed",
    }
}

/// The event `source`: the TagWatch's path in the Kubernetes API.
pub fn source(namespace: &str, name: &str) -> String {
    format!("/apis/tagwatch.dev/v1alpha1/namespaces/{namespace}/tagwatches/{name}")
}

/// A structured-mode event.
#[derive(Serialize)]
struct Event<'a> {
    specversion: &'static str,
    id: &'a str,
    source: String,
    #[serde(rename = "type")]
    type_: &'static str,
    subject: String,
    time: &'a str,
    datacontenttype: &'static str,
    data: &'a Payload,
}

/// The structured-mode body of `payload`.
pub fn structured(payload: &Payload) -> String {
    let event = Event {
        specversion: SPEC_VERSION,
        id: &payload.delivery_id,
        source: source(&payload.tag_watch.namespace, &payload.tag_watch.name),
        type_: event_type(payload.type_),
        subject: payload.subject(),
        time: &payload.timestamp,
        datacontenttype: DATA_CONTENT_TYPE,
        data: payload,
    };
    serde_json::to_string(&event).expect("an event always serializes")
}

/// What binary mode reads from the data to make its headers.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Attributes {
    #[serde(rename = "type")]
    type_: NotifyEvent,
    delivery_id: String,
    timestamp: String,
    tag_watch: Identity,
    repo: String,
    image: String,
}

#[derive(Deserialize)]
struct Identity {
    namespace: String,
    name: String,
}

/// The `ce-` headers of a binary-mode body (the `json` document), in the order of the
/// binding's example; `Err` when the body is not such a document.
pub fn binary_headers(data: &str) -> Result<Vec<(&'static str, String)>, serde_json::Error> {
    let a: Attributes = serde_json::from_str(data)?;
    let headers = [
        ("ce-specversion", SPEC_VERSION.to_string()),
        ("ce-type", event_type(a.type_).to_string()),
        ("ce-time", a.timestamp),
        ("ce-id", a.delivery_id),
        (
            "ce-source",
            source(&a.tag_watch.namespace, &a.tag_watch.name),
        ),
        ("ce-subject", format!("{}/{}", a.repo, a.image)),
    ];
    Ok(headers
        .into_iter()
        .map(|(name, value)| (name, header_value(&value)))
        .collect())
}

/// `value` percent-encoded as the HTTP binding requires for a `ce-` header: space, `"`,
/// `%` and every byte outside printable ASCII, in upper-case hex.
pub fn header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if (0x21..=0x7e).contains(&byte) && byte != b'"' && byte != b'%' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::notify::format::{json as json_format, tests::payload};

    #[test]
    fn a_structured_event_has_every_attribute_and_the_json_document_as_data() {
        let p = payload(NotifyEvent::NewTag, &["v1.3.0"], 0);
        let event: Value = serde_json::from_str(&structured(&p)).unwrap();
        let data: Value = serde_json::from_str(&json_format::body(&p)).unwrap();
        assert_eq!(
            event,
            json!({
                "specversion": "1.0",
                "id": "0b6f3f4e-5f8a-4d8e-9a53-2f1c3a7c9e10",
                "source": "/apis/tagwatch.dev/v1alpha1/namespaces/team/tagwatches/web",
                "type": "dev.tagwatch.tag.new",
                "subject": "team/web",
                "time": "2026-11-27T02:00:05Z",
                "datacontenttype": "application/json",
                "data": data,
            })
        );
        // The data's bytes are the json format's.
        assert!(structured(&p).ends_with(&format!(",\"data\":{}}}", json_format::body(&p))));
    }

    #[test]
    fn types_per_kind() {
        let types: Vec<&str> = [
            NotifyEvent::NewTag,
            NotifyEvent::TagUpdated,
            NotifyEvent::TagRemoved,
            NotifyEvent::LatestTagChanged,
        ]
        .into_iter()
        .map(event_type)
        .collect();
        assert_eq!(
            types,
            [
                "dev.tagwatch.tag.new",
                "dev.tagwatch.tag.updated",
                "dev.tagwatch.tag.removed",
                "dev.tagwatch.latest.changed"
            ]
        );
    }

    #[test]
    fn binary_headers_carry_the_attributes() {
        let p = payload(NotifyEvent::TagRemoved, &["v1"], 0);
        let headers = binary_headers(&json_format::body(&p)).unwrap();
        assert_eq!(
            headers,
            [
                ("ce-specversion", "1.0".to_string()),
                ("ce-type", "dev.tagwatch.tag.removed".to_string()),
                ("ce-time", "2026-11-27T02:00:05Z".to_string()),
                ("ce-id", "0b6f3f4e-5f8a-4d8e-9a53-2f1c3a7c9e10".to_string()),
                (
                    "ce-source",
                    "/apis/tagwatch.dev/v1alpha1/namespaces/team/tagwatches/web".to_string()
                ),
                ("ce-subject", "team/web".to_string()),
            ]
        );
        assert!(binary_headers("{\"type\":\"NewTag\"}").is_err());
    }

    #[test]
    fn header_values_are_percent_encoded_where_the_binding_requires() {
        assert_eq!(header_value("team/web:v1"), "team/web:v1");
        assert_eq!(header_value("a b\"c%d"), "a%20b%22c%25d");
        assert_eq!(header_value("版"), "%E7%89%88");
    }
}
