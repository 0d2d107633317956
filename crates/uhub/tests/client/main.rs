//! The UHub client against a scripted local UCloud API server
//! (`testkit::ucloud_server`): listings, then failures.

mod errors;
mod listing;
