//! Chat services as a receiver plays them: each checks a request the way its
//! documentation describes and answers the way the service does. Written from the
//! services' documentation, independently of the operator's code:
//!
//! - Slack incoming webhooks
//!   (<https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks>):
//!   `{"text"}` (or `blocks`/`attachments`), `&`, `<`, `>` escaped, `text` within 4,000
//!   characters; `200 ok`, `400 invalid_payload` / `no_text`, `429 rate_limited`.
//! - Microsoft Teams Workflows
//!   (<https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using>):
//!   `type: message`, Adaptive Card attachments of version 1.0 to 1.5 with known
//!   elements, at most 28 KB; `202` with an empty body, `400`, `413`, `429`.
//! - Feishu custom bots (<https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot>):
//!   `msg_type` and its content, at most 20 KB; with a secret, `timestamp` (seconds,
//!   within an hour) and `sign` = base64(HMAC-SHA256(key = timestamp + "\n" + secret,
//!   empty message)) in the body; every answer is HTTP 200 with `code` (19021 for a
//!   signature or timestamp, 9499 for a bad body, 11232 when rate-limited).
//! - DingTalk custom robots
//!   (<https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages>,
//!   <https://open.dingtalk.com/document/robots/customize-robot-security-settings>):
//!   `access_token` in the query, `msgtype` and its content; with a secret, `timestamp`
//!   (milliseconds, within an hour) and `sign` = urlencode(base64(HMAC-SHA256(key =
//!   secret, timestamp + "\n" + secret))) in the query; every answer is HTTP 200 with
//!   `errcode` (310000 for the security checks, 410100 when rate-limited).
//! - WeCom group robots (<https://developer.work.weixin.qq.com/document/path/99110>):
//!   `key` in the query, `msgtype` and its content, markdown content at most 4096 bytes;
//!   every answer is HTTP 200 with `errcode` (40058 too long, 45009 rate-limited).

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::Mode;

/// The most a signature's timestamp may differ from the receiver's clock (both services
/// say one hour).
const SKEW_SECONDS: i64 = 3600;

/// A chat service, with the signing secret its robot is configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Service {
    Slack,
    Teams,
    Feishu { secret: Option<String> },
    DingTalk { secret: Option<String> },
    WeCom,
}

/// An answer to a request.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub delivered: bool,
    pub refused: Option<String>,
}

impl Answer {
    /// A plain answer (delivered when 2xx).
    pub fn status(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.to_string(),
            delivered: (200..300).contains(&status),
            refused: None,
        }
    }

    fn ok(status: u16, body: String, content_type: &'static str) -> Answer {
        Answer {
            status,
            content_type,
            body,
            delivered: true,
            refused: None,
        }
    }

    fn refused(status: u16, body: String, content_type: &'static str, why: String) -> Answer {
        Answer {
            status,
            content_type,
            body,
            delivered: false,
            refused: Some(why),
        }
    }
}

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

impl Service {
    /// The path (and query) of a webhook URL of this service, `random` being its token.
    pub fn webhook_path(&self, random: &str) -> String {
        match self {
            Service::Slack => format!("/services/T0TAGWATCH/B0TAGWATCH/{random}"),
            Service::Teams => format!(
                "/workflows/{random}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={random}"
            ),
            Service::Feishu { .. } => format!("/open-apis/bot/v2/hook/{random}"),
            Service::DingTalk { .. } => format!("/robot/send?access_token={random}{random}"),
            Service::WeCom => format!("/cgi-bin/webhook/send?key={random}"),
        }
    }

    /// The service's answer to a request in `mode` (`Accept` or `Throttle`).
    pub fn answer(
        &self,
        mode: Mode,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Answer {
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let json_body = || -> Result<Map<String, Value>, String> {
            if !content_type.starts_with("application/json") {
                return Err(format!(
                    "Content-Type {content_type:?} is not application/json"
                ));
            }
            match serde_json::from_slice(body) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err("the body is not a JSON object".into()),
                Err(e) => Err(format!("the body is not JSON: {e}")),
            }
        };
        let throttled = mode == Mode::Throttle;
        match self {
            Service::Slack => {
                if throttled {
                    return Answer::refused(
                        429,
                        "rate_limited".into(),
                        TEXT,
                        "rate limited".into(),
                    );
                }
                match json_body().and_then(|b| slack(&b)) {
                    Ok(()) => Answer::ok(200, "ok".into(), TEXT),
                    Err(why) => {
                        let code = if why.contains("no text") {
                            "no_text"
                        } else {
                            "invalid_payload"
                        };
                        Answer::refused(400, code.into(), TEXT, why)
                    }
                }
            }
            Service::Teams => {
                if throttled {
                    return Answer::refused(429, String::new(), TEXT, "rate limited".into());
                }
                if body.len() > 28 * 1024 {
                    return Answer::refused(
                        413,
                        "Request Entity too large".into(),
                        TEXT,
                        "over 28 KB".into(),
                    );
                }
                match json_body().and_then(|b| teams(&b)) {
                    Ok(()) => Answer::ok(202, String::new(), TEXT),
                    Err(why) => Answer::refused(
                        400,
                        json!({"error": {"code": "InvalidRequestContent", "message": why}})
                            .to_string(),
                        JSON,
                        why,
                    ),
                }
            }
            Service::Feishu { secret } => {
                let reply = |code: i64, msg: &str| {
                    json!({"code": code, "msg": msg, "data": {}}).to_string()
                };
                if throttled {
                    return Answer::refused(
                        200,
                        reply(11232, "frequency limited"),
                        JSON,
                        "rate limited".into(),
                    );
                }
                if body.len() > 20 * 1024 {
                    return Answer::refused(
                        200,
                        reply(9499, "Bad Request"),
                        JSON,
                        "over 20 KB".into(),
                    );
                }
                let body = match json_body() {
                    Ok(body) => body,
                    Err(why) => return Answer::refused(200, reply(9499, "Bad Request"), JSON, why),
                };
                if let Some(secret) = secret
                    && let Err(why) = feishu_signature(&body, secret)
                {
                    let msg =
                        "sign match fail or timestamp is not within one hour from current time";
                    return Answer::refused(200, reply(19021, msg), JSON, why);
                }
                match feishu(&body) {
                    Ok(()) => Answer::ok(
                        200,
                        json!({"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}).to_string(),
                        JSON,
                    ),
                    Err(why) => Answer::refused(200, reply(9499, "Bad Request"), JSON, why),
                }
            }
            Service::DingTalk { secret } => {
                let reply =
                    |code: i64, msg: &str| json!({"errcode": code, "errmsg": msg}).to_string();
                let query: Vec<(String, String)> =
                    serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
                let param = |name: &str| {
                    query
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.as_str())
                };
                if param("access_token").is_none_or(str::is_empty) {
                    return Answer::refused(
                        200,
                        reply(300005, "token is not exist"),
                        JSON,
                        "no access_token".into(),
                    );
                }
                if throttled {
                    return Answer::refused(
                        200,
                        reply(410100, "send too fast"),
                        JSON,
                        "rate limited".into(),
                    );
                }
                if let Some(secret) = secret {
                    match dingtalk_signature(param("timestamp"), param("sign"), secret) {
                        Ok(()) => {}
                        Err((errmsg, why)) => {
                            return Answer::refused(200, reply(310000, errmsg), JSON, why);
                        }
                    }
                }
                match json_body().and_then(|b| dingtalk(&b)) {
                    Ok(()) => Answer::ok(200, reply(0, "ok"), JSON),
                    Err(why) => Answer::refused(
                        200,
                        reply(40035, &format!("invalid parameter: {why}")),
                        JSON,
                        why,
                    ),
                }
            }
            Service::WeCom => {
                let reply =
                    |code: i64, msg: &str| json!({"errcode": code, "errmsg": msg}).to_string();
                let query: Vec<(String, String)> =
                    serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
                if !query.iter().any(|(k, v)| k == "key" && !v.is_empty()) {
                    return Answer::refused(
                        200,
                        reply(93000, "invalid webhook url"),
                        JSON,
                        "no key".into(),
                    );
                }
                if throttled {
                    return Answer::refused(
                        200,
                        reply(45009, "api freq out of limit"),
                        JSON,
                        "rate limited".into(),
                    );
                }
                match json_body().and_then(|b| wecom(&b)) {
                    Ok(()) => Answer::ok(200, reply(0, "ok"), JSON),
                    Err(why) if why.contains("exceed max length") => {
                        Answer::refused(200, reply(40058, &why), JSON, why)
                    }
                    Err(why) => Answer::refused(
                        200,
                        reply(40008, &format!("invalid message type: {why}")),
                        JSON,
                        why,
                    ),
                }
            }
        }
    }
}

/// Fails unless `body` has only the keys `allowed`.
fn only_keys(body: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(format!("{what}: unknown field {key:?}")),
        None => Ok(()),
    }
}

fn string<'a>(value: &'a Value, pointer: &str) -> Result<&'a str, String> {
    match value.pointer(pointer) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(format!("{pointer} is empty")),
        Some(_) => Err(format!("{pointer} is not a string")),
        None => Err(format!("{pointer} is missing")),
    }
}

fn array<'a>(value: &'a Value, pointer: &str) -> Result<&'a Vec<Value>, String> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{pointer} is not an array"))
}

/// Slack: `text` (unless `blocks` or `attachments`), escaped, at most 4,000 characters.
fn slack(body: &Map<String, Value>) -> Result<(), String> {
    only_keys(
        body,
        &["text", "blocks", "attachments", "thread_ts", "mrkdwn"],
        "message",
    )?;
    let value = Value::Object(body.clone());
    match value.get("text") {
        None if body.contains_key("blocks") || body.contains_key("attachments") => return Ok(()),
        None => return Err("no text".into()),
        Some(_) => {}
    }
    let text = string(&value, "/text").map_err(|_| "no text".to_string())?;
    if text.chars().count() > 4000 {
        return Err(format!("text has {} characters", text.chars().count()));
    }
    if text.contains(['<', '>']) {
        return Err("text has unescaped < or >".into());
    }
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        rest = &rest[at..];
        if !["&amp;", "&lt;", "&gt;"]
            .iter()
            .any(|e| rest.starts_with(e))
        {
            return Err("text has an unescaped &".into());
        }
        rest = &rest[1..];
    }
    Ok(())
}

/// Teams: a message of Adaptive Card attachments.
fn teams(body: &Map<String, Value>) -> Result<(), String> {
    let value = Value::Object(body.clone());
    if value.get("type") != Some(&json!("message")) {
        return Err("type is not \"message\"".into());
    }
    let attachments = array(&value, "/attachments")?;
    if attachments.is_empty() {
        return Err("no attachments".into());
    }
    for attachment in attachments {
        if string(attachment, "/contentType")? != "application/vnd.microsoft.card.adaptive" {
            return Err("an attachment is not an Adaptive Card".into());
        }
        let card = attachment
            .get("content")
            .ok_or("an attachment has no content")?;
        if string(card, "/type")? != "AdaptiveCard" {
            return Err("content.type is not AdaptiveCard".into());
        }
        let version = string(card, "/version")?;
        if !["1.0", "1.1", "1.2", "1.3", "1.4", "1.5"].contains(&version) {
            return Err(format!(
                "card version {version} is not supported by Teams (at most 1.5)"
            ));
        }
        for element in array(card, "/body")? {
            match string(element, "/type")? {
                "TextBlock" => {
                    string(element, "/text")?;
                }
                "FactSet" => {
                    for fact in array(element, "/facts")? {
                        string(fact, "/title")?;
                        string(fact, "/value")?;
                    }
                }
                "Container" | "ColumnSet" | "Image" | "ImageSet" | "ActionSet"
                | "RichTextBlock" | "Table" => {}
                other => return Err(format!("unknown card element {other}")),
            }
        }
        if let Some(actions) = card.get("actions") {
            for action in actions.as_array().ok_or("actions is not an array")? {
                let kind = string(action, "/type")?;
                if ![
                    "Action.OpenUrl",
                    "Action.ShowCard",
                    "Action.ToggleVisibility",
                ]
                .contains(&kind)
                {
                    return Err(format!("{kind} is not supported in Teams webhooks"));
                }
            }
        }
    }
    Ok(())
}

/// Feishu: the signature as the doc computes it (the Python sample:
/// `hmac.new(f"{timestamp}\n{secret}".encode(), digestmod=sha256)`, empty message).
fn feishu_signature(body: &Map<String, Value>, secret: &str) -> Result<(), String> {
    let timestamp = body
        .get("timestamp")
        .and_then(|t| match t {
            Value::String(s) => s.parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        })
        .ok_or("no timestamp")?;
    let sign = body.get("sign").and_then(Value::as_str).ok_or("no sign")?;
    if (now_seconds() - timestamp).abs() > SKEW_SECONDS {
        return Err(format!("timestamp {timestamp} is not within an hour"));
    }
    let key = format!("{timestamp}\n{secret}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(b"");
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    if sign != expected {
        return Err("sign does not match".into());
    }
    Ok(())
}

/// Feishu: a message type and its content.
fn feishu(body: &Map<String, Value>) -> Result<(), String> {
    only_keys(
        body,
        &["msg_type", "content", "card", "timestamp", "sign"],
        "message",
    )?;
    let value = Value::Object(body.clone());
    match string(&value, "/msg_type")? {
        "text" => {
            string(&value, "/content/text")?;
        }
        "post" => {
            let post = value
                .pointer("/content/post")
                .and_then(Value::as_object)
                .ok_or("content.post is missing")?;
            if post.is_empty() {
                return Err("content.post has no language".into());
            }
            for (language, post) in post {
                if !["zh_cn", "en_us", "ja_jp"].contains(&language.as_str()) {
                    return Err(format!("unknown language {language}"));
                }
                for paragraph in array(post, "/content")? {
                    for element in paragraph.as_array().ok_or("a paragraph is not an array")? {
                        match string(element, "/tag")? {
                            "text" => {
                                string(element, "/text")?;
                            }
                            "a" => {
                                string(element, "/text")?;
                                string(element, "/href")?;
                            }
                            "at" => {
                                string(element, "/user_id")?;
                            }
                            "img" => {
                                string(element, "/image_key")?;
                            }
                            other => return Err(format!("unknown tag {other}")),
                        }
                    }
                }
            }
        }
        "interactive" => {
            value
                .get("card")
                .and_then(Value::as_object)
                .ok_or("card is missing")?;
        }
        "image" | "share_chat" => {
            value
                .get("content")
                .and_then(Value::as_object)
                .ok_or("content is missing")?;
        }
        other => return Err(format!("unknown msg_type {other}")),
    }
    Ok(())
}

/// DingTalk: the signature as the doc computes it (the Python sample:
/// `hmac.new(secret, f"{timestamp}\n{secret}", sha256)`, base64, then URL-encoded, which
/// the query's decoding undoes). `Err` carries DingTalk's errmsg and why.
fn dingtalk_signature(
    timestamp: Option<&str>,
    sign: Option<&str>,
    secret: &str,
) -> Result<(), (&'static str, String)> {
    let timestamp: i64 = timestamp
        .and_then(|t| t.parse().ok())
        .ok_or(("invalid timestamp", "no timestamp".to_string()))?;
    if (now_seconds() * 1000 - timestamp).abs() > SKEW_SECONDS * 1000 {
        return Err((
            "invalid timestamp",
            format!("timestamp {timestamp} is not within an hour"),
        ));
    }
    let sign = sign.ok_or(("sign not match", "no sign".to_string()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}\n{secret}").as_bytes());
    if sign != STANDARD.encode(mac.finalize().into_bytes()) {
        return Err(("sign not match", "sign does not match".to_string()));
    }
    Ok(())
}

/// DingTalk: a message type and its content.
fn dingtalk(body: &Map<String, Value>) -> Result<(), String> {
    only_keys(
        body,
        &[
            "msgtype",
            "text",
            "markdown",
            "link",
            "actionCard",
            "feedCard",
            "at",
            "msgUuid",
        ],
        "message",
    )?;
    let value = Value::Object(body.clone());
    match string(&value, "/msgtype")? {
        "text" => {
            string(&value, "/text/content")?;
        }
        "markdown" => {
            string(&value, "/markdown/title")?;
            string(&value, "/markdown/text")?;
        }
        "link" => {
            string(&value, "/link/title")?;
            string(&value, "/link/text")?;
            string(&value, "/link/messageUrl")?;
        }
        "actionCard" | "feedCard" => {}
        other => return Err(format!("unsupported msgtype {other}")),
    }
    if let Some(uuid) = value.get("msgUuid") {
        uuid.as_str().ok_or("msgUuid is not a string")?;
    }
    Ok(())
}

/// WeCom: a message type and its content, markdown at most 4096 bytes.
fn wecom(body: &Map<String, Value>) -> Result<(), String> {
    let value = Value::Object(body.clone());
    let kind = string(&value, "/msgtype")?;
    let known = [
        "text",
        "markdown",
        "markdown_v2",
        "image",
        "news",
        "file",
        "voice",
        "template_card",
    ];
    if !known.contains(&kind) {
        return Err(format!("unknown msgtype {kind}"));
    }
    only_keys(body, &["msgtype", kind], "message")?;
    let (limit, pointer) = match kind {
        "text" => (2048, "/text/content".to_string()),
        "markdown" | "markdown_v2" => (4096, format!("/{kind}/content")),
        _ => return Ok(()),
    };
    let content = string(&value, &pointer)?;
    if content.len() > limit {
        return Err(format!("{kind}.content exceed max length {limit}"));
    }
    Ok(())
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers
    }

    #[test]
    fn feishu_verifies_the_documented_signature() {
        // The doc's signature of its example, recomputed with the time moved to now.
        let now = now_seconds();
        let key = format!("{now}\ndemo");
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(b"");
        let sign = STANDARD.encode(mac.finalize().into_bytes());
        let body = json!({"timestamp": now.to_string(), "sign": sign, "msg_type": "text", "content": {"text": "hi"}});
        let service = Service::Feishu {
            secret: Some("demo".into()),
        };
        let ok = service.answer(Mode::Accept, None, &headers(), body.to_string().as_bytes());
        assert!(ok.delivered, "{ok:?}");
        let wrong = Service::Feishu {
            secret: Some("other".into()),
        };
        let refused = wrong.answer(Mode::Accept, None, &headers(), body.to_string().as_bytes());
        assert_eq!(refused.status, 200);
        assert!(refused.body.contains("19021"), "{refused:?}");
    }

    #[test]
    fn dingtalk_verifies_the_documented_vector() {
        // The signature the doc's sample computes for secret "this is secret" at
        // 1599360473000 (the timestamp check aside).
        let mut mac = Hmac::<Sha256>::new_from_slice(b"this is secret").unwrap();
        mac.update(b"1599360473000\nthis is secret");
        assert_eq!(
            STANDARD.encode(mac.finalize().into_bytes()),
            "hXZTWifRGHclNuZSKxoXc//sh51SWfVfRIhcdeKs63I="
        );
        let old = dingtalk_signature(Some("1599360473000"), Some("x"), "this is secret");
        assert_eq!(old.unwrap_err().0, "invalid timestamp");
    }
}
