//! The body formats of `spec.notify[].format`, one module each, citing the service's
//! documentation for its rules:
//!
//! - [`body`]: the body, built once when a notification is created (kept in
//!   `status.pendingNotifications` and sent unchanged on every attempt, so the delivery
//!   id stays the same);
//! - [`outgoing`]: what an attempt adds that depends on the time or the Secret's
//!   `secret`, never stored: Feishu's `timestamp` and `sign` in the body, DingTalk's in
//!   the query, CloudEvents' binary-mode headers, and each format's content type;
//! - [`check_reply`]: the failures a service reports inside a 2xx answer (Feishu's
//!   `code`, DingTalk's and WeCom's `errcode`, Slack-style `ok`/`success`).

pub mod cloudevents;
pub mod dingtalk;
pub mod feishu;
pub mod json;
pub mod message;
pub mod slack;
pub mod teams;
pub mod wecom;

use std::fmt;

use jiff::Timestamp;
use serde_json::Value;

pub use json::{Payload, TagWatchIdentity};

use crate::api::v1alpha1::{CloudEventsMode, NotifyFormat};

/// The content type of the chat formats' JSON bodies.
pub const CHAT_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// The most bytes of a service's message quoted in an error.
const QUOTED: usize = 200;

/// The body of `payload` in `format` (and for CloudEvents, `mode`).
pub fn body(format: NotifyFormat, mode: CloudEventsMode, payload: &Payload) -> String {
    match (format, mode) {
        (NotifyFormat::Json, _) | (NotifyFormat::CloudEvents, CloudEventsMode::Binary) => {
            json::body(payload)
        }
        (NotifyFormat::CloudEvents, CloudEventsMode::Structured) => {
            cloudevents::structured(payload)
        }
        (NotifyFormat::Slack, _) => slack::body(payload),
        (NotifyFormat::Teams, _) => teams::body(payload),
        (NotifyFormat::Feishu, _) => feishu::body(payload),
        (NotifyFormat::DingTalk, _) => dingtalk::body(payload),
        (NotifyFormat::WeCom, _) => wecom::body(payload),
    }
}

/// A recorded notification body.
#[derive(Clone, Copy, Debug)]
pub struct Stored<'a> {
    /// Its format.
    pub format: NotifyFormat,
    /// For CloudEvents, the content mode.
    pub mode: CloudEventsMode,
    /// The body as recorded.
    pub body: &'a str,
}

/// What one attempt sends, besides the notification headers every format has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// More headers.
    pub headers: Vec<(&'static str, String)>,
    /// Query parameters added to the target's URL.
    pub query: Vec<(&'static str, String)>,
    /// The body.
    pub body: String,
}

/// The recorded body cannot be sent in its format (status edited by hand).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the recorded body is not a {format} notification: {problem}")]
pub struct OutgoingError {
    format: NotifyFormat,
    problem: String,
}

/// The request of one attempt at `now` for `stored`, signed with the Secret's `secret`
/// where the format has a signature.
pub fn outgoing(
    stored: Stored<'_>,
    secret: Option<&str>,
    now: Timestamp,
) -> Result<Outgoing, OutgoingError> {
    let unsigned = |content_type| Outgoing {
        content_type,
        headers: Vec::new(),
        query: Vec::new(),
        body: stored.body.to_string(),
    };
    let problem = |problem: String| OutgoingError {
        format: stored.format,
        problem,
    };
    let mut out = match stored.format {
        NotifyFormat::Json => unsigned(json::CONTENT_TYPE),
        NotifyFormat::CloudEvents => match stored.mode {
            CloudEventsMode::Structured => unsigned(cloudevents::STRUCTURED_CONTENT_TYPE),
            CloudEventsMode::Binary => {
                let mut out = unsigned(cloudevents::DATA_CONTENT_TYPE);
                out.headers =
                    cloudevents::binary_headers(stored.body).map_err(|e| problem(e.to_string()))?;
                out
            }
        },
        NotifyFormat::Slack
        | NotifyFormat::Teams
        | NotifyFormat::Feishu
        | NotifyFormat::DingTalk
        | NotifyFormat::WeCom => unsigned(CHAT_CONTENT_TYPE),
    };
    match (stored.format, secret) {
        (NotifyFormat::Feishu, Some(secret)) => {
            out.body = feishu::signed(stored.body, now.as_second(), secret)
                .ok_or_else(|| problem("not a JSON object".to_string()))?;
        }
        (NotifyFormat::DingTalk, Some(secret)) => {
            out.query = dingtalk::query(now.as_millisecond(), secret);
        }
        _ => {}
    }
    Ok(out)
}

/// `Err` when `reply`, the body of a 2xx answer, reports a failure in `format`.
pub fn check_reply(format: NotifyFormat, reply: &[u8]) -> Result<(), Rejection> {
    match format {
        NotifyFormat::Json | NotifyFormat::CloudEvents | NotifyFormat::Teams => Ok(()),
        NotifyFormat::Slack => slack::check_reply(reply),
        NotifyFormat::Feishu => feishu::check_reply(reply),
        NotifyFormat::DingTalk => dingtalk::check_reply(reply),
        NotifyFormat::WeCom => wecom::check_reply(reply),
    }
}

/// A failure a service reported inside a 2xx answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The service.
    pub service: &'static str,
    /// The reply's field that says so.
    pub field: &'static str,
    /// Its value, `None` when it is missing.
    pub code: Option<String>,
    /// The service's message (at most 200 bytes), or the start of the reply when the
    /// field is missing.
    pub message: String,
}

impl Rejection {
    fn new(
        service: &'static str,
        field: &'static str,
        code: Option<String>,
        message: String,
    ) -> Self {
        Rejection {
            service,
            field,
            code,
            message: tags::announce::cut(message, QUOTED),
        }
    }

    fn without_code(service: &'static str, field: &'static str, reply: &[u8]) -> Self {
        Self::new(
            service,
            field,
            None,
            String::from_utf8_lossy(reply).into_owned(),
        )
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(
                f,
                "{} answered {} {code}: {}",
                self.service, self.field, self.message
            ),
            None => {
                let article = if self.field.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                write!(
                    f,
                    "{} answered without {article} {}: {}",
                    self.service, self.field, self.message
                )
            }
        }
    }
}

impl std::error::Error for Rejection {}

/// A JSON reply whose integer code (the first of `fields`, `(code, message)` pairs,
/// that is present) is 0 on success; the first pair names the code in errors.
fn coded_reply(
    service: &'static str,
    reply: &[u8],
    fields: &[(&'static str, &'static str)],
) -> Result<(), Rejection> {
    let field = fields[0].0;
    let parsed: Option<Value> = serde_json::from_slice(reply).ok();
    let found = parsed.as_ref().and_then(|r| {
        fields.iter().find_map(|(code, message)| {
            let code = r.get(code)?.as_i64()?;
            let message = r.get(message).and_then(Value::as_str).unwrap_or("");
            Some((code, message.to_string()))
        })
    });
    match found {
        Some((0, _)) => Ok(()),
        Some((code, message)) => Err(Rejection::new(
            service,
            field,
            Some(code.to_string()),
            message,
        )),
        None => Err(Rejection::without_code(service, field, reply)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use strum::VariantArray;

    use super::*;
    use crate::api::v1alpha1::{NotifyEvent, TagStatus};

    /// A payload of `kind` about team/web (TagWatch team/web) listing `tags`, with
    /// `omitted` more; latest v1.3.0.
    pub(crate) fn payload(kind: NotifyEvent, tags: &[&str], omitted: usize) -> Payload {
        Payload {
            type_: kind,
            delivery_id: "0b6f3f4e-5f8a-4d8e-9a53-2f1c3a7c9e10".into(),
            timestamp: "2026-11-27T02:00:05Z".into(),
            tag_watch: TagWatchIdentity {
                namespace: "team".into(),
                name: "web".into(),
                uid: "4c0e".into(),
            },
            repo: "team".into(),
            image: "web".into(),
            tags: tags
                .iter()
                .map(|name| TagStatus {
                    name: name.to_string(),
                    update_time: "2026-11-27 10:00:00".into(),
                    digest: None,
                })
                .collect(),
            tags_omitted: omitted,
            latest_tag: Some("v1.3.0".into()),
            previous_latest_tag: (kind == NotifyEvent::LatestTagChanged).then_some(None),
            revision: format!("sha256:{}", "7".repeat(64)),
        }
    }

    /// The largest payload the CRD allows: the longest names, 50 tags of 128 characters
    /// and many more omitted.
    fn largest(kind: NotifyEvent) -> Payload {
        let names: Vec<String> = (0..50)
            .map(|i| format!("{i:02}{}", "t".repeat(126)))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut p = payload(kind, &names, 10_000);
        p.repo = "r".repeat(128);
        p.image = "i".repeat(256);
        p.tag_watch.namespace = "n".repeat(63);
        p.tag_watch.name = "w".repeat(253);
        p.latest_tag = Some("l".repeat(128));
        p
    }

    fn text(body: &str, pointer: &str) -> String {
        let value: Value = serde_json::from_str(body).unwrap();
        value
            .pointer(pointer)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn the_largest_messages_fit_each_services_limit() {
        for kind in NotifyEvent::VARIANTS.iter().copied() {
            let p = largest(kind);
            let slack = text(&slack::body(&p), "/text");
            assert!(slack.chars().count() <= 4000, "{}", slack.len());
            assert!(teams::body(&p).len() <= 28 * 1024);
            let feishu = feishu::signed(&feishu::body(&p), 1599360473, "demo").unwrap();
            assert!(feishu.len() <= 20 * 1024, "{}", feishu.len());
            assert!(dingtalk::body(&p).len() <= 20_000);
            let wecom = text(&wecom::body(&p), "/markdown/content");
            assert!(wecom.len() <= wecom::CONTENT_LIMIT, "{}", wecom.len());
            if kind != NotifyEvent::LatestTagChanged {
                assert!(slack.contains(" more (latest "), "{slack}");
            }
        }
    }

    #[test]
    fn every_format_has_a_body_that_is_json() {
        let p = payload(NotifyEvent::NewTag, &["v1.3.0"], 0);
        for &format in NotifyFormat::VARIANTS {
            for &mode in CloudEventsMode::VARIANTS {
                let body = body(format, mode, &p);
                let _: Value = serde_json::from_str(&body).unwrap();
                assert!(body.contains("v1.3.0"), "{format}: {body}");
            }
        }
    }

    #[test]
    fn outgoing_adds_what_depends_on_the_attempt() {
        let p = payload(NotifyEvent::NewTag, &["v1.3.0"], 0);
        let now: Timestamp = "2020-09-06T02:47:53Z".parse().unwrap();
        let send = |format, mode, secret| {
            let body = body(format, mode, &p);
            let stored = Stored {
                format,
                mode,
                body: &body,
            };
            (outgoing(stored, secret, now).unwrap(), body)
        };
        let (json, body) = send(NotifyFormat::Json, CloudEventsMode::Structured, Some("s"));
        assert_eq!((json.content_type, json.body), ("application/json", body));
        assert!(json.headers.is_empty() && json.query.is_empty());

        let (ce, _) = send(NotifyFormat::CloudEvents, CloudEventsMode::Structured, None);
        assert_eq!(
            ce.content_type,
            "application/cloudevents+json; charset=UTF-8"
        );
        assert!(ce.headers.is_empty());
        let (ce, body) = send(NotifyFormat::CloudEvents, CloudEventsMode::Binary, None);
        assert_eq!((ce.content_type, &ce.body), ("application/json", &body));
        assert_eq!(ce.headers.len(), 6);

        let (feishu, body) = send(
            NotifyFormat::Feishu,
            CloudEventsMode::Structured,
            Some("demo"),
        );
        assert!(feishu.body.starts_with(
            "{\"timestamp\":\"1599360473\",\"sign\":\"l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=\","
        ));
        assert!(feishu.body.ends_with(&body[1..]));
        let (feishu, body) = send(NotifyFormat::Feishu, CloudEventsMode::Structured, None);
        assert_eq!(feishu.body, body);

        let (ding, body) = send(
            NotifyFormat::DingTalk,
            CloudEventsMode::Structured,
            Some("this is secret"),
        );
        assert_eq!(ding.body, body);
        assert_eq!(
            ding.query,
            [
                ("timestamp", "1599360473000".to_string()),
                (
                    "sign",
                    "hXZTWifRGHclNuZSKxoXc//sh51SWfVfRIhcdeKs63I=".to_string()
                )
            ]
        );
        let (ding, _) = send(NotifyFormat::DingTalk, CloudEventsMode::Structured, None);
        assert!(ding.query.is_empty());

        let broken = Stored {
            format: NotifyFormat::CloudEvents,
            mode: CloudEventsMode::Binary,
            body: "[]",
        };
        let error = outgoing(broken, None, now).unwrap_err().to_string();
        assert!(
            error.starts_with("the recorded body is not a cloudevents notification: "),
            "{error}"
        );
    }

    #[test]
    fn only_chat_formats_read_the_reply() {
        let refusal = br#"{"code":19021,"errcode":310000,"ok":false}"#;
        for format in [
            NotifyFormat::Json,
            NotifyFormat::CloudEvents,
            NotifyFormat::Teams,
        ] {
            assert_eq!(check_reply(format, refusal), Ok(()));
        }
        for format in [
            NotifyFormat::Slack,
            NotifyFormat::Feishu,
            NotifyFormat::DingTalk,
            NotifyFormat::WeCom,
        ] {
            assert!(check_reply(format, refusal).is_err(), "{format}");
        }
    }

    /// The JSON block after `<!-- format: NAME -->` in docs/notifications.md.
    fn documented(name: &str) -> Value {
        let docs = include_str!("../../../docs/notifications.md");
        let marker = format!("<!-- format: {name} -->");
        let after = docs.split_once(&marker).expect("a marker").1;
        let block = after.split_once("```json\n").expect("a JSON block").1;
        let block = block.split_once("```").expect("the block's end").0;
        serde_json::from_str(block).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn the_docs_show_every_format_as_it_is_sent() {
        let p = payload(NotifyEvent::NewTag, &["v1.3.0"], 0);
        let mut event: Value = serde_json::from_str(&cloudevents::structured(&p)).unwrap();
        let mut shown = documented("cloudevents");
        // The docs elide the data, which is the json document shown above it.
        event.as_object_mut().unwrap().remove("data");
        shown.as_object_mut().unwrap().remove("data");
        assert_eq!(shown, event);
        let feishu = feishu::signed(&feishu::body(&p), 1599360473, "demo").unwrap();
        let chats = [
            ("slack", slack::body(&p)),
            ("teams", teams::body(&p)),
            ("feishu", feishu),
            ("dingtalk", dingtalk::body(&p)),
            ("wecom", wecom::body(&p)),
        ];
        for (name, body) in chats {
            let body: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(documented(name), body, "{name}");
        }
    }

    #[test]
    fn quoted_messages_are_short() {
        let long = format!(r#"{{"errcode":1,"errmsg":"{}"}}"#, "x".repeat(1000));
        let error = wecom::check_reply(long.as_bytes()).unwrap_err();
        assert_eq!(error.message.len(), QUOTED);
    }
}
