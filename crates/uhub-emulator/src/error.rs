//! The UCloud API errors the emulator answers with: each a RetCode and UCloud's
//! `Message` for it (the table is in the [crate documentation](crate)).

use super::faults::RATE_LIMITED;

/// Why a request is answered with a non-zero RetCode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("Missing Action")]
    MissingAction,
    #[error("Action [{0}] not found")]
    ActionNotFound(String),
    #[error("Missing Signature")]
    MissingSignature,
    #[error("Signature VerifyAC Error")]
    SignatureMismatch,
    #[error("User Not Exists")]
    UserNotExists,
    #[error("Missing params [{name}]{}", suffix(detail))]
    MissingParam {
        name: &'static str,
        detail: Option<String>,
    },
    #[error("Params [{name}] not available{}", suffix(detail))]
    InvalidParam {
        name: &'static str,
        detail: Option<String>,
    },
    #[error("{}", injected_message(*.0))]
    Injected(i64),
}

fn suffix(detail: &Option<String>) -> String {
    detail
        .as_ref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

fn injected_message(ret_code: i64) -> String {
    let meaning = match ret_code {
        150 => "Service Unavailable",
        RATE_LIMITED => "API call frequency limit exceeded",
        _ => "Injected Error",
    };
    format!("{meaning} (emulator fault injection, RetCode {ret_code})")
}

impl ApiError {
    pub fn missing(name: &'static str) -> Self {
        ApiError::MissingParam { name, detail: None }
    }

    pub fn invalid(name: &'static str, detail: impl Into<String>) -> Self {
        ApiError::InvalidParam {
            name,
            detail: Some(detail.into()),
        }
    }

    pub fn ret_code(&self) -> i64 {
        match self {
            ApiError::MissingAction => 160,
            ApiError::ActionNotFound(_) => 161,
            ApiError::MissingSignature => 170,
            ApiError::SignatureMismatch => 171,
            ApiError::UserNotExists => 172,
            ApiError::MissingParam { .. } => 220,
            ApiError::InvalidParam { .. } => 230,
            ApiError::Injected(code) => *code,
        }
    }
}
