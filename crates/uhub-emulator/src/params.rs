//! Request parameters as the UCloud gateway receives them: the query string of a GET,
//! or the body of a POST (form-encoded, or JSON flattened to `Name.0.Field` strings),
//! plus query parameters the body does not repeat (the Go SDK adds `?Action=`).
//!
//! Signatures are verified over exactly these strings, so a JSON client must sign the
//! same text: numbers in their JSON spelling, booleans as `true` / `false`.

use serde_json::Value;

/// The parameters of one request, in the order received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    #[cfg(test)]
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Params(pairs)
    }

    /// Parses a request. `body` is read only for POST; its format comes from
    /// `content_type`, or from its first character when the type says neither JSON nor
    /// form. The error says what is wrong with the body.
    pub fn parse(
        is_post: bool,
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Self, String> {
        let mut pairs = if is_post {
            parse_body(content_type, body)?
        } else {
            Vec::new()
        };
        if let Some(query) = query {
            let extra: Vec<(String, String)> =
                serde_urlencoded::from_str(query).map_err(|e| format!("query string: {e}"))?;
            for (key, value) in extra {
                if !pairs.iter().any(|(k, _)| *k == key) {
                    pairs.push((key, value));
                }
            }
        }
        Ok(Params(pairs))
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key`, unless it is empty.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mime = content_type.unwrap_or("").to_ascii_lowercase();
    let json = if mime.contains("json") {
        true
    } else if mime.contains("x-www-form-urlencoded") {
        false
    } else {
        body.trim_ascii_start().starts_with(b"{")
    };
    if json {
        let value: Value = serde_json::from_slice(body).map_err(|e| format!("JSON body: {e}"))?;
        let Value::Object(map) = value else {
            return Err("JSON body: expected an object of parameters".into());
        };
        let mut pairs = Vec::with_capacity(map.len());
        for (key, value) in map {
            flatten(key, value, &mut pairs);
        }
        Ok(pairs)
    } else {
        serde_urlencoded::from_bytes(body).map_err(|e| format!("form body: {e}"))
    }
}

/// Flattens a JSON value the way the SDKs encode nested parameters: `Name.0`,
/// `Name.0.Field`. `null` means "not set" and is dropped.
fn flatten(key: String, value: Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((key, b.to_string())),
        Value::Number(n) => out.push((key, n.to_string())),
        Value::String(s) => out.push((key, s)),
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                flatten(format!("{key}.{i}"), item, out);
            }
        }
        Value::Object(map) => {
            for (field, item) in map {
                flatten(format!("{key}.{field}"), item, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &Params) -> Vec<(&str, &str)> {
        p.pairs()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn form_body_with_query_action() {
        let p = Params::parse(
            true,
            Some("Action=GetImageTag&Extra=1"),
            Some("application/x-www-form-urlencoded"),
            b"Action=GetImageTag&RepoName=team+a&ImageName=w%2Fx",
        )
        .unwrap();
        assert_eq!(
            pairs(&p),
            [
                ("Action", "GetImageTag"),
                ("RepoName", "team a"),
                ("ImageName", "w/x"),
                ("Extra", "1")
            ]
        );
    }

    #[test]
    fn json_body_is_flattened_to_strings() {
        let body = br#"{"Action":"GetImageTag","Limit":20,"On":true,"Skip":null,
            "Ids":["a","b"],"Nested":[{"X":1}]}"#;
        let p = Params::parse(true, None, Some("application/json"), body).unwrap();
        let mut got = pairs(&p);
        got.sort();
        assert_eq!(
            got,
            [
                ("Action", "GetImageTag"),
                ("Ids.0", "a"),
                ("Ids.1", "b"),
                ("Limit", "20"),
                ("Nested.0.X", "1"),
                ("On", "true"),
            ]
        );
    }

    #[test]
    fn body_format_is_sniffed_without_a_content_type() {
        let json = Params::parse(true, None, None, br#" {"Action":"A"}"#).unwrap();
        assert_eq!(json.get("Action"), Some("A"));
        let form = Params::parse(true, None, Some("text/plain"), b"Action=B").unwrap();
        assert_eq!(form.get("Action"), Some("B"));
    }

    #[test]
    fn get_reads_only_the_query() {
        let p = Params::parse(false, Some("Action=C&Limit="), None, b"Action=ignored").unwrap();
        assert_eq!(p.get("Action"), Some("C"));
        assert_eq!(p.get("Limit"), Some(""));
        assert_eq!(p.non_empty("Limit"), None);
    }

    #[test]
    fn malformed_bodies_are_reported() {
        let err = Params::parse(true, None, Some("application/json"), b"{oops").unwrap_err();
        assert!(err.starts_with("JSON body: "), "{err}");
        let err = Params::parse(true, None, Some("application/json"), b"[1]").unwrap_err();
        assert!(err.contains("expected an object"), "{err}");
    }
}
