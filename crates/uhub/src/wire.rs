//! Decoding of UCloud API responses: the common envelope (`RetCode`, `Message`), the
//! GetImageTag page, the response body size cap, and short excerpts of bodies that are
//! not UCloud responses (HTML error pages, truncated JSON), never the whole body.
//!
//! Lenient where UCloud's backends are known to vary: `RetCode` and `TotalCount` may be
//! numbers or numeric strings; `UpdateTime` may be a string or a number and is kept as
//! the received text (`null` or missing becomes the empty text, which sorts oldest);
//! `Digest` is optional (empty means absent); a missing `TagSet` is an empty page;
//! unknown fields are ignored.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor,
};

use super::error::{Error, ErrorKind, Failure};
use crate::REDACTED;
use tags::Tag;

/// How many characters of an unexpected body an error message shows.
pub const EXCERPT_CHARS: usize = 160;

/// One page of `GetImageTag`, decoded from UCloud's wire format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct TagPage {
    /// `TotalCount`: how many tags the query matches in all, when reported.
    #[serde(rename = "TotalCount", default, deserialize_with = "optional_count")]
    pub total_count: Option<u64>,
    /// `TagSet`, in the server's order.
    #[serde(rename = "TagSet", default, deserialize_with = "tag_set")]
    pub tags: Vec<Tag>,
}

/// An HTTP response as read from the wire, before decoding.
#[derive(Clone, Debug)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub request_id: Option<String>,
    pub body: Vec<u8>,
    /// Set when the body exceeded the cap: the cap, and `body` holds only its start.
    pub over_limit: Option<usize>,
}

/// Accumulates a response body up to a byte limit.
#[derive(Debug)]
pub(crate) struct CappedBody {
    buf: Vec<u8>,
    limit: usize,
    over: bool,
}

impl CappedBody {
    /// Starts a body of at most `limit` bytes; `content_length` (if announced) sizes the
    /// buffer and flags an oversized body before anything is read.
    pub fn new(limit: usize, content_length: Option<u64>) -> Self {
        let announced = content_length.map_or(0, |l| usize::try_from(l).unwrap_or(usize::MAX));
        CappedBody {
            buf: Vec::with_capacity(announced.min(limit).min(1 << 20)),
            limit,
            over: announced > limit,
        }
    }

    /// Appends `chunk`; returns false once the limit is exceeded (stop reading then).
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        let room = self.limit - self.buf.len();
        if chunk.len() > room {
            self.buf.extend_from_slice(&chunk[..room]);
            self.over = true;
        } else {
            self.buf.extend_from_slice(chunk);
        }
        !self.over
    }

    /// Whether the limit was exceeded.
    pub fn is_over(&self) -> bool {
        self.over
    }

    pub fn finish(self, status: u16, request_id: Option<String>) -> RawResponse {
        RawResponse {
            status,
            request_id,
            over_limit: self.over.then_some(self.limit),
            body: self.buf,
        }
    }
}

/// The part common to every UCloud response.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "RetCode", deserialize_with = "integer")]
    ret_code: i64,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

/// A response read in one pass: `RetCode` and the action's fields `T` (every other key).
struct Enveloped<T> {
    ret_code: i64,
    value: T,
}

/// `RetCode`, as [`Envelope`] reads it.
#[derive(Deserialize)]
struct RetCode(#[serde(deserialize_with = "integer")] i64);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Enveloped<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EnvelopedVisitor(PhantomData))
    }
}

struct EnvelopedVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for EnvelopedVisitor<T> {
    type Value = Enveloped<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a UCloud response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut ret_code = None;
        let fields = WithoutRetCode {
            map,
            ret_code: &mut ret_code,
        };
        let value = T::deserialize(de::value::MapAccessDeserializer::new(fields))?;
        let ret_code = ret_code.ok_or_else(|| de::Error::missing_field("RetCode"))?;
        Ok(Enveloped { ret_code, value })
    }
}

/// The entries of a response object but `RetCode`, whose value it keeps aside.
struct WithoutRetCode<'a, A> {
    map: A,
    ret_code: &'a mut Option<i64>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WithoutRetCode<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<Key<'de>>()? {
            if key.as_str() == "RetCode" {
                *self.ret_code = Some(self.map.next_value::<RetCode>()?.0);
                continue;
            }
            let key = match key {
                Key::Borrowed(k) => seed.deserialize(de::value::BorrowedStrDeserializer::new(k)),
                Key::Owned(k) => seed.deserialize(k.into_deserializer()),
            };
            return key.map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// An object key, borrowed from the body unless it had escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(k) => k,
            Key::Owned(k) => k,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_string()))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Decodes `raw` as the response of `action`: checks the HTTP status and `RetCode`,
/// then decodes the action's fields as `T`. Excerpts of the body in error messages
/// have every one of `secrets` replaced (a server may echo the request).
pub(crate) fn decode<T: DeserializeOwned>(
    action: &str,
    raw: &RawResponse,
    secrets: &[&str],
) -> Result<T, Error> {
    let success = (200..300).contains(&raw.status);
    let failure = |ret_code, message: String| Failure {
        action: action.to_string(),
        ret_code,
        http_status: (raw.status != 200).then_some(raw.status),
        message,
        request_id: raw.request_id.clone(),
    };
    if let Some(limit) = raw.over_limit {
        let kind = if success {
            ErrorKind::MalformedResponse
        } else {
            ErrorKind::from_http(raw.status, None)
        };
        let message = format!(
            "response body exceeds the {limit}-byte limit, starting {}",
            excerpt(&raw.body, secrets)
        );
        return Err(Error::new(kind, failure(None, message)));
    }
    // The usual case in one pass; anything else is read again below, envelope first,
    // to say exactly what is wrong.
    if success
        && let Ok(reply) = serde_json::from_slice::<Enveloped<T>>(&raw.body)
        && reply.ret_code == 0
    {
        return Ok(reply.value);
    }
    let envelope = serde_json::from_slice::<Envelope>(&raw.body);
    if !success {
        let (ret_code, message) = match envelope {
            Ok(env) => (Some(env.ret_code), env.message.unwrap_or_default()),
            Err(_) => (None, String::new()),
        };
        let message = if message.is_empty() {
            describe_body(&raw.body, secrets)
        } else {
            message
        };
        let kind = ErrorKind::from_http(raw.status, ret_code);
        return Err(Error::new(kind, failure(ret_code, message)));
    }
    let envelope = envelope.map_err(|err| {
        let message = describe_json_error(&raw.body, &err, secrets);
        Error::new(ErrorKind::MalformedResponse, failure(None, message))
    })?;
    if envelope.ret_code != 0 {
        let message = envelope
            .message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "(no Message)".to_string());
        let kind = ErrorKind::from_ret_code(envelope.ret_code);
        return Err(Error::new(kind, failure(Some(envelope.ret_code), message)));
    }
    serde_json::from_slice::<T>(&raw.body).map_err(|err| {
        let message = format!("unexpected {action} response fields: {err}");
        Error::new(ErrorKind::MalformedResponse, failure(Some(0), message))
    })
}

fn describe_body(body: &[u8], secrets: &[&str]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        "empty response body".to_string()
    } else {
        format!(
            "body ({} bytes) starts {}",
            body.len(),
            excerpt(body, secrets)
        )
    }
}

fn describe_json_error(body: &[u8], err: &serde_json::Error, secrets: &[&str]) -> String {
    let size = body.len();
    let start = excerpt(body, secrets);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match (err.classify(), first) {
        (_, None) => "empty response body".to_string(),
        (_, Some(b'<')) => format!("not JSON but markup ({size} bytes), starting {start}"),
        (serde_json::error::Category::Eof, _) => {
            format!("truncated JSON ({size} bytes), starting {start}")
        }
        (serde_json::error::Category::Data, _) => {
            format!("no valid RetCode ({err}) in {start}")
        }
        _ => format!("not valid JSON ({err}; {size} bytes), starting {start}"),
    }
}

/// The first [`EXCERPT_CHARS`] characters of `body` with each of `secrets` replaced by
/// `<redacted>`, whitespace and control characters collapsed, quoted; `…` marks a cut.
pub fn excerpt(body: &[u8], secrets: &[&str]) -> String {
    let longest_secret = secrets.iter().map(|s| s.len()).max().unwrap_or(0);
    let head = &body[..body.len().min(EXCERPT_CHARS * 4 + longest_secret)];
    let mut text = String::from_utf8_lossy(head);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if text.contains(secret) {
            text = text.replace(secret, REDACTED).into();
        }
    }
    let mut out = String::with_capacity(EXCERPT_CHARS + 4);
    let mut chars = 0;
    let mut last_space = true;
    for c in text.chars() {
        if chars == EXCERPT_CHARS {
            out.push('…');
            break;
        }
        let space = c.is_whitespace() || c.is_control();
        if space && last_space {
            continue;
        }
        out.push(if space { ' ' } else { c });
        last_space = space;
        chars += 1;
    }
    if chars < EXCERPT_CHARS && head.len() < body.len() {
        out.push('…');
    }
    format!("{:?}", out.trim_end())
}

/// A tag as it appears in `TagSet`.
#[derive(Deserialize)]
struct WireTag {
    #[serde(rename = "TagName")]
    name: String,
    #[serde(rename = "UpdateTime", default, deserialize_with = "text")]
    update_time: String,
    #[serde(rename = "Digest", default)]
    digest: Option<String>,
}

impl From<WireTag> for Tag {
    fn from(wire: WireTag) -> Tag {
        Tag {
            name: wire.name,
            update_time: wire.update_time,
            digest: wire.digest.filter(|d| !d.is_empty()),
        }
    }
}

fn tag_set<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Tag>, D::Error> {
    let wire: Option<Vec<WireTag>> = Option::deserialize(d)?;
    Ok(wire
        .unwrap_or_default()
        .into_iter()
        .map(Tag::from)
        .collect())
}

fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(IntegerVisitor)
}

fn optional_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match d.deserialize_any(OptionalVisitor(IntegerVisitor))? {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(Some)
            .map_err(|_| de::Error::custom(format!("negative count {n}"))),
    }
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(d.deserialize_any(OptionalVisitor(TextVisitor))?
        .unwrap_or_default())
}

/// An integer sent as a JSON number or a numeric string.
struct IntegerVisitor;

impl Visitor<'_> for IntegerVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer or a numeric string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("integer {v} out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Ok(v as i64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// Text sent as a JSON string or number, kept as received.
struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// Wraps a visitor so that JSON `null` becomes `None`.
struct OptionalVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for OptionalVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)?;
        f.write_str(" or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.0.visit_i64(v).map(Some)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.0.visit_u64(v).map(Some)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.0.visit_f64(v).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.0.visit_str(v).map(Some)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.0.visit_string(v).map(Some)
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
