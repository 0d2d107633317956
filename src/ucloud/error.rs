//! Typed errors of UCloud API calls, classified so that a caller can act on them
//! (retry, fix credentials, fix the request), and messages that name the action, the
//! RetCode, UCloud's `Message` and the request id but never a secret.

use std::fmt;

/// What kind of failure an [`Error`] is; a small `Copy` label for metrics and exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
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

impl ErrorClass {
    /// Every class, in declaration order.
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::Authentication,
        ErrorClass::Permission,
        ErrorClass::Throttled,
        ErrorClass::Unavailable,
        ErrorClass::InvalidRequest,
        ErrorClass::MalformedResponse,
        ErrorClass::TooManyPages,
    ];

    /// A stable snake_case label, e.g. for a metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Authentication => "authentication",
            ErrorClass::Permission => "permission",
            ErrorClass::Throttled => "throttled",
            ErrorClass::Unavailable => "unavailable",
            ErrorClass::InvalidRequest => "invalid_request",
            ErrorClass::MalformedResponse => "malformed_response",
            ErrorClass::TooManyPages => "too_many_pages",
        }
    }

    /// Whether trying again later may succeed without changing anything.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Throttled | ErrorClass::Unavailable)
    }

    /// The class of a non-zero RetCode (UCloud's public RetCode table).
    pub fn from_ret_code(code: i64) -> Self {
        match code {
            170..=174 => ErrorClass::Authentication,
            292..=299 => ErrorClass::Permission,
            153 => ErrorClass::Throttled,
            110 | 130 | 150 => ErrorClass::Unavailable,
            c if c >= 2000 => ErrorClass::Unavailable,
            _ => ErrorClass::InvalidRequest,
        }
    }

    /// The class of a failed HTTP exchange: an HTTP status >= 400 (or an unexpected
    /// 1xx/3xx), with the body's RetCode when it had one. 429 and 5xx decide by
    /// themselves; otherwise a non-zero RetCode decides, then the status.
    pub fn from_http(status: u16, ret_code: Option<i64>) -> Self {
        match (status, ret_code) {
            (429, _) => ErrorClass::Throttled,
            (408, _) | (500..=599, _) => ErrorClass::Unavailable,
            (_, Some(code)) if code != 0 => ErrorClass::from_ret_code(code),
            (401, _) => ErrorClass::Authentication,
            (403, _) => ErrorClass::Permission,
            _ => ErrorClass::InvalidRequest,
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
                *text = text.replace(secret, "<redacted>");
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

/// A failed UCloud API call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// See [`ErrorClass::Authentication`].
    #[error(
        "authentication failed: {0}; check the public key, the private key and the security token"
    )]
    Authentication(Failure),
    /// See [`ErrorClass::Permission`].
    #[error("permission denied: {0}; check the project id and the key's permissions")]
    Permission(Failure),
    /// See [`ErrorClass::Throttled`].
    #[error("throttled: {0}; UCloud limits the request rate, try again later")]
    Throttled(Failure),
    /// See [`ErrorClass::Unavailable`].
    #[error("UCloud unavailable: {0}; try again later")]
    Unavailable(Failure),
    /// See [`ErrorClass::InvalidRequest`].
    #[error("request rejected: {0}")]
    InvalidRequest(Failure),
    /// See [`ErrorClass::MalformedResponse`].
    #[error("malformed response: {0}; is the endpoint a UCloud API endpoint?")]
    MalformedResponse(Failure),
    /// Paging was refused after `max_pages` pages without reaching the end.
    #[error(
        "{action}: still not at the end after {max_pages} pages ({tags_seen} distinct tags, TotalCount {}), refusing to page further; raise the page size or the page limit",
        total_text(.total_count)
    )]
    TooManyPages {
        /// The paged action.
        action: String,
        /// The page limit that was reached.
        max_pages: u32,
        /// Distinct tags collected so far.
        tags_seen: usize,
        /// The last TotalCount the server reported.
        total_count: Option<u64>,
    },
}

fn total_text(total: &Option<u64>) -> String {
    total.map_or_else(|| "unknown".to_string(), |t| t.to_string())
}

impl Error {
    /// Builds the error of `class` for `failure`.
    ///
    /// # Panics
    /// For [`ErrorClass::TooManyPages`], which is not a single-request failure.
    pub fn new(class: ErrorClass, failure: Failure) -> Self {
        match class {
            ErrorClass::Authentication => Error::Authentication(failure),
            ErrorClass::Permission => Error::Permission(failure),
            ErrorClass::Throttled => Error::Throttled(failure),
            ErrorClass::Unavailable => Error::Unavailable(failure),
            ErrorClass::InvalidRequest => Error::InvalidRequest(failure),
            ErrorClass::MalformedResponse => Error::MalformedResponse(failure),
            ErrorClass::TooManyPages => panic!("TooManyPages is not built from a Failure"),
        }
    }

    /// The class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Authentication(_) => ErrorClass::Authentication,
            Error::Permission(_) => ErrorClass::Permission,
            Error::Throttled(_) => ErrorClass::Throttled,
            Error::Unavailable(_) => ErrorClass::Unavailable,
            Error::InvalidRequest(_) => ErrorClass::InvalidRequest,
            Error::MalformedResponse(_) => ErrorClass::MalformedResponse,
            Error::TooManyPages { .. } => ErrorClass::TooManyPages,
        }
    }

    /// Whether retrying later may help: throttled and unavailable only.
    pub fn is_retryable(&self) -> bool {
        self.class().is_retryable()
    }

    /// The same error without the per-request id: a stable text for conditions and
    /// events, so that retries of one failure read the same (the id goes to the logs).
    pub fn without_request_id(&self) -> Error {
        let mut error = self.clone();
        match &mut error {
            Error::Authentication(f)
            | Error::Permission(f)
            | Error::Throttled(f)
            | Error::Unavailable(f)
            | Error::InvalidRequest(f)
            | Error::MalformedResponse(f) => f.request_id = None,
            Error::TooManyPages { .. } => {}
        }
        error
    }

    /// The failure details, for every class but [`ErrorClass::TooManyPages`].
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Error::Authentication(f)
            | Error::Permission(f)
            | Error::Throttled(f)
            | Error::Unavailable(f)
            | Error::InvalidRequest(f)
            | Error::MalformedResponse(f) => Some(f),
            Error::TooManyPages { .. } => None,
        }
    }

    /// The RetCode UCloud answered with, if any.
    pub fn ret_code(&self) -> Option<i64> {
        self.failure().and_then(|f| f.ret_code)
    }

    /// The HTTP status, when it was not 200.
    pub fn http_status(&self) -> Option<u16> {
        self.failure().and_then(|f| f.http_status)
    }

    /// The `X-UCLOUD-REQUEST-UUID` of the failed response, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.failure().and_then(|f| f.request_id.as_deref())
    }

    /// Replaces every occurrence of each non-empty secret in the message with
    /// `<redacted>`, in case a server or proxy echoed the request back.
    pub(crate) fn scrubbed<'a>(mut self, secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let failure = match &mut self {
            Error::Authentication(f)
            | Error::Permission(f)
            | Error::Throttled(f)
            | Error::Unavailable(f)
            | Error::InvalidRequest(f)
            | Error::MalformedResponse(f) => f,
            Error::TooManyPages { .. } => return self,
        };
        for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
            failure.scrub(secret);
        }
        self
    }
}

#[cfg(test)]
mod tests {
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
        use ErrorClass::*;
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
        for (code, class) in cases {
            assert_eq!(ErrorClass::from_ret_code(code), class, "RetCode {code}");
        }
    }

    #[test]
    fn http_statuses_are_classified() {
        use ErrorClass::*;
        assert_eq!(ErrorClass::from_http(429, None), Throttled);
        assert_eq!(ErrorClass::from_http(429, Some(171)), Throttled);
        assert_eq!(ErrorClass::from_http(502, None), Unavailable);
        assert_eq!(ErrorClass::from_http(503, Some(230)), Unavailable);
        assert_eq!(ErrorClass::from_http(504, None), Unavailable);
        assert_eq!(ErrorClass::from_http(408, None), Unavailable);
        assert_eq!(ErrorClass::from_http(400, Some(171)), Authentication);
        assert_eq!(ErrorClass::from_http(401, None), Authentication);
        assert_eq!(ErrorClass::from_http(403, None), Permission);
        assert_eq!(ErrorClass::from_http(403, Some(0)), Permission);
        assert_eq!(ErrorClass::from_http(404, None), InvalidRequest);
        assert_eq!(ErrorClass::from_http(301, None), InvalidRequest);
    }

    #[test]
    fn only_throttled_and_unavailable_are_retryable() {
        let retryable: Vec<_> = ErrorClass::ALL
            .into_iter()
            .filter(|c| c.is_retryable())
            .collect();
        assert_eq!(retryable, [ErrorClass::Throttled, ErrorClass::Unavailable]);
        for class in ErrorClass::ALL {
            if class != ErrorClass::TooManyPages {
                let err = Error::new(class, failure(Some(1)));
                assert_eq!(err.class(), class);
                assert_eq!(err.is_retryable(), class.is_retryable());
            }
        }
    }

    #[test]
    fn message_names_action_ret_code_message_and_request_id() {
        let err = Error::new(ErrorClass::Authentication, failure(Some(171)));
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
            Error::new(ErrorClass::Unavailable, http).to_string(),
            "UCloud unavailable: GetImageTag HTTP 502: <html>Bad Gateway</html>; try again later"
        );
    }

    #[test]
    fn too_many_pages_explains_itself() {
        let err = Error::TooManyPages {
            action: "GetImageTag".into(),
            max_pages: 3,
            tags_seen: 300,
            total_count: None,
        };
        assert_eq!(err.class(), ErrorClass::TooManyPages);
        assert!(!err.is_retryable());
        assert_eq!(err.ret_code(), None);
        assert_eq!(err.request_id(), None);
        let text = err.to_string();
        assert!(text.contains("after 3 pages (300 distinct tags, TotalCount unknown)"));
        assert!(text.contains("raise the page size or the page limit"));
    }

    #[test]
    fn scrubbing_removes_echoed_secrets_from_every_class() {
        for class in ErrorClass::ALL {
            if class == ErrorClass::TooManyPages {
                continue;
            }
            let mut echoed = failure(Some(171));
            echoed.message = format!("bad request Signature={SIGNATURE}&key={PRIVATE}");
            echoed.request_id = Some(format!("id-{PRIVATE}"));
            let err = Error::new(class, echoed).scrubbed([PRIVATE, SIGNATURE, ""]);
            for text in [format!("{err:?}"), format!("{err:#?}"), err.to_string()] {
                assert!(!text.contains(PRIVATE), "{text}");
                assert!(!text.contains(SIGNATURE), "{text}");
                assert!(text.contains("<redacted>"), "{text}");
            }
        }
    }
}
