//! `format: dingtalk`: a DingTalk custom robot markdown message.
//!
//! Docs: <https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages>
//! (English: <https://help.dingtalk.io/open/development/custom-robots-send-group-messages>)
//! and the security settings,
//! <https://open.dingtalk.com/document/robots/customize-robot-security-settings>.
//!
//! - Body: `{"msgtype": "markdown", "markdown": {"title", "text"}, "msgUuid"}`; `title`
//!   is what the conversation list shows, `text` the message line as a heading and its
//!   context (no link). `msgUuid` is the robot's idempotency key: retries carry the
//!   same one, the delivery id.
//! - No size limit is documented; the tag list is cut at [`LIST_LIMIT`] bytes, so a body
//!   stays under 8 KB. UTF-8 is required.
//! - Signature, when the Secret has a `secret`: `timestamp` (milliseconds, within an
//!   hour of DingTalk's clock) and `sign` = base64(HMAC-SHA256 with key `secret` over
//!   `timestamp + "\n" + secret`), URL-encoded, as query parameters added to the URL
//!   at each attempt.
//! - Replies are HTTP 200 with `errcode`: 0 is success; anything else is a failure, such
//!   as 310000 (keyword, signature, timestamp or IP check failed), 400101/400102 (no such
//!   robot, robot disabled), 410100 or 130101 (rate limited).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::json::Payload;
use super::message::message;
use super::{Rejection, coded_reply};
use crate::notify::sign::hmac_sha256;

/// The most bytes of the tag list.
pub const LIST_LIMIT: usize = 4096;
/// The query parameter of the signature's time.
pub const TIMESTAMP_PARAMETER: &str = "timestamp";
/// The query parameter of the signature.
pub const SIGN_PARAMETER: &str = "sign";

/// The message of `payload`.
pub fn body(payload: &Payload) -> String {
    let m = message(payload, LIST_LIMIT);
    json!({
        "msgtype": "markdown",
        "markdown": {"title": m.title, "text": format!("#### {}\n\n{}", m.line, m.context)},
        "msgUuid": payload.delivery_id,
    })
    .to_string()
}

/// The signature of `timestamp` (Unix milliseconds) with the robot's `secret`, before
/// URL encoding.
pub fn sign(timestamp: i64, secret: &str) -> String {
    let message = format!("{timestamp}\n{secret}");
    STANDARD.encode(hmac_sha256(secret.as_bytes(), message.as_bytes()))
}

/// The query parameters that sign a request at `timestamp` (Unix milliseconds).
pub fn query(timestamp: i64, secret: &str) -> Vec<(&'static str, String)> {
    vec![
        (TIMESTAMP_PARAMETER, timestamp.to_string()),
        (SIGN_PARAMETER, sign(timestamp, secret)),
    ]
}

/// `errcode` 0 is success.
pub fn check_reply(reply: &[u8]) -> Result<(), Rejection> {
    coded_reply("DingTalk", reply, &[("errcode", "errmsg")])
}

#[cfg(test)]
mod tests {
    use reqwest::Url;
    use serde_json::Value;

    use super::*;
    use crate::api::v1alpha1::NotifyEvent;
    use crate::notify::format::tests::payload;

    #[test]
    fn signs_as_documented() {
        // The doc's sample secret; checked with the doc's Python sample.
        assert_eq!(
            sign(1599360473000, "this is secret"),
            "hXZTWifRGHclNuZSKxoXc//sh51SWfVfRIhcdeKs63I="
        );
        let mut url = Url::parse("https://robot.example/robot/send?access_token=abc").unwrap();
        url.query_pairs_mut()
            .extend_pairs(query(1599360473000, "this is secret"));
        assert_eq!(
            url.query(),
            Some(
                "access_token=abc&timestamp=1599360473000&sign=hXZTWifRGHclNuZSKxoXc%2F%2Fsh51SWfVfRIhcdeKs63I%3D"
            )
        );
        // `+` is encoded too.
        let mut url = Url::parse("https://robot.example/").unwrap();
        url.query_pairs_mut()
            .extend_pairs(query(1599360473000, "SECdemo"));
        assert!(
            url.as_str()
                .ends_with("sign=tGWkA5eQOQNCNPDgphtxIoNLO%2B%2FgD8Lcb705KQoRzeY%3D")
        );
    }

    #[test]
    fn a_markdown_message_with_the_delivery_id_as_msg_uuid() {
        let body: Value =
            serde_json::from_str(&body(&payload(NotifyEvent::NewTag, &["v1.3.0"], 0))).unwrap();
        assert_eq!(
            body,
            json!({
                "msgtype": "markdown",
                "markdown": {
                    "title": "team/web: new tag",
                    "text": "#### team/web: new tag v1.3.0 (latest v1.3.0)\n\nTagWatch team/web, 2026-11-27T02:00:05Z, delivery 0b6f3f4e-5f8a-4d8e-9a53-2f1c3a7c9e10",
                },
                "msgUuid": "0b6f3f4e-5f8a-4d8e-9a53-2f1c3a7c9e10",
            })
        );
    }

    #[test]
    fn replies() {
        assert_eq!(check_reply(br#"{"errcode":0,"errmsg":"ok"}"#), Ok(()));
        assert_eq!(
            check_reply(br#"{"errcode":310000,"errmsg":"sign not match"}"#)
                .unwrap_err()
                .to_string(),
            "DingTalk answered errcode 310000: sign not match"
        );
        assert_eq!(
            check_reply(br#"{"status":1111,"wait":5,"punish":"deny"}"#)
                .unwrap_err()
                .to_string(),
            "DingTalk answered without an errcode: {\"status\":1111,\"wait\":5,\"punish\":\"deny\"}"
        );
    }
}
