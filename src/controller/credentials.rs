//! UCloud credentials for a TagWatch: read from the Secret its `secretRef` names (in its
//! own namespace), or the operator-wide defaults when those are enabled. Secrets are
//! cached by namespace and name until the Secret watch reports a change, so a poll does
//! not cost a Secret read; rotated keys are used from the next poll on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;

use uhub::Credentials;

use super::failure::{FailureReason, PollFailure};
use crate::secrets::secret_text;

/// Secret key holding the UCloud public key.
pub const PUBLIC_KEY: &str = "publicKey";
/// Secret key holding the UCloud private key.
pub const PRIVATE_KEY: &str = "privateKey";
/// Optional Secret key holding an STS security token.
pub const SECURITY_TOKEN: &str = "securityToken";

/// Why credentials could not be had; the message is for the user and names no secret value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    /// The Secret does not exist.
    #[error(
        "Secret {namespace}/{name} not found: create it with the keys publicKey and privateKey"
    )]
    SecretNotFound {
        /// Namespace of the TagWatch and the Secret.
        namespace: String,
        /// Name of the Secret.
        name: String,
    },
    /// The TagWatch has no secretRef and the operator has no default credentials.
    #[error("spec.secretRef is not set and the operator was not started with default credentials")]
    NoDefaults,
    /// The Secret exists but cannot be used.
    #[error("Secret {namespace}/{name}: {problem}")]
    Invalid {
        /// Namespace of the TagWatch and the Secret.
        namespace: String,
        /// Name of the Secret.
        name: String,
        /// What is wrong, naming the key.
        problem: String,
    },
    /// Reading the Secret failed (API server error or missing permission).
    #[error("reading Secret {namespace}/{name} failed: {reason}")]
    ReadFailed {
        /// Namespace of the TagWatch and the Secret.
        namespace: String,
        /// Name of the Secret.
        name: String,
        /// The API server's answer.
        reason: String,
    },
}

impl ResolveError {
    /// The `Ready=False` reason this error is reported with.
    pub fn reason(&self) -> FailureReason {
        match self {
            Self::SecretNotFound { .. } | Self::NoDefaults | Self::ReadFailed { .. } => {
                FailureReason::CredentialsNotFound
            }
            Self::Invalid { .. } => FailureReason::InvalidCredentials,
        }
    }
}

impl From<ResolveError> for PollFailure {
    fn from(error: ResolveError) -> Self {
        PollFailure {
            reason: error.reason(),
            message: error.to_string(),
        }
    }
}

/// Reads credentials out of a Secret's data. Values are trimmed of surrounding white
/// space (keys stored from files often end in a newline).
pub fn from_secret(
    secret: &Secret,
    namespace: &str,
    name: &str,
) -> Result<Credentials, ResolveError> {
    let invalid = |problem: String| ResolveError::Invalid {
        namespace: namespace.to_string(),
        name: name.to_string(),
        problem,
    };
    let value = |key: &str| secret_text(secret, key).map_err(|e| invalid(e.to_string()));
    let required = |key: &str| value(key)?.ok_or_else(|| invalid(format!("key {key} is missing")));
    let public_key = required(PUBLIC_KEY)?;
    let private_key = required(PRIVATE_KEY)?;
    let credentials =
        Credentials::new(public_key, private_key).map_err(|e| invalid(e.to_string()))?;
    Ok(match value(SECURITY_TOKEN)? {
        Some(token) => credentials.with_security_token(token),
        None => credentials,
    })
}

/// Resolves and caches credentials for TagWatches.
pub struct CredentialStore {
    client: kube::Client,
    defaults: Option<Credentials>,
    cache: Mutex<HashMap<(String, String), Credentials>>,
}

impl CredentialStore {
    /// A store reading Secrets with `client`; `defaults` apply to TagWatches without
    /// `secretRef` (only when the operator enables them).
    pub fn new(client: kube::Client, defaults: Option<Credentials>) -> Arc<Self> {
        Arc::new(Self {
            client,
            defaults,
            cache: Mutex::default(),
        })
    }

    /// Credentials for a TagWatch in `namespace` naming `secret` (or none).
    pub async fn resolve(
        &self,
        namespace: &str,
        secret: Option<&str>,
    ) -> Result<Credentials, ResolveError> {
        let Some(name) = secret else {
            return self.defaults.clone().ok_or(ResolveError::NoDefaults);
        };
        let key = (namespace.to_string(), name.to_string());
        if let Some(found) = self.cache.lock().expect("credential cache").get(&key) {
            return Ok(found.clone());
        }
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let secret = match api.get_opt(name).await {
            Ok(Some(secret)) => secret,
            Ok(None) => {
                return Err(ResolveError::SecretNotFound {
                    namespace: key.0,
                    name: key.1,
                });
            }
            Err(e) => {
                return Err(ResolveError::ReadFailed {
                    namespace: key.0,
                    name: key.1,
                    reason: e.to_string(),
                });
            }
        };
        let credentials = from_secret(&secret, namespace, name)?;
        self.cache
            .lock()
            .expect("credential cache")
            .insert(key, credentials.clone());
        Ok(credentials)
    }

    /// Forgets a cached Secret; called for every change the Secret watch reports.
    pub fn invalidate(&self, namespace: &str, name: &str) {
        self.cache
            .lock()
            .expect("credential cache")
            .remove(&(namespace.to_string(), name.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::secret;

    #[test]
    fn reads_and_trims_keys() {
        let s = secret(&[
            (PUBLIC_KEY, b"pub\n"),
            (PRIVATE_KEY, b" pri "),
            (SECURITY_TOKEN, b"tok"),
        ]);
        let c = from_secret(&s, "ns", "keys").unwrap();
        assert_eq!(
            c,
            Credentials::new("pub", "pri")
                .unwrap()
                .with_security_token("tok")
        );
    }

    #[test]
    fn problems_name_the_key_and_never_the_value() {
        type Entries<'a> = &'a [(&'a str, &'a [u8])];
        let cases: [(Entries, &str); 4] = [
            (
                &[(PRIVATE_KEY, b"secret-value")],
                "key publicKey is missing",
            ),
            (&[(PUBLIC_KEY, b"p")], "key privateKey is missing"),
            (
                &[(PUBLIC_KEY, b"p"), (PRIVATE_KEY, b"  \n")],
                "the value of key privateKey is empty",
            ),
            (
                &[(PUBLIC_KEY, b"p"), (PRIVATE_KEY, &[0xff, 0xfe])],
                "the value of key privateKey is not UTF-8 text",
            ),
        ];
        for (entries, expected) in cases {
            let err = from_secret(&secret(entries), "ns", "keys").unwrap_err();
            assert_eq!(err.reason(), FailureReason::InvalidCredentials);
            let message = err.to_string();
            assert_eq!(message, format!("Secret ns/keys: {expected}"));
            assert!(!message.contains("secret-value"));
        }
        assert_eq!(
            from_secret(&Secret::default(), "ns", "k")
                .unwrap_err()
                .reason(),
            FailureReason::InvalidCredentials
        );
    }
}
