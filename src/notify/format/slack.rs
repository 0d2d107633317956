//! `format: slack`: a Slack incoming webhook message, `{"text": ...}`, which Mattermost
//! and Rocket.Chat incoming webhooks accept as well.
//!
//! - Slack: <https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks>.
//!   The body is `{"text": "..."}`; `&`, `<` and `>` are escaped as `&amp;`, `&lt;` and
//!   `&gt;` (<https://docs.slack.dev/messaging/formatting-message-text>). `text` should
//!   stay within 4,000 characters
//!   (<https://docs.slack.dev/reference/methods/chat.postMessage>): the tag list is cut at
//!   [`LIST_LIMIT`] bytes, so a message is at most about 3,000. Success is HTTP 200 with
//!   the plain text `ok`; errors come with a 4xx or 5xx status and a plain-text code
//!   such as `invalid_payload`. There is no signature: the URL is the secret.
//! - Mattermost: <https://developers.mattermost.com/integrate/webhooks/incoming/> (plain
//!   `text`; Slack's `*bold*` would be italic there, so the message has no markup).
//! - Rocket.Chat: <https://docs.rocket.chat/docs/integrations>; it answers
//!   `{"success": false, "error": ...}` when it refuses a message.

use serde::Serialize;
use serde_json::Value;

use super::Rejection;
use super::json::Payload;
use super::message::message;

/// The most bytes of the tag list.
pub const LIST_LIMIT: usize = 2048;

#[derive(Serialize)]
struct Body {
    text: String,
}

/// The message of `payload`.
pub fn body(payload: &Payload) -> String {
    let m = message(payload, LIST_LIMIT);
    let text = escape(&format!("{}\n{}", m.line, m.context));
    serde_json::to_string(&Body { text }).expect("a message always serializes")
}

/// `text` with the three characters Slack reserves for its markup escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack and Mattermost answer a plain `ok`; a JSON answer with `"ok": false` (Slack's
/// Web API style) or `"success": false` (Rocket.Chat) is a refusal.
pub fn check_reply(reply: &[u8]) -> Result<(), Rejection> {
    let Ok(Value::Object(reply)) = serde_json::from_slice::<Value>(reply) else {
        return Ok(());
    };
    let error = || {
        reply
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    for (service, field) in [("Slack", "ok"), ("Rocket.Chat", "success")] {
        if reply.get(field) == Some(&Value::Bool(false)) {
            return Err(Rejection::new(
                service,
                field,
                Some("false".into()),
                error(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::v1alpha1::NotifyEvent;
    use crate::notify::format::tests::payload;

    #[test]
    fn the_text_is_the_line_and_its_context() {
        let body: Value =
            serde_json::from_str(&body(&payload(NotifyEvent::NewTag, &["v1.3.0"], 0))).unwrap();
        assert_eq!(
            body,
            json!({"text": "team/web: new tag v1.3.0 (latest v1.3.0)\nTagWatch team/web, 2026-11-27T02:00:05Z, delivery 0b6f3f4e-5f8a-4d8e-9a53-2f1c3a7c9e10"})
        );
    }

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(escape("a<b>&c"), "a&lt;b&gt;&amp;c");
    }

    #[test]
    fn replies() {
        assert_eq!(check_reply(b"ok"), Ok(()));
        assert_eq!(check_reply(b"{\"success\":true}"), Ok(()));
        assert_eq!(
            check_reply(b"{\"success\":false,\"error\":\"unknown-error\"}")
                .unwrap_err()
                .to_string(),
            "Rocket.Chat answered success false: unknown-error"
        );
        assert_eq!(
            check_reply(b"{\"ok\":false,\"error\":\"no_text\"}")
                .unwrap_err()
                .to_string(),
            "Slack answered ok false: no_text"
        );
    }
}
