//! `format: wecom`: a WeCom (企业微信) group robot markdown message.
//!
//! Doc: <https://developer.work.weixin.qq.com/document/path/99110> (formerly
//! path/91770).
//!
//! - Body: `{"msgtype": "markdown", "markdown": {"content": ...}}`, the message line in
//!   bold and its context as a quote (both in the markdown subset the doc lists; no
//!   link). `content` is at most 4096 bytes of UTF-8: the tag list is cut at
//!   [`LIST_LIMIT`] bytes, and the whole content fits (a test checks the largest).
//! - There is no signature: the `key` in the URL is the only credential.
//! - Replies are HTTP 200 with `errcode`: 0 is success; anything else is a failure, such
//!   as 93000 (invalid webhook URL), 45009 (rate limited: 20 messages a minute), 40058
//!   (content too long).

use serde_json::json;

use super::json::Payload;
use super::message::message;
use super::{Rejection, coded_reply};

/// The most bytes of `markdown.content`.
pub const CONTENT_LIMIT: usize = 4096;
/// The most bytes of the tag list.
pub const LIST_LIMIT: usize = 2048;

/// The message of `payload`.
pub fn body(payload: &Payload) -> String {
    let m = message(payload, LIST_LIMIT);
    let content = format!("**{}**\n> {}", m.line, m.context);
    json!({"msgtype": "markdown", "markdown": {"content": content}}).to_string()
}

/// `errcode` 0 is success.
pub fn check_reply(reply: &[u8]) -> Result<(), Rejection> {
    coded_reply("WeCom", reply, &[("errcode", "errmsg")])
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::api::v1alpha1::NotifyEvent;
    use crate::notify::format::tests::payload;

    #[test]
    fn a_markdown_message() {
        let body: Value =
            serde_json::from_str(&body(&payload(NotifyEvent::NewTag, &["v1.3.0"], 0))).unwrap();
        assert_eq!(
            body,
            json!({"msgtype": "markdown", "markdown": {"content": "**team/web: new tag v1.3.0 (latest v1.3.0)**\n> TagWatch team/web, 2026-11-27T02:00:05Z, delivery 0b6f3f4e-5f8a-4d8e-9a53-2f1c3a7c9e10"}})
        );
    }

    #[test]
    fn replies() {
        assert_eq!(check_reply(br#"{"errcode":0,"errmsg":"ok"}"#), Ok(()));
        assert_eq!(
            check_reply(br#"{"errcode":45009,"errmsg":"api freq out of limit"}"#)
                .unwrap_err()
                .to_string(),
            "WeCom answered errcode 45009: api freq out of limit"
        );
    }
}
