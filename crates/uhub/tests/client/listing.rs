//! The UHub client against a scripted local UCloud API server: paging, the wire
//! format and headers, retries seen by the observer, the rate limiter, the page limit,
//! concurrent use, and the generic call. Failures are in `errors.rs`.

use std::time::Duration;

use serde_json::json;
use testkit::ucloud_server::{PRIVATE_KEY, Reply, Server, generated_tags, serve_tags};
use testkit::uhub_client::*;
use uhub::{
    CallOptions, ClientConfig, ErrorKind, ImageRef, ListTagsRequest, PageQuery, RateLimit, TagPage,
    USER_AGENT,
};

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
    assert_eq!(listing.tags, [testkit::ucloud_server::generated_tag(4)]);

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
async fn the_rate_limiter_is_awaited_before_every_request_including_retries() {
    let server = Server::start(failing_first(1, || Reply::ret_code(150, "busy")));
    // Slots of 500 ms: far longer than a request and its retry take even on a loaded
    // machine, so the second and third requests always find the bucket empty.
    let limited = ClientConfig {
        rate_limit: Some(RateLimit::new(2.0, 1).unwrap()),
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
        started.elapsed() >= Duration::from_millis(950),
        "2 slots of 500 ms"
    );
}

#[tokio::test]
async fn a_server_that_never_stops_paging_is_refused() {
    let server = Server::start(|request: &testkit::ucloud_server::Request| {
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
    assert_eq!(err.kind(), ErrorKind::TooManyPages);
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
    let server = Server::start(|_: &testkit::ucloud_server::Request| {
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
