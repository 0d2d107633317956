//! The UCloud API wire client: request signing, transport, response decoding, typed
//! errors, retries and GetImageTag paging.

pub mod signature;
