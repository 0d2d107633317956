//! A client for UCloud's UHub API: request signing, transport, response decoding, typed
//! errors, retries, `GetImageTag` paging and probes. It knows nothing of Kubernetes and can be
//! used on its own (`examples/list_tags.rs`).
//!
//! A [`UhubClient`] is built once from a [`ClientConfig`] (endpoint, timeouts, body
//! size cap, [`RetryPolicy`], optional global [`RateLimit`]) and an optional
//! [`RequestObserver`] that sees every HTTP request (for metrics). It is cheap to clone
//! and shared by concurrent callers; [`Credentials`] are passed per call.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use uhub::{ClientConfig, Credentials, ImageRef, ListTagsRequest, UhubClient};
//!
//! let client = UhubClient::new(ClientConfig::default())?;
//! let credentials = Credentials::from_env()?;
//! let request = ListTagsRequest::new(ImageRef::new("team", "web"));
//! let listing = client.list_tags(&credentials, &request).await?;
//! println!("{} of {} tags", listing.tags.len(), listing.total_count);
//! # Ok(()) }
//! ```
//!
//! Failures are an [`Error`] whose [`ErrorKind`] says what to do: retry later
//! ([`Error::is_retryable`]), fix the credentials, or fix the request.

pub mod backoff;
pub mod client;
pub mod config;
pub mod credentials;
pub mod error;
pub mod get_image_tag;
pub mod observe;
pub mod paging;
pub mod probe;
mod rate_limit;
pub mod retry;
pub mod signature;
pub mod wire;

pub use client::{CallOptions, REQUEST_ID_HEADER, UhubClient};
pub use config::{
    ClientConfig, ConfigError, DEFAULT_ENDPOINT, DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT,
    RateLimit, USER_AGENT,
};
pub use credentials::{Credentials, CredentialsError};
pub use error::{Error, ErrorKind, Failure};
pub use get_image_tag::{GET_IMAGE_TAG, ImageRef, PageQuery};
pub use observe::{RequestObserver, RequestOutcome};
pub use paging::{DEFAULT_MAX_PAGES, DEFAULT_PAGE_SIZE, ListTagsRequest, TagListing};
pub use probe::{NewestPage, Order, Probe};
pub use retry::RetryPolicy;
pub use wire::TagPage;

/// What replaces a secret in any text shown to people: logs, errors, `Debug` output.
pub const REDACTED: &str = "<redacted>";
