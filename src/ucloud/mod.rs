//! The UCloud API wire client: request signing, transport, response decoding, typed
//! errors, retries and GetImageTag paging.

pub mod credentials;
pub mod error;
pub mod retry;
pub mod signature;
pub mod wire;
