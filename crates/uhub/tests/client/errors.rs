//! Failures of the UHub client against a scripted local UCloud API server: each error
//! kind with its RetCode, HTTP status and request id, retries and their budget,
//! timeouts, refused connections, the body cap, and secrets kept out of errors.

use std::time::Duration;

use serde_json::json;
use testkit::ucloud_server::{PRIVATE_KEY, PUBLIC_KEY, Reply, Server, generated_tags, serve_tags};
use testkit::uhub_client::*;
use uhub::{ClientConfig, Credentials, ErrorKind, RetryPolicy, UhubClient};

#[tokio::test]
async fn wrong_private_key_is_an_authentication_error_naming_the_request() {
    let server = Server::start(serve_tags(generated_tags(3), 100));
    let wrong = Credentials::new(PUBLIC_KEY, "not-the-private-key-3e1b").unwrap();
    let err = client(&server)
        .list_tags(&wrong, &listing_request())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
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
        (err.kind(), err.ret_code()),
        (ErrorKind::Authentication, Some(172))
    );
}

#[tokio::test]
async fn permission_and_invalid_request_errors_are_not_retried() {
    for (code, class) in [
        (292, ErrorKind::Permission),
        (230, ErrorKind::InvalidRequest),
    ] {
        let server =
            Server::start(move |_: &testkit::ucloud_server::Request| Reply::ret_code(code, "no"));
        let err = list(&client(&server)).await.unwrap_err();
        assert_eq!((err.kind(), err.ret_code()), (class, Some(code)));
        assert_eq!(server.request_count(), 1, "RetCode {code}");
    }
}

#[tokio::test]
async fn http_errors_are_retried_until_the_budget_is_spent() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let server = Server::start(move |_: &testkit::ucloud_server::Request| Reply::html(502, page));
    let err = list(&client(&server)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
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
        (err.kind(), err.http_status()),
        (ErrorKind::Throttled, Some(429))
    );
    assert_eq!(server.request_count(), 1);
    assert_eq!(list(&client(&server)).await.unwrap().requests, 1);
}

#[tokio::test]
async fn a_silent_server_times_out_as_unavailable() {
    let server = Server::start(|_: &testkit::ucloud_server::Request| Reply::Hang);
    let short = ClientConfig {
        request_timeout: Duration::from_millis(100),
        retry: fast_retries(1),
        ..config(&server)
    };
    let err = list(&UhubClient::new(short).unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.to_string().contains("no complete response"), "{err}");
    assert!(err.to_string().contains("within 100ms"), "{err}");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn the_listing_timeout_bounds_the_whole_call() {
    let server = Server::start(|_: &testkit::ucloud_server::Request| Reply::Hang);
    let mut request = listing_request();
    request.timeout = Some(Duration::from_millis(150));
    let started = std::time::Instant::now();
    let err = client(&server)
        .list_tags(&credentials(), &request)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
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
    let url = testkit::uhub_client::refused_url();
    let config = ClientConfig {
        retry: fast_retries(1),
        ..ClientConfig::with_endpoint(url.clone())
    };
    let (client, outcomes) = observed_client(config);
    let err = list(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
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
    let server = Server::start(|_: &testkit::ucloud_server::Request| Reply::Chunked {
        chunk: vec![b' '; 64 * 1024],
        count: 64,
    });
    let capped = ClientConfig {
        max_body_bytes: 100_000,
        ..config(&server)
    };
    let err = list(&UhubClient::new(capped).unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MalformedResponse);
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
    let server = Server::start(|request: &testkit::ucloud_server::Request| {
        let signature = request.param("Signature").unwrap_or_default();
        let echo = format!("<html>{signature} {PRIVATE_KEY} {}</html>", request.body);
        Reply::html(200, echo)
    });
    let creds = credentials().with_security_token("sts-secret-token");
    let err = client(&server)
        .list_tags(&creds, &listing_request())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MalformedResponse);
    let signature = server.requests()[0].param("Signature").unwrap().to_string();
    for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(shown.contains("<redacted>"), "{shown}");
        for secret in [PRIVATE_KEY, "sts-secret-token", signature.as_str()] {
            assert!(!shown.contains(&secret[..10]), "{secret} in {shown}");
        }
    }
}
