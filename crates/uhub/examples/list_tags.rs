//! Lists the tags of a UHub image, newest first, with the key pair in the environment:
//!
//! ```sh
//! UCLOUD_PUBLIC_KEY=... UCLOUD_PRIVATE_KEY=... \
//!   cargo run -p uhub --example list_tags -- team web
//! ```
//!
//! `UCLOUD_ENDPOINT` points it at another endpoint, e.g. a `uhub-emulator`.

use uhub::{ClientConfig, Credentials, DEFAULT_ENDPOINT, ImageRef, ListTagsRequest, UhubClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(repo), Some(image)) = (args.next(), args.next()) else {
        return Err("usage: list_tags REPO IMAGE".into());
    };
    let endpoint = std::env::var("UCLOUD_ENDPOINT").unwrap_or_else(|_| DEFAULT_ENDPOINT.into());
    let client = UhubClient::new(ClientConfig::with_endpoint(endpoint))?;
    let credentials = Credentials::from_env()?;
    let listing = client
        .list_tags(
            &credentials,
            &ListTagsRequest::new(ImageRef::new(repo, image)),
        )
        .await?;
    for tag in &listing.tags {
        let digest = tag.digest.as_deref().unwrap_or("-");
        println!("{}\t{}\t{digest}", tag.name, tag.update_time);
    }
    eprintln!(
        "{} of {} tags in {} requests",
        listing.tags.len(),
        listing.total_count,
        listing.requests
    );
    Ok(())
}
