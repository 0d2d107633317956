//! Typed errors of UCloud API calls, of a kind a caller can act on (retry, fix
//! credentials, fix the request), and messages that name the action, the RetCode,
//! UCloud's `Message` and the request id but never a secret.

use std::fmt;

use crate::REDACTED;

/// What kind of failure an [`Error`] is, and so what to do about it; a small `Copy`
/// label for metrics (`as_ref()`: `authentication`, ..., `too_many_pages`) and exit codes.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::Display,
    strum::AsRefStr,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum ErrorKind {
    /// RetCode 170-174: missing or wrong signature, unknown key or token.
    Authentication,
    /// RetCode 292-299: project, zone, IP, security lock or IAM denial.
    Permission,
    /// RetCode 153 or HTTP 429.
    Throttled,
    /// RetCode 110, 130, 150 or >= 2000, HTTP 5xx, timeouts, connection errors.
    Unavailable,
    /// Any other RetCode: the request itself is wrong.
    InvalidRequest,
    /// The response is not a UCloud API response (not JSON, truncated, too large).
    MalformedResponse,
    /// Paging did not end within the allowed number of pages.
    TooManyPages,
}

impl ErrorKind {
    /// Whether trying again later may succeed without changing anything.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Unavailable)
    }

    /// The kind of a non-zero RetCode (UCloud's public RetCode table).
    pub fn from_ret_code(code: i64) -> Self {
        match code {
            170..=174 => ErrorKind::Authentication,
            292..=299 => ErrorKind::Permission,
            153 => ErrorKind::Throttled,
            110 | 130 | 150 => ErrorKind::Unavailable,
            c if c >= 2000 => ErrorKind::Unavailable,
            _ => ErrorKind::InvalidRequest,
        }
    }

    /// The kind of a failed HTTP exchange: an HTTP status >= 400 (or an unexpected
    /// 1xx/3xx), with the body's RetCode when it had one. 429 and 5xx decide by
    /// themselves; otherwise a non-zero RetCode decides, then the status.
    pub fn from_http(status: u16, ret_code: Option<i64>) -> Self {
        match (status, ret_code) {
            (429, _) => ErrorKind::Throttled,
            (408, _) | (500..=599, _) => ErrorKind::Unavailable,
            (_, Some(code)) if code != 0 => ErrorKind::from_ret_code(code),
            (401, _) => ErrorKind::Authentication,
            (403, _) => ErrorKind::Permission,
            _ => ErrorKind::InvalidRequest,
        }
    }

    /// What an error message of this kind says before and after the failure's facts.
    fn framing(self) -> (&'static str, &'static str) {
        match self {
            ErrorKind::Authentication => (
                "authentication failed: ",
                "; check the public key, the private key and the security token",
            ),
            ErrorKind::Permission => (
                "permission denied: ",
                "; check the project id and the key's permissions",
            ),
            ErrorKind::Throttled => (
                "throttled: ",
                "; UCloud limits the request rate, try again later",
            ),
            ErrorKind::Unavailable => ("UCloud unavailable: ", "; try again later"),
            ErrorKind::InvalidRequest => ("request rejected: ", ""),
            ErrorKind::MalformedResponse => (
                "malformed response: ",
                "; is the endpoint a UCloud API endpoint?",
            ),
            ErrorKind::TooManyPages => ("", "; raise the page size or the page limit"),
        }
    }
}

/// The facts of one failed call: which action, what UCloud (or the transport) said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The API action, e.g. `GetImageTag`.
    pub action: String,
    /// The response's RetCode, when a response with one arrived.
    pub ret_code: Option<i64>,
    /// The HTTP status, when it was not 200.
    pub http_status: Option<u16>,
    /// UCloud's `Message`, or a description of the transport or decoding failure.
    pub message: String,
    /// The `X-UCLOUD-REQUEST-UUID` response header, when present.
    pub request_id: Option<String>,
}

impl Failure {
    /// A failure of `action` described by `message`, without RetCode, status or id.
    pub fn new(action: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            action: action.into(),
            ret_code: None,
            http_status: None,
            message: message.into(),
            request_id: None,
        }
    }

    fn scrub(&mut self, secret: &str) {
        for text in [&mut self.action, &mut self.message]
            .into_iter()
            .chain(self.request_id.as_mut())
        {
            if text.contains(secret) {
                *text = text.replace(secret, REDACTED);
            }
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.action)?;
        if let Some(status) = self.http_status {
            write!(f, " HTTP {status}")?;
        }
        if let Some(code) = self.ret_code {
            write!(f, " RetCode {code}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (X-UCLOUD-REQUEST-UUID {id})")?;
        }
        Ok(())
    }
}

/// A failed UCloud API call: its [`ErrorKind`] and the [`Failure`]'s facts. The message
/// names the action, the RetCode, UCloud's `Message` and the request id, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    failure: Failure,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (before, after) = self.kind.framing();
        write!(f, "{before}{}{after}", self.failure)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// An error of `kind` with the facts of `failure`.
    pub fn new(kind: ErrorKind, failure: Failure) -> Self {
        Error { kind, failure }
    }

    /// Paging was refused after `max_pages` pages without reaching the end, with
    /// `tags_seen` distinct tags and `total_count` the last `TotalCount` reported.
    pub fn too_many_pages(
        action: &str,
        max_pages: u32,
        tags_seen: usize,
        total_count: Option<u64>,
    ) -> Self {
        let total = total_count.map_or_else(|| "unknown".to_string(), |t| t.to_string());
        let message = format!(
            "still not at the end after {max_pages} pages ({tags_seen} distinct tags, TotalCount {total}), refusing to page further"
        );
        Error::new(ErrorKind::TooManyPages, Failure::new(action, message))
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The failure's facts.
    pub fn failure(&self) -> &Failure {
        &self.failure
    }

    /// Whether retrying later may help: throttled and unavailable only.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The same error without the per-request id: a stable text for conditions and
    /// events, so that retries of one failure read the same (the id goes to the logs).
    pub fn without_request_id(&self) -> Error {
        let mut error = self.clone();
        error.failure.request_id = None;
        error
    }

    /// The RetCode UCloud answered with, if any.
    pub fn ret_code(&self) -> Option<i64> {
        self.failure.ret_code
    }

    /// The HTTP status, when it was not 200.
    pub fn http_status(&self) -> Option<u16> {
        self.failure.http_status
    }

    /// The `X-UCLOUD-REQUEST-UUID` of the failed response, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.failure.request_id.as_deref()
    }

    /// Replaces every occurrence of each non-empty secret in the message with
    /// [`REDACTED`], in case a server or proxy echoed the request back.
    pub(crate) fn scrubbed<'a>(mut self, secrets: impl IntoIterator<Item = &'a str>) -> Self {
        for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
            self.failure.scrub(secret);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    const PRIVATE: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";
    const SIGNATURE: &str = "cba5cf5ec4d4233d206b1b54951e3787350a642f";

    fn failure(code: Option<i64>) -> Failure {
        Failure {
            action: "GetImageTag".into(),
            ret_code: code,
            http_status: None,
            message: "Signature VerifyAC Error".into(),
            request_id: Some("5e1c0a1e-0000-4000-8000-000000000001".into()),
        }
    }

    #[test]
    fn ret_codes_are_classified_as_documented() {
        use ErrorKind::*;
        let cases = [
            (110, Unavailable),
            (130, Unavailable),
            (150, Unavailable),
            (153, Throttled),
            (160, InvalidRequest),
            (161, InvalidRequest),
            (170, Authentication),
            (171, Authentication),
            (172, Authentication),
            (174, Authentication),
            (220, InvalidRequest),
            (230, InvalidRequest),
            (292, Permission),
            (294, Permission),
            (299, Permission),
            (300, InvalidRequest),
            (1999, InvalidRequest),
            (2000, Unavailable),
            (5000, Unavailable),
            (-1, InvalidRequest),
        ];
        for (code, kind) in cases {
            assert_eq!(ErrorKind::from_ret_code(code), kind, "RetCode {code}");
        }
    }

    #[test]
    fn http_statuses_are_classified() {
        use ErrorKind::*;
        assert_eq!(ErrorKind::from_http(429, None), Throttled);
        assert_eq!(ErrorKind::from_http(429, Some(171)), Throttled);
        assert_eq!(ErrorKind::from_http(502, None), Unavailable);
        assert_eq!(ErrorKind::from_http(503, Some(230)), Unavailable);
        assert_eq!(ErrorKind::from_http(504, None), Unavailable);
        assert_eq!(ErrorKind::from_http(408, None), Unavailable);
        assert_eq!(ErrorKind::from_http(400, Some(171)), Authentication);
        assert_eq!(ErrorKind::from_http(401, None), Authentication);
        assert_eq!(ErrorKind::from_http(403, None), Permission);
        assert_eq!(ErrorKind::from_http(403, Some(0)), Permission);
        assert_eq!(ErrorKind::from_http(404, None), InvalidRequest);
        assert_eq!(ErrorKind::from_http(301, None), InvalidRequest);
    }

    #[test]
    fn only_throttled_and_unavailable_are_retryable() {
        let retryable: Vec<_> = ErrorKind::VARIANTS
            .iter()
            .copied()
            .filter(|c| c.is_retryable())
            .collect();
        assert_eq!(retryable, [ErrorKind::Throttled, ErrorKind::Unavailable]);
        for &kind in ErrorKind::VARIANTS {
            let err = Error::new(kind, failure(Some(1)));
            assert_eq!(err.kind(), kind);
            assert_eq!(err.is_retryable(), kind.is_retryable());
        }
    }

    #[test]
    fn message_names_action_ret_code_message_and_request_id() {
        let err = Error::new(ErrorKind::Authentication, failure(Some(171)));
        assert_eq!(
            err.to_string(),
            "authentication failed: GetImageTag RetCode 171: Signature VerifyAC Error \
             (X-UCLOUD-REQUEST-UUID 5e1c0a1e-0000-4000-8000-000000000001); \
             check the public key, the private key and the security token"
        );
        assert_eq!(err.ret_code(), Some(171));
        assert_eq!(
            err.request_id(),
            Some("5e1c0a1e-0000-4000-8000-000000000001")
        );
        let mut http = failure(None);
        http.http_status = Some(502);
        http.request_id = None;
        http.message = "<html>Bad Gateway</html>".into();
        assert_eq!(
            Error::new(ErrorKind::Unavailable, http).to_string(),
            "UCloud unavailable: GetImageTag HTTP 502: <html>Bad Gateway</html>; try again later"
        );
    }

    #[test]
    fn too_many_pages_explains_itself() {
        let err = Error::too_many_pages("GetImageTag", 3, 300, None);
        assert_eq!(err.kind(), ErrorKind::TooManyPages);
        assert!(!err.is_retryable());
        assert_eq!(err.ret_code(), None);
        assert_eq!(err.request_id(), None);
        let text = err.to_string();
        assert!(text.contains("after 3 pages (300 distinct tags, TotalCount unknown)"));
        assert!(text.contains("raise the page size or the page limit"));
    }

    #[test]
    fn scrubbing_removes_echoed_secrets_from_every_kind() {
        for &kind in ErrorKind::VARIANTS {
            let mut echoed = failure(Some(171));
            echoed.message = format!("bad request Signature={SIGNATURE}&key={PRIVATE}");
            echoed.request_id = Some(format!("id-{PRIVATE}"));
            let err = Error::new(kind, echoed).scrubbed([PRIVATE, SIGNATURE, ""]);
            for text in [format!("{err:?}"), format!("{err:#?}"), err.to_string()] {
                assert!(!text.contains(PRIVATE), "{text}");
                assert!(!text.contains(SIGNATURE), "{text}");
                assert!(text.contains("<redacted>"), "{text}");
            }
        }
    }
}
