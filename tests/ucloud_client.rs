//! The UHub client against a scripted local UCloud API server: signing on the wire,
//! headers, paging, error classes, retries, timeouts, body cap, rate limit, observer.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use support::{PRIVATE_KEY, PUBLIC_KEY, Reply, Server, generated_tags, serve_tags};
use tagwatch::ucloud::{
    CallOptions, ClientConfig, Credentials, Error, ErrorClass, ImageRef, ListTagsRequest,
    PageQuery, RateLimit, RequestOutcome, RetryPolicy, TagPage, USER_AGENT, UhubClient,
};

fn credentials() -> Credentials {
    Credentials::new(PUBLIC_KEY, PRIVATE_KEY).unwrap()
}

fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn config(server: &Server) -> ClientConfig {
    ClientConfig {
        retry: fast_retries(2),
        ..ClientConfig::with_endpoint(&server.url)
    }
}

fn client(server: &Server) -> UhubClient {
    UhubClient::new(config(server)).unwrap()
}

type Outcomes = Arc<Mutex<Vec<(u32, Option<u16>, Option<i64>, &'static str, Duration)>>>;

/// A client whose observer records (attempt, status, RetCode, result, rate-limit wait).
fn observed_client(config: ClientConfig) -> (UhubClient, Outcomes) {
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

fn listing_request() -> ListTagsRequest {
    ListTagsRequest::new(ImageRef::new("team", "web"))
}

async fn list(client: &UhubClient) -> Result<tagwatch::ucloud::TagListing, Error> {
    client.list_tags(&credentials(), &listing_request()).await
}

/// Replies `first` to the first `n` requests, then serves `tags`.
fn failing_first(n: usize, first: fn() -> Reply) -> impl Fn(&support::Request) -> Reply {
    let seen = AtomicUsize::new(0);
    let tags = generated_tags(3);
    move |request| {
        if seen.fetch_add(1, Ordering::SeqCst) < n {
            first()
        } else {
            support::tag_page(&tags, request, 100)
        }
    }
}

#[tokio::test]
async fn lists_all_tags_through_pages_shorter_than_the_limit() {
    let server = Server::start(serve_tags(generated_tags(250), 40));
    let listing = list(&client(&server)).await.unwrap();
    assert_eq!(listing.tags, generated_tags(250));
    assert_eq!(listing.total_count, 250);
    assert_eq!((listing.pages, listing.requests), (7, 7));
    assert!(listing.consistent);
    let offsets: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.number("Offset", 0))
        .collect();
    assert_eq!(offsets, [0, 40, 80, 120, 160, 200, 240]);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.param("Limit") == Some("100"))
    );
}

#[tokio::test]
async fn requests_are_signed_form_posts_with_the_documented_headers() {
    let server = Server::start(serve_tags(generated_tags(5), 100));
    let creds = credentials().with_security_token("sts-token-1");
    let mut request = ListTagsRequest::new(ImageRef::new("team", "web").in_project("org-1"));
    request.tag_name = Some("v4".into());
    request.page_size = 20.try_into().unwrap();
    let listing = client(&server).list_tags(&creds, &request).await.unwrap();
    assert_eq!(listing.tags, [support::generated_tag(4)]);

    let received = &server.requests()[0];
    assert_eq!(received.method, "POST");
    assert_eq!(
        received.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(received.header("user-agent"), Some(USER_AGENT));
    assert_eq!(USER_AGENT, concat!("tagwatch/", env!("CARGO_PKG_VERSION")));
    let millis: u128 = received.header("u-timestamp-ms").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(now.abs_diff(millis) < 60_000, "{millis} vs {now}");
    let keys: Vec<&str> = received.params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "Action",
            "PublicKey",
            "SecurityToken",
            "RepoName",
            "ImageName",
            "ProjectId",
            "TagName",
            "Offset",
            "Limit",
            "Signature"
        ]
    );
    assert_eq!(received.param("ProjectId"), Some("org-1"));
    assert_eq!(received.param("Limit"), Some("20"));
    assert!(!received.body.contains(PRIVATE_KEY));
}

#[tokio::test]
async fn wrong_private_key_is_an_authentication_error_naming_the_request() {
    let server = Server::start(serve_tags(generated_tags(3), 100));
    let wrong = Credentials::new(PUBLIC_KEY, "not-the-private-key-3e1b").unwrap();
    let err = client(&server)
        .list_tags(&wrong, &listing_request())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Authentication);
    assert_eq!(err.ret_code(), Some(171));
    assert_eq!(err.request_id(), Some("req-1"));
    assert_eq!(
        server.request_count(),
        1,
        "authentication errors are not retried"
    );
    let text = err.to_string();
    assert!(
        text.contains("GetImageTag RetCode 171: Signature VerifyAC Error"),
        "{text}"
    );
    assert!(text.contains("X-UCLOUD-REQUEST-UUID req-1"), "{text}");
    let signature = server.requests()[0].param("Signature").unwrap().to_string();
    for shown in [text, format!("{err:?}")] {
        assert!(!shown.contains("not-the-private-key-3e1b"), "{shown}");
        assert!(!shown.contains(&signature), "{shown}");
    }
}

#[tokio::test]
async fn unknown_public_key_is_an_authentication_error() {
    let server = Server::start(serve_tags(generated_tags(3), 100));
    let stranger = Credentials::new("someone-else", PRIVATE_KEY).unwrap();
    let err = client(&server)
        .list_tags(&stranger, &listing_request())
        .await
        .unwrap_err();
    assert_eq!(
        (err.class(), err.ret_code()),
        (ErrorClass::Authentication, Some(172))
    );
}

#[tokio::test]
async fn permission_and_invalid_request_errors_are_not_retried() {
    for (code, class) in [
        (292, ErrorClass::Permission),
        (230, ErrorClass::InvalidRequest),
    ] {
        let server = Server::start(move |_: &support::Request| Reply::ret_code(code, "no"));
        let err = list(&client(&server)).await.unwrap_err();
        assert_eq!((err.class(), err.ret_code()), (class, Some(code)));
        assert_eq!(server.request_count(), 1, "RetCode {code}");
    }
}

#[tokio::test]
async fn throttling_is_retried_and_every_request_is_observed() {
    let server = Server::start(failing_first(2, || {
        Reply::ret_code(153, "call frequency limit exceeded")
    }));
    let (client, outcomes) = observed_client(config(&server));
    let listing = list(&client).await.unwrap();
    assert_eq!(listing.tags.len(), 3);
    assert_eq!(listing.requests, 3);
    let seen: Vec<_> = outcomes
        .lock()
        .unwrap()
        .iter()
        .map(|o| (o.0, o.1, o.2, o.3))
        .collect();
    assert_eq!(
        seen,
        [
            (0, Some(200), Some(153), "throttled"),
            (1, Some(200), Some(153), "throttled"),
            (2, Some(200), Some(0), "success"),
        ]
    );
}

#[tokio::test]
async fn http_errors_are_retried_until_the_budget_is_spent() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let server = Server::start(move |_: &support::Request| Reply::html(502, page));
    let err = list(&client(&server)).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Unavailable);
    assert_eq!(err.http_status(), Some(502));
    assert_eq!(err.request_id(), Some("req-3"));
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
    assert_eq!(server.request_count(), 3, "first try and two retries");

    let server = Server::start(failing_first(1, || {
        Reply::status_json(429, json!({"RetCode": 153, "Message": "slow down"}))
    }));
    let no_retries = ClientConfig {
        retry: RetryPolicy::none(),
        ..config(&server)
    };
    let err = list(&UhubClient::new(no_retries).unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        (err.class(), err.http_status()),
        (ErrorClass::Throttled, Some(429))
    );
    assert_eq!(server.request_count(), 1);
    assert_eq!(list(&client(&server)).await.unwrap().requests, 1);
}

#[tokio::test]
async fn a_silent_server_times_out_as_unavailable() {
    let server = Server::start(|_: &support::Request| Reply::Hang);
    let short = ClientConfig {
        request_timeout: Duration::from_millis(100),
        retry: fast_retries(1),
        ..config(&server)
    };
    let err = list(&UhubClient::new(short).unwrap()).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Unavailable);
    assert!(err.to_string().contains("no complete response"), "{err}");
    assert!(err.to_string().contains("within 100ms"), "{err}");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn the_listing_timeout_bounds_the_whole_call() {
    let server = Server::start(|_: &support::Request| Reply::Hang);
    let mut request = listing_request();
    request.timeout = Some(Duration::from_millis(150));
    let started = std::time::Instant::now();
    let err = client(&server)
        .list_tags(&credentials(), &request)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Unavailable);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the 30 s request timeout was cut"
    );
    assert_eq!(
        server.request_count(),
        1,
        "no retry that cannot finish in time"
    );
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let config = ClientConfig {
        retry: fast_retries(1),
        ..ClientConfig::with_endpoint(url.clone())
    };
    let (client, outcomes) = observed_client(config);
    let err = list(&client).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Unavailable);
    assert!(
        err.to_string()
            .contains(&format!("cannot connect to {url}/")),
        "{err}"
    );
    let outcomes = outcomes.lock().unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!(
        outcomes
            .iter()
            .all(|o| o.1.is_none() && o.3 == "unavailable")
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused_while_reading() {
    let server = Server::start(|_: &support::Request| Reply::Chunked {
        chunk: vec![b' '; 64 * 1024],
        count: 64,
    });
    let capped = ClientConfig {
        max_body_bytes: 100_000,
        ..config(&server)
    };
    let err = list(&UhubClient::new(capped).unwrap()).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::MalformedResponse);
    assert!(
        err.to_string().contains("exceeds the 100000-byte limit"),
        "{err}"
    );
    assert_eq!(
        server.request_count(),
        1,
        "malformed responses are not retried"
    );
}

#[tokio::test]
async fn an_echoed_request_never_leaks_secrets_into_errors() {
    let server = Server::start(|request: &support::Request| {
        let signature = request.param("Signature").unwrap_or_default();
        let echo = format!("<html>{signature} {PRIVATE_KEY} {}</html>", request.body);
        Reply::html(200, echo)
    });
    let creds = credentials().with_security_token("sts-secret-token");
    let err = client(&server)
        .list_tags(&creds, &listing_request())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::MalformedResponse);
    let signature = server.requests()[0].param("Signature").unwrap().to_string();
    for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(shown.contains("<redacted>"), "{shown}");
        for secret in [PRIVATE_KEY, "sts-secret-token", signature.as_str()] {
            assert!(!shown.contains(&secret[..10]), "{secret} in {shown}");
        }
    }
}

#[tokio::test]
async fn the_rate_limiter_is_awaited_before_every_request_including_retries() {
    let server = Server::start(failing_first(1, || Reply::ret_code(150, "busy")));
    let limited = ClientConfig {
        rate_limit: Some(RateLimit::new(40.0, 1).unwrap()),
        ..config(&server)
    };
    let (client, outcomes) = observed_client(limited);
    let clone = client.clone();
    let started = std::time::Instant::now();
    assert_eq!(list(&client).await.unwrap().requests, 2);
    assert_eq!(list(&clone).await.unwrap().requests, 1);
    let waits: Vec<Duration> = outcomes.lock().unwrap().iter().map(|o| o.4).collect();
    assert_eq!(waits.len(), 3);
    assert_eq!(
        waits[0],
        Duration::ZERO,
        "the burst allows the first request"
    );
    assert!(
        waits[1] > Duration::ZERO && waits[2] > Duration::ZERO,
        "{waits:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(45),
        "2 slots of 25 ms"
    );
}

#[tokio::test]
async fn a_server_that_never_stops_paging_is_refused() {
    let server = Server::start(|request: &support::Request| {
        let offset = request.number("Offset", 0);
        let tag_set: Vec<serde_json::Value> = (offset..offset + 10)
            .map(|n| json!({"TagName": format!("v{n}"), "UpdateTime": "1"}))
            .collect();
        Reply::json(json!({"RetCode": 0, "TotalCount": offset + 1000, "TagSet": tag_set}))
    });
    let mut request = listing_request();
    request.max_pages = 3.try_into().unwrap();
    let err = client(&server)
        .list_tags(&credentials(), &request)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::TooManyPages);
    assert!(
        err.to_string()
            .contains("after 3 pages (30 distinct tags, TotalCount 1020)"),
        "{err}"
    );
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn concurrent_listings_share_one_client() {
    let server = Server::start(serve_tags(generated_tags(120), 50));
    let (client, outcomes) = observed_client(config(&server));
    let listings = futures::future::join_all((0..8).map(|_| {
        let client = client.clone();
        async move { list(&client).await }
    }))
    .await;
    for listing in listings {
        assert_eq!(listing.unwrap().tags, generated_tags(120));
    }
    assert_eq!(server.request_count(), 8 * 3);
    assert_eq!(outcomes.lock().unwrap().len(), 8 * 3);
}

#[tokio::test]
async fn generic_call_and_single_page() {
    let server = Server::start(|_: &support::Request| {
        Reply::json(
            json!({"RetCode": "0", "TotalCount": "2", "Surprise": {"a": 1},
            "TagSet": [{"TagName": "b", "UpdateTime": 1795773600}, {"TagName": "a", "UpdateTime": "x"}]}),
        )
    });
    let client = client(&server);
    let image = ImageRef::new("team", "web");
    let query = PageQuery {
        image: &image,
        tag_name: None,
        offset: 0,
        limit: 2,
    };
    let page = client
        .get_image_tag_page(
            &credentials(),
            &query,
            CallOptions::with_timeout(Duration::from_secs(10)),
        )
        .await
        .unwrap();
    assert_eq!(page.total_count, Some(2));
    assert_eq!(page.tags[0].update_time, "1795773600");
    assert_eq!(page.tags[1].digest, None);

    let raw: serde_json::Value = client
        .call(
            &credentials(),
            "GetRepo",
            vec![("Limit".into(), "1".into())],
            CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(raw["TotalCount"], "2");
    let last = server.requests().pop().unwrap();
    assert_eq!(last.param("Action"), Some("GetRepo"));
    let _: TagPage = client
        .call(
            &credentials(),
            "GetImageTag",
            query.params(),
            CallOptions::default(),
        )
        .await
        .unwrap();
}
