//! The HTTP clients deliveries use: one that trusts the public web PKI roots, and for
//! targets whose Secret has a `ca.crt`, one per distinct CA bundle that trusts those
//! certificates as well (for that target only), built once and cached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::deliver::{ClientError, http_client};

/// How many clients with extra CAs are kept; the least recently used goes first.
const CACHED: usize = 64;

/// Why a CA bundle cannot be used: `reqwest`'s description, which quotes nothing of it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CaError(String);

/// The clients, shared by every attempt.
pub struct Clients {
    connect_timeout: Duration,
    public: reqwest::Client,
    with_ca: Mutex<HashMap<[u8; 32], (reqwest::Client, Instant)>>,
}

impl Clients {
    /// Clients connecting within `connect_timeout`.
    pub fn new(connect_timeout: Duration) -> Result<Self, ClientError> {
        Ok(Clients {
            connect_timeout,
            public: http_client(connect_timeout, &[])?,
            with_ca: Mutex::default(),
        })
    }

    /// The client for a target with the extra CA certificates `ca` (PEM), if any.
    pub fn get(&self, ca: Option<&str>) -> Result<reqwest::Client, CaError> {
        let Some(pem) = ca else {
            return Ok(self.public.clone());
        };
        let key: [u8; 32] = Sha256::digest(pem.as_bytes()).into();
        let mut cache = self.with_ca.lock().expect("client cache");
        if let Some((client, used)) = cache.get_mut(&key) {
            *used = Instant::now();
            return Ok(client.clone());
        }
        let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| CaError(chain(&e)))?;
        let client =
            http_client(self.connect_timeout, &certificates).map_err(|e| CaError(chain(&e.0)))?;
        if cache.len() >= CACHED
            && let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k)
        {
            cache.remove(&oldest);
        }
        cache.insert(key, (client.clone(), Instant::now()));
        Ok(client)
    }

    /// How many clients with extra CAs are cached.
    pub fn cached(&self) -> usize {
        self.with_ca.lock().expect("client cache").len()
    }
}

/// The causes of `error`, without reqwest's generic "builder error".
fn chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_per_distinct_bundle() {
        let clients = Clients::new(Duration::from_secs(1)).unwrap();
        clients.get(None).unwrap();
        assert_eq!(clients.cached(), 0);
        let (a, b) = (testkit::tls::TestCa::new(), testkit::tls::TestCa::new());
        clients.get(Some(a.pem())).unwrap();
        clients.get(Some(a.pem())).unwrap();
        assert_eq!(clients.cached(), 1);
        clients.get(Some(b.pem())).unwrap();
        assert_eq!(clients.cached(), 2);
    }

    #[test]
    fn a_bundle_that_is_not_a_certificate_is_refused_without_quoting_it() {
        let clients = Clients::new(Duration::from_secs(1)).unwrap();
        // Valid PEM and base64, but not a certificate.
        let pem = "-----BEGIN CERTIFICATE-----\nc2VjcmV0LWJ5dGVz\n-----END CERTIFICATE-----\n";
        let error = clients.get(Some(pem)).unwrap_err().to_string();
        assert_eq!(error, "invalid peer certificate: BadEncoding");
        assert_eq!(clients.cached(), 0);
    }
}
