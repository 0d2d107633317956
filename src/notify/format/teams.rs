//! `format: teams`: an Adaptive Card for a Microsoft Teams Workflows webhook (the
//! "When a Teams webhook request is received" trigger that replaces the retired Office
//! 365 connectors).
//!
//! - Envelope, from "Send Adaptive Cards using an incoming webhook"
//!   (<https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using>):
//!   `type` must be `message`, `attachments` holds the cards, each with `contentType`
//!   `application/vnd.microsoft.card.adaptive` and the card as `content`.
//! - The card is version 1.4 (Teams renders up to 1.5), a `TextBlock` with the message
//!   line and a `FactSet` with the TagWatch, the time and the delivery id; no actions, so
//!   no link.
//! - Size: "The message size limit is 28 KB"
//!   (<https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook>);
//!   the tag list is cut at [`LIST_LIMIT`] bytes, so a card stays under 10 KB.
//! - The flow answers `202 Accepted` and runs later: a failure inside the flow is not
//!   seen by the sender. There is no signature; the URL's `sig` parameter is the secret.

use serde_json::json;

use super::json::Payload;
use super::message::message;

/// The media type of an Adaptive Card attachment.
pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";
/// The Adaptive Card version.
pub const CARD_VERSION: &str = "1.4";
/// The most bytes of the tag list.
pub const LIST_LIMIT: usize = 8192;

/// The message of `payload`.
pub fn body(payload: &Payload) -> String {
    let m = message(payload, LIST_LIMIT);
    let tagwatch = format!("{}/{}", payload.tag_watch.namespace, payload.tag_watch.name);
    let card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": [
            {"type": "TextBlock", "text": m.line, "wrap": true, "weight": "Bolder"},
            {"type": "FactSet", "facts": [
                {"title": "TagWatch", "value": tagwatch},
                {"title": "Time", "value": payload.timestamp},
                {"title": "Delivery", "value": payload.delivery_id},
            ]},
        ],
    });
    let body = json!({
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": null, "content": card}],
    });
    body.to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::api::v1alpha1::NotifyEvent;
    use crate::notify::format::tests::payload;

    #[test]
    fn one_adaptive_card_in_a_message() {
        let body: Value =
            serde_json::from_str(&body(&payload(NotifyEvent::NewTag, &["v1.3.0"], 0))).unwrap();
        assert_eq!(body["type"], "message");
        let attachment = &body["attachments"][0];
        assert_eq!(attachment["contentType"], CARD_CONTENT_TYPE);
        let card = &attachment["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        assert_eq!(
            card["body"][0]["text"],
            "team/web: new tag v1.3.0 (latest v1.3.0)"
        );
        assert_eq!(card["body"][1]["facts"][0]["value"], "team/web");
        assert!(card.get("actions").is_none());
    }
}
