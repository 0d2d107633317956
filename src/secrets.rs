//! Reading text values out of Secrets, for every Secret the operator reads (UCloud
//! credentials, notification targets): trimmed, UTF-8, never empty, and an error that
//! names the key but never the value.

use k8s_openapi::api::core::v1::Secret;

/// Why a Secret's value cannot be used; names the key, never the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The value is not UTF-8 text.
    #[error("the value of key {0} is not UTF-8 text")]
    NotText(String),
    /// The value is empty or white space only.
    #[error("the value of key {0} is empty")]
    Empty(String),
}

/// The text of `key` in a Secret's data, trimmed of surrounding white space (values
/// stored from files often end in a newline); `None` when the key is absent. The error
/// names the key, never the value.
pub fn secret_text(secret: &Secret, key: &str) -> Result<Option<String>, ValueError> {
    let Some(bytes) = secret.data.as_ref().and_then(|d| d.get(key)) else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes.0)
        .map_err(|_| ValueError::NotText(key.to_string()))?
        .trim();
    if text.is_empty() {
        return Err(ValueError::Empty(key.to_string()));
    }
    Ok(Some(text.to_string()))
}
