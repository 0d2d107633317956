//! Where a notification goes: the `url`, and the optional `token`, `secret` and `ca.crt`
//! of the Secret a target of `spec.notify` names. Problems name the Secret and the key,
//! never a value.

use std::fmt;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use reqwest::Url;

use crate::secrets::secret_text;

/// Secret key holding the target URL (http:// or https://).
pub const URL_KEY: &str = "url";
/// Optional Secret key holding the HMAC-SHA256 signing token (`X-Signature`).
pub const TOKEN_KEY: &str = "token";
/// Optional Secret key holding a Feishu or DingTalk robot's signing secret.
pub const SECRET_KEY: &str = "secret";
/// Optional Secret key holding PEM certificates trusted for this target, in addition to
/// the public roots.
pub const CA_KEY: &str = "ca.crt";
/// Parts of the URL's path and query this long or longer are kept out of messages too:
/// robot services quote their tokens back (Feishu's "access token invalid <token>").
const SECRET_PART_LEN: usize = 8;

/// A resolved target. `Debug` shows none of the values.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// Where to POST.
    pub url: Url,
    /// The signing token, when set.
    pub token: Option<String>,
    /// The robot's signing secret, when set.
    pub secret: Option<String>,
    /// Extra trusted CA certificates (PEM, holding at least one certificate), when set.
    pub ca: Option<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("scheme", &self.url.scheme())
            .field("signed", &self.token.is_some())
            .field("secret", &self.secret.is_some())
            .field("ca", &self.ca.is_some())
            .finish()
    }
}

impl Target {
    /// The strings an error message about this target must not contain: the URL, its
    /// host and path, the long parts of its path and query (robot tokens), the token
    /// and the secret.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![self.url.as_str().to_string()];
        if let Some(host) = self.url.host_str() {
            secrets.push(host.to_string());
        }
        if self.url.path().len() > 1 {
            secrets.push(self.url.path().to_string());
        }
        let segments = self.url.path_segments().into_iter().flatten();
        let values = self.url.query_pairs().map(|(_, v)| v.into_owned());
        secrets.extend(
            segments
                .map(str::to_string)
                .chain(values)
                .filter(|part| part.len() >= SECRET_PART_LEN),
        );
        secrets.extend(self.token.clone());
        secrets.extend(self.secret.clone());
        secrets
    }
}

/// Why a target cannot be used. The message names the Secret and the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// The Secret is missing or unusable: `Notified=False`, reason `InvalidTarget`.
    #[error("{0}")]
    Invalid(String),
    /// Reading the Secret failed (API server error or missing permission).
    #[error("{0}")]
    ReadFailed(String),
}

/// Reads a target out of a Secret's data.
pub fn from_secret(secret: &Secret, namespace: &str, name: &str) -> Result<Target, TargetError> {
    let invalid =
        |problem: String| TargetError::Invalid(format!("Secret {namespace}/{name}: {problem}"));
    let text = secret_text(secret, URL_KEY)
        .map_err(|e| invalid(e.to_string()))?
        .ok_or_else(|| invalid(format!("key {URL_KEY} is missing")))?;
    let url = Url::parse(&text)
        .map_err(|e| invalid(format!("the value of key {URL_KEY} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(format!(
            "the value of key {URL_KEY} must be an http:// or https:// URL with a host"
        )));
    }
    let text = |key| secret_text(secret, key).map_err(|e| invalid(e.to_string()));
    let token = text(TOKEN_KEY)?;
    let robot_secret = text(SECRET_KEY)?;
    let ca = text(CA_KEY)?;
    if let Some(pem) = &ca {
        match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
            Err(_) => {
                return Err(invalid(format!(
                    "the value of key {CA_KEY} is not valid PEM"
                )));
            }
            Ok(certificates) if certificates.is_empty() => {
                return Err(invalid(format!(
                    "the value of key {CA_KEY} holds no PEM CERTIFICATE block"
                )));
            }
            Ok(_) => {}
        }
    }
    Ok(Target {
        url,
        token,
        secret: robot_secret,
        ca,
    })
}

/// Reads the Secret `name` in `namespace` and the target it names.
pub async fn resolve(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Target, TargetError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(Some(secret)) => from_secret(&secret, namespace, name),
        Ok(None) => Err(TargetError::Invalid(format!(
            "Secret {namespace}/{name} not found: create it with the key {URL_KEY} (and optionally {TOKEN_KEY}, {SECRET_KEY}, {CA_KEY})"
        ))),
        Err(e) => Err(TargetError::ReadFailed(format!(
            "reading Secret {namespace}/{name} failed: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::secret;

    #[test]
    fn reads_url_and_optional_token() {
        let t = from_secret(
            &secret(&[(URL_KEY, b"https://hooks.example/x\n"), (TOKEN_KEY, b" t ")]),
            "ns",
            "hook",
        )
        .unwrap();
        assert_eq!(t.url.as_str(), "https://hooks.example/x");
        assert_eq!(t.token.as_deref(), Some("t"));
        let t = from_secret(&secret(&[(URL_KEY, b"http://10.0.0.1:8080")]), "ns", "h").unwrap();
        assert_eq!(t.token, None);
        let debug = format!("{t:?}");
        assert!(!debug.contains("10.0.0.1"), "{debug}");
        let ca = testkit::tls::TestCa::new();
        let t = from_secret(
            &secret(&[
                (URL_KEY, b"https://h.example/p"),
                (SECRET_KEY, b"SECrobot"),
                (CA_KEY, ca.pem().as_bytes()),
            ]),
            "ns",
            "h",
        )
        .unwrap();
        assert_eq!(t.secret.as_deref(), Some("SECrobot"));
        assert_eq!(t.ca.as_deref(), Some(ca.pem().trim()));
        let debug = format!("{t:?}");
        assert!(
            !debug.contains("SECrobot") && !debug.contains("BEGIN"),
            "{debug}"
        );
    }

    #[test]
    fn problems_name_the_secret_and_key_never_the_value() {
        type Entries<'a> = &'a [(&'a str, &'a [u8])];
        let url: (&str, &[u8]) = (URL_KEY, b"https://h.example/p");
        let cases: [(Entries, &str); 8] = [
            (&[(TOKEN_KEY, b"tok-value")], "key url is missing"),
            (&[(URL_KEY, b"  ")], "the value of key url is empty"),
            (
                &[(URL_KEY, &[0xff, 0xfe])],
                "the value of key url is not UTF-8 text",
            ),
            (
                &[(URL_KEY, b"not a url at all")],
                "the value of key url is not a URL (relative URL without a base)",
            ),
            (
                &[(URL_KEY, b"ftp://files.example/secret-path")],
                "the value of key url must be an http:// or https:// URL with a host",
            ),
            (
                &[(URL_KEY, b"https://h.example/p"), (TOKEN_KEY, &[0xc3])],
                "the value of key token is not UTF-8 text",
            ),
            (
                &[url, (CA_KEY, b"tok-value")],
                "the value of key ca.crt holds no PEM CERTIFICATE block",
            ),
            (
                &[
                    url,
                    (
                        CA_KEY,
                        b"-----BEGIN CERTIFICATE-----\ntok-value!\n-----END CERTIFICATE-----\n",
                    ),
                ],
                "the value of key ca.crt is not valid PEM",
            ),
        ];
        for (entries, expected) in cases {
            let message = from_secret(&secret(entries), "ns", "hook")
                .unwrap_err()
                .to_string();
            assert_eq!(message, format!("Secret ns/hook: {expected}"));
            for value in ["tok-value", "secret-path", "files.example", "not a url"] {
                assert!(!message.contains(value), "{message}");
            }
        }
    }

    #[test]
    fn secrets_cover_url_host_path_and_token() {
        let t = Target {
            url: Url::parse("https://h.example/hook/abc").unwrap(),
            token: Some("tok".into()),
            secret: None,
            ca: None,
        };
        assert_eq!(
            t.secrets(),
            [
                "https://h.example/hook/abc",
                "h.example",
                "/hook/abc",
                "tok"
            ]
        );
        // Robot tokens in long path segments and query values, and the robot's secret.
        let t = Target {
            url: Url::parse("https://h.example/hook/abcdefgh12?access_token=0123456789abcdef&v=1")
                .unwrap(),
            token: None,
            secret: Some("SECsecret".into()),
            ca: Some("PEM".into()),
        };
        assert_eq!(
            t.secrets(),
            [
                "https://h.example/hook/abcdefgh12?access_token=0123456789abcdef&v=1",
                "h.example",
                "/hook/abcdefgh12",
                "abcdefgh12",
                "0123456789abcdef",
                "SECsecret"
            ]
        );
    }
}
