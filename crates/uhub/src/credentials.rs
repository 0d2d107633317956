//! UCloud API credentials: a public key, a private key and an optional STS security
//! token. The private key and the token never appear in `Debug` or `Display` output.

use std::fmt;

/// Environment variable holding the UCloud API public key.
pub const PUBLIC_KEY_ENV: &str = "UCLOUD_PUBLIC_KEY";
/// Environment variable holding the UCloud API private key.
pub const PRIVATE_KEY_ENV: &str = "UCLOUD_PRIVATE_KEY";
/// Environment variable holding the optional STS security token.
pub const SECURITY_TOKEN_ENV: &str = "UCLOUD_SECURITY_TOKEN";

use crate::REDACTED;

/// Why credentials could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    /// A required value is empty.
    #[error("the UCloud {0} is empty")]
    Empty(&'static str),
    /// A required environment variable is not set or empty.
    #[error(
        "{0} is not set: export the UCloud API key pair (UCLOUD_PUBLIC_KEY and UCLOUD_PRIVATE_KEY)"
    )]
    MissingEnv(&'static str),
}

/// A UCloud API key pair with an optional STS security token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    public_key: String,
    private_key: String,
    security_token: Option<String>,
}

impl Credentials {
    /// Builds credentials from a key pair. Surrounding whitespace (a trailing newline in
    /// a Secret, say) is trimmed; an empty key is refused.
    pub fn new(
        public_key: impl Into<String>,
        private_key: impl Into<String>,
    ) -> Result<Self, CredentialsError> {
        let public_key = trimmed(public_key.into());
        let private_key = trimmed(private_key.into());
        if public_key.is_empty() {
            return Err(CredentialsError::Empty("public key"));
        }
        if private_key.is_empty() {
            return Err(CredentialsError::Empty("private key"));
        }
        Ok(Self {
            public_key,
            private_key,
            security_token: None,
        })
    }

    /// Adds an STS security token; an empty token means none.
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        let token = trimmed(token.into());
        self.security_token = (!token.is_empty()).then_some(token);
        self
    }

    /// Reads `UCLOUD_PUBLIC_KEY`, `UCLOUD_PRIVATE_KEY` and the optional
    /// `UCLOUD_SECURITY_TOKEN`; the error names the first missing variable.
    pub fn from_env() -> Result<Self, CredentialsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, CredentialsError> {
        let required = |name: &'static str| {
            lookup(name)
                .map(trimmed)
                .filter(|v| !v.is_empty())
                .ok_or(CredentialsError::MissingEnv(name))
        };
        let public_key = required(PUBLIC_KEY_ENV)?;
        let private_key = required(PRIVATE_KEY_ENV)?;
        let credentials = Self::new(public_key, private_key)?;
        Ok(match lookup(SECURITY_TOKEN_ENV) {
            Some(token) => credentials.with_security_token(token),
            None => credentials,
        })
    }

    /// The public key (not secret).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Whether an STS security token is set.
    pub fn has_security_token(&self) -> bool {
        self.security_token.is_some()
    }

    pub(crate) fn private_key(&self) -> &str {
        &self.private_key
    }

    pub(crate) fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// The secret strings that must never be shown, for scrubbing error messages.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.private_key.as_str()).chain(self.security_token.as_deref())
    }
}

fn trimmed(value: String) -> String {
    let trimmed = value.trim();
    if trimmed.len() == value.len() {
        value
    } else {
        trimmed.to_string()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("public_key", &self.public_key)
            .field("private_key", &REDACTED)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| REDACTED),
            )
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UCloud key {} (private key {REDACTED}", self.public_key)?;
        if self.security_token.is_some() {
            write!(f, ", security token {REDACTED}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";
    const TOKEN: &str = "sts-token-5f2c9a";

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn debug_and_display_redact_private_key_and_token() {
        let creds = Credentials::new("pub-1", PRIVATE)
            .unwrap()
            .with_security_token(TOKEN);
        for text in [
            format!("{creds:?}"),
            format!("{creds:#?}"),
            creds.to_string(),
        ] {
            assert!(text.contains("pub-1"), "{text}");
            assert!(text.contains(REDACTED), "{text}");
            assert!(!text.contains(PRIVATE), "{text}");
            assert!(!text.contains(TOKEN), "{text}");
        }
    }

    #[test]
    fn empty_keys_are_refused_and_whitespace_trimmed() {
        assert_eq!(
            Credentials::new(" ", PRIVATE),
            Err(CredentialsError::Empty("public key"))
        );
        assert_eq!(
            Credentials::new("pub", "\n"),
            Err(CredentialsError::Empty("private key"))
        );
        let creds = Credentials::new("pub\n", format!(" {PRIVATE}\n"))
            .unwrap()
            .with_security_token("  ");
        assert_eq!(creds.public_key(), "pub");
        assert_eq!(creds.private_key(), PRIVATE);
        assert!(!creds.has_security_token());
    }

    #[test]
    fn env_lookup_names_the_missing_variable() {
        let err = Credentials::from_lookup(env(&[(PRIVATE_KEY_ENV, PRIVATE)])).unwrap_err();
        assert_eq!(err, CredentialsError::MissingEnv(PUBLIC_KEY_ENV));
        assert!(err.to_string().starts_with("UCLOUD_PUBLIC_KEY is not set"));

        let err = Credentials::from_lookup(env(&[(PUBLIC_KEY_ENV, "pub"), (PRIVATE_KEY_ENV, "")]))
            .unwrap_err();
        assert_eq!(err, CredentialsError::MissingEnv(PRIVATE_KEY_ENV));
    }

    #[test]
    fn env_lookup_reads_optional_token() {
        let creds = Credentials::from_lookup(env(&[
            (PUBLIC_KEY_ENV, "pub"),
            (PRIVATE_KEY_ENV, PRIVATE),
            (SECURITY_TOKEN_ENV, TOKEN),
        ]))
        .unwrap();
        assert_eq!(creds.security_token(), Some(TOKEN));
        let secrets: Vec<_> = creds.secrets().collect();
        assert_eq!(secrets, [PRIVATE, TOKEN]);
    }
}
