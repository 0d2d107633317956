//! `format: feishu`: a Feishu (Lark) custom bot message.
//!
//! Doc: <https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot> (Lark:
//! <https://open.larksuite.com/document/client-docs/bot-v3/add-custom-bot>).
//!
//! - The message is rich text (`msg_type: post`): a title and two paragraphs, the
//!   message line and its context, as `text` elements (no link). The keyword security
//!   setting checks text and titles, so a keyword such as `TagWatch` (in every message)
//!   works.
//! - "发送消息时，请求体的数据大小不能超过 20 KB": the tag list is cut at [`LIST_LIMIT`]
//!   bytes, so a body stays under 8 KB.
//! - Signature, when the Secret has a `secret`: `timestamp` (seconds, within an hour of
//!   Feishu's clock) and `sign` = base64(HMAC-SHA256 with key `timestamp + "\n" +
//!   secret` over an empty message), both in the JSON body next to `msg_type`. The body
//!   is stored unsigned and [`signed`] at each attempt.
//! - Replies are HTTP 200 with a JSON `code`: 0 is success (`StatusCode` 0 on older
//!   deployments); anything else is a failure, such as 19021 (signature or timestamp),
//!   19024 (keyword missing), 19022 (IP not allowed), 9499 (bad body), 11232 (rate
//!   limited).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::json::Payload;
use super::message::message;
use super::{Rejection, coded_reply};
use crate::notify::sign::hmac_sha256;

/// The most bytes of the tag list.
pub const LIST_LIMIT: usize = 4096;

/// The unsigned message of `payload`.
pub fn body(payload: &Payload) -> String {
    let m = message(payload, LIST_LIMIT);
    let paragraph = |text: String| json!([{"tag": "text", "text": text}]);
    json!({
        "msg_type": "post",
        "content": {"post": {"zh_cn": {
            "title": m.title,
            "content": [paragraph(m.line), paragraph(m.context)],
        }}},
    })
    .to_string()
}

/// The signature of `timestamp` (Unix seconds) with the bot's `secret`.
pub fn sign(timestamp: i64, secret: &str) -> String {
    let key = format!("{timestamp}\n{secret}");
    STANDARD.encode(hmac_sha256(key.as_bytes(), b""))
}

/// `body` (a JSON object) with `timestamp` and `sign` added in front; `None` when it is
/// not a JSON object.
pub fn signed(body: &str, timestamp: i64, secret: &str) -> Option<String> {
    let rest = body.trim_start().strip_prefix('{')?.trim_start();
    let separator = if rest.starts_with('}') { "" } else { "," };
    let sign = sign(timestamp, secret);
    Some(format!(
        "{{\"timestamp\":\"{timestamp}\",\"sign\":\"{sign}\"{separator}{rest}"
    ))
}

/// `code` (or the older `StatusCode`) 0 is success.
pub fn check_reply(reply: &[u8]) -> Result<(), Rejection> {
    coded_reply(
        "Feishu",
        reply,
        &[("code", "msg"), ("StatusCode", "StatusMessage")],
    )
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::api::v1alpha1::NotifyEvent;
    use crate::notify::format::tests::payload;

    #[test]
    fn signs_as_documented() {
        // The doc's example timestamp and its Java sample's secret; the value was
        // checked with openssl (key "1599360473\ndemo", empty message).
        assert_eq!(
            sign(1599360473, "demo"),
            "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="
        );
        // Not the secret as the key (DingTalk's way).
        assert_ne!(
            sign(1599360473, "demo"),
            "DkEDUyVoOOJ539qBvUgMyzkzIdRWlf4e/V3Rq+ONJnQ="
        );
    }

    #[test]
    fn the_signature_goes_into_the_body() {
        let body = body(&payload(NotifyEvent::NewTag, &["v1.3.0"], 0));
        let signed = signed(&body, 1599360473, "demo").unwrap();
        assert_eq!(
            signed,
            format!(
                "{{\"timestamp\":\"1599360473\",\"sign\":\"l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=\",{}",
                &body[1..]
            )
        );
        let mut value: Value = serde_json::from_str(&signed).unwrap();
        let object = value.as_object_mut().unwrap();
        assert_eq!(object.remove("timestamp").unwrap(), "1599360473");
        assert!(object.remove("sign").is_some());
        assert_eq!(value, serde_json::from_str::<Value>(&body).unwrap());
        assert_eq!(
            super::signed("{ }", 1599360473, "demo").unwrap(),
            "{\"timestamp\":\"1599360473\",\"sign\":\"l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=\"}"
        );
        assert_eq!(super::signed("[]", 1, "s"), None);
    }

    #[test]
    fn a_post_with_a_title_and_two_paragraphs() {
        let body: Value =
            serde_json::from_str(&body(&payload(NotifyEvent::NewTag, &["v1.3.0"], 0))).unwrap();
        assert_eq!(body["msg_type"], "post");
        let post = &body["content"]["post"]["zh_cn"];
        assert_eq!(post["title"], "team/web: new tag");
        assert_eq!(
            post["content"][0][0],
            json!({"tag": "text", "text": "team/web: new tag v1.3.0 (latest v1.3.0)"})
        );
    }

    #[test]
    fn replies() {
        let ok =
            br#"{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}"#;
        assert_eq!(check_reply(ok), Ok(()));
        assert_eq!(check_reply(br#"{"StatusCode":0}"#), Ok(()));
        assert_eq!(
            check_reply(br#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#)
                .unwrap_err()
                .to_string(),
            "Feishu answered code 19021: sign match fail or timestamp is not within one hour from current time"
        );
        assert_eq!(
            check_reply(b"<html>").unwrap_err().to_string(),
            "Feishu answered without a code: <html>"
        );
    }
}
