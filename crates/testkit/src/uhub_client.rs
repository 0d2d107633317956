//! Client-side helpers shared by the client integration tests: credentials the
//! scripted server accepts, clients with fast retries, an observer that records every
//! request, and scripts that fail a few times before serving tags.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use uhub::{
    ClientConfig, Credentials, Error, ImageRef, ListTagsRequest, RequestOutcome, RetryPolicy,
    TagListing, UhubClient,
};

use crate::ucloud_server::{
    PRIVATE_KEY, PUBLIC_KEY, Reply, Request, Server, generated_tags, tag_page,
};

pub fn credentials() -> Credentials {
    Credentials::new(PUBLIC_KEY, PRIVATE_KEY).unwrap()
}

pub fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

pub fn config(server: &Server) -> ClientConfig {
    ClientConfig {
        retry: fast_retries(2),
        ..ClientConfig::with_endpoint(&server.url)
    }
}

pub fn client(server: &Server) -> UhubClient {
    UhubClient::new(config(server)).unwrap()
}

pub type Outcomes = Arc<Mutex<Vec<(u32, Option<u16>, Option<i64>, &'static str, Duration)>>>;

/// A client whose observer records (attempt, status, RetCode, result, rate-limit wait).
pub fn observed_client(config: ClientConfig) -> (UhubClient, Outcomes) {
    let outcomes: Outcomes = Arc::default();
    let sink = Arc::clone(&outcomes);
    let observer = Arc::new(move |o: &RequestOutcome<'_>| {
        assert_eq!(o.action, "GetImageTag");
        sink.lock().unwrap().push((
            o.attempt,
            o.http_status,
            o.ret_code,
            o.result_label(),
            o.rate_limit_wait,
        ));
    });
    (
        UhubClient::with_observer(config, Some(observer)).unwrap(),
        outcomes,
    )
}

pub fn listing_request() -> ListTagsRequest {
    ListTagsRequest::new(ImageRef::new("team", "web"))
}

pub async fn list(client: &UhubClient) -> Result<TagListing, Error> {
    client.list_tags(&credentials(), &listing_request()).await
}

/// Replies `first` to the first `n` requests, then serves `tags`.
pub fn failing_first(n: usize, first: fn() -> Reply) -> impl Fn(&Request) -> Reply {
    let seen = AtomicUsize::new(0);
    let tags = generated_tags(3);
    move |request| {
        if seen.fetch_add(1, Ordering::SeqCst) < n {
            first()
        } else {
            tag_page(&tags, request, 100)
        }
    }
}

/// The URL of a loopback port that nothing listens on.
pub fn refused_url() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    url
}

/// A default client for `url`, credentials the server accepts, and a current-thread
/// runtime to drive them from synchronous code (benchmarks).
pub fn blocking_client(url: &str) -> (UhubClient, Credentials, tokio::runtime::Runtime) {
    let client = UhubClient::new(ClientConfig::with_endpoint(url)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (client, credentials(), runtime)
}
