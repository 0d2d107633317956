//! Why a poll failed: a [`PollFailure`] carries the `Ready=False` reason and a message a
//! user can act on (naming no secret), and the reason says when to try again. UCloud
//! errors, credential problems and spec errors each become one.

use uhub::ErrorKind;

use super::spec::SpecError;

/// Why a poll did not succeed; each is a `Ready=False` reason.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
pub enum FailureReason {
    /// The referenced Secret does not exist (or no credentials are configured at all).
    CredentialsNotFound,
    /// The Secret exists but lacks a key or holds a value that is not usable text.
    InvalidCredentials,
    /// UCloud rejected the keys (RetCode 170-174).
    AuthenticationFailed,
    /// UCloud refused access (RetCode 292-299).
    PermissionDenied,
    /// The repository or image does not exist (or is not visible to these keys).
    ImageNotFound,
    /// UCloud rejected the request for another reason (another RetCode).
    RequestRejected,
    /// UCloud rate-limited the request (RetCode 153 or HTTP 429).
    Throttled,
    /// UCloud could not be reached or answered with a server error.
    UpstreamUnavailable,
    /// The spec cannot work as written (e.g. an invalid regular expression).
    InvalidSpec,
}

/// When to try again after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Soon, with exponential backoff capped at the interval: the cause is transient.
    Backoff,
    /// At the next interval: retrying sooner would only hammer UCloud. A Secret change
    /// wakes the TagWatch earlier.
    Interval,
    /// Not until the spec changes.
    SpecChange,
}

impl FailureReason {
    /// How the controller retries after this failure.
    pub fn retry(self) -> Retry {
        match self {
            Self::Throttled | Self::UpstreamUnavailable => Retry::Backoff,
            Self::InvalidSpec => Retry::SpecChange,
            _ => Retry::Interval,
        }
    }

    /// Whether retrying alone cannot succeed (`Stalled=True`, kstatus `Failed`): it takes
    /// a change elsewhere (the spec, the Secret, UHub, UCloud permissions). Throttling
    /// and an unreachable UCloud are transient (kstatus `InProgress`).
    pub fn stalls(self) -> bool {
        !matches!(self, Self::Throttled | Self::UpstreamUnavailable)
    }
}

/// A failed poll.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct PollFailure {
    /// The `Ready=False` reason.
    pub reason: FailureReason,
    /// What went wrong, for status and events.
    pub message: String,
}

impl From<SpecError> for PollFailure {
    fn from(error: SpecError) -> Self {
        PollFailure {
            reason: FailureReason::InvalidSpec,
            message: error.to_string(),
        }
    }
}

impl From<&uhub::Error> for PollFailure {
    /// The reason of a UCloud error, and its message without the per-request id (so
    /// that retries of one failure read the same; the id goes to the logs).
    fn from(error: &uhub::Error) -> Self {
        PollFailure {
            reason: classify(error),
            message: error.without_request_id().to_string(),
        }
    }
}

/// The `Ready=False` reason of a UCloud error.
pub fn classify(error: &uhub::Error) -> FailureReason {
    match error.kind() {
        ErrorKind::Authentication => FailureReason::AuthenticationFailed,
        ErrorKind::Permission => FailureReason::PermissionDenied,
        ErrorKind::Throttled => FailureReason::Throttled,
        ErrorKind::Unavailable | ErrorKind::MalformedResponse | ErrorKind::TooManyPages => {
            FailureReason::UpstreamUnavailable
        }
        ErrorKind::InvalidRequest if names_missing_image(&error.failure().message) => {
            FailureReason::ImageNotFound
        }
        ErrorKind::InvalidRequest => FailureReason::RequestRejected,
    }
}

/// Whether UCloud's message says the repository or image does not exist. UHub's RetCode
/// for that is undocumented; its messages name the parameter (`Params [ImageName] not
/// available`) or say "not found" / "not exist".
fn names_missing_image(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    ["[reponame]", "[imagename]", "not found", "not exist"]
        .iter()
        .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;
    use uhub::{Error, Failure};

    use super::*;

    fn error(kind: ErrorKind, message: &str) -> Error {
        let mut failure = Failure::new("GetImageTag", message);
        failure.ret_code = Some(230);
        Error::new(kind, failure)
    }

    #[test]
    fn ucloud_errors_map_to_condition_reasons() {
        use ErrorKind as K;
        use FailureReason as R;
        for (kind, reason) in [
            (K::Authentication, R::AuthenticationFailed),
            (K::Permission, R::PermissionDenied),
            (K::Throttled, R::Throttled),
            (K::Unavailable, R::UpstreamUnavailable),
            (K::MalformedResponse, R::UpstreamUnavailable),
            (K::TooManyPages, R::UpstreamUnavailable),
        ] {
            assert_eq!(classify(&error(kind, "x")), reason, "{kind}");
        }
        for message in [
            "Params [ImageName] not available: image \"team/web\" not found",
            "Params [RepoName] not available",
            "Image Not Exist",
        ] {
            assert_eq!(
                classify(&error(K::InvalidRequest, message)),
                R::ImageNotFound,
                "{message}"
            );
        }
        assert_eq!(
            classify(&error(K::InvalidRequest, "Missing params [ProjectId]")),
            R::RequestRejected
        );
    }

    #[test]
    fn retries_of_one_failure_read_the_same_in_status() {
        let with_id = |id: &str| {
            let mut failure = Failure::new("GetImageTag", "call frequency limit exceeded");
            failure.ret_code = Some(153);
            failure.request_id = Some(id.into());
            Error::new(ErrorKind::Throttled, failure)
        };
        let (a, b) = (with_id("req-1"), with_id("req-2"));
        assert!(
            a.to_string().contains("req-1"),
            "the log keeps the request id"
        );
        let (a, b) = (PollFailure::from(&a), PollFailure::from(&b));
        assert_eq!(a, b);
        assert!(!a.message.contains("req-1"));
        assert_eq!(a.reason, FailureReason::Throttled);
    }

    #[test]
    fn retry_classes() {
        use FailureReason::*;
        for r in [Throttled, UpstreamUnavailable] {
            assert_eq!(r.retry(), Retry::Backoff, "{r:?}");
        }
        for r in [
            CredentialsNotFound,
            InvalidCredentials,
            AuthenticationFailed,
            PermissionDenied,
            ImageNotFound,
            RequestRejected,
        ] {
            assert_eq!(r.retry(), Retry::Interval, "{r:?}");
        }
        assert_eq!(InvalidSpec.retry(), Retry::SpecChange);
    }

    #[test]
    fn reasons_read_as_documented() {
        let names: Vec<&str> = FailureReason::VARIANTS.iter().map(|&r| r.into()).collect();
        assert_eq!(
            names,
            [
                "CredentialsNotFound",
                "InvalidCredentials",
                "AuthenticationFailed",
                "PermissionDenied",
                "ImageNotFound",
                "RequestRejected",
                "Throttled",
                "UpstreamUnavailable",
                "InvalidSpec",
            ]
        );
    }
}
