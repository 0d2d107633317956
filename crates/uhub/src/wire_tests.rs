//! Unit tests of response decoding: every response shape UCloud is known to send, and
//! the bodies a proxy or a broken server sends instead.

use super::*;

const REQUEST_ID: &str = "0d5b7a3c-1111-4222-8333-444455556666";

fn raw(status: u16, body: &str) -> RawResponse {
    RawResponse {
        status,
        request_id: Some(REQUEST_ID.to_string()),
        body: body.as_bytes().to_vec(),
        over_limit: None,
    }
}

fn page(body: &str) -> Result<TagPage, Error> {
    decode::<TagPage>("GetImageTag", &raw(200, body), &[])
}

fn tag(name: &str, time: &str, digest: Option<&str>) -> Tag {
    Tag {
        name: name.into(),
        update_time: time.into(),
        digest: digest.map(Into::into),
    }
}

fn failure_of(result: Result<TagPage, Error>) -> (ErrorKind, Failure) {
    let err = result.expect_err("decoding should fail");
    (err.kind(), err.failure().clone())
}

#[test]
fn documented_success_response() {
    let body = r#"{"Action":"GetImageTagResponse","RetCode":0,"TotalCount":3,
        "TagSet":[{"TagName":"v2","UpdateTime":"2026-11-27 10:00:00","Digest":"sha256:ab"},
                  {"TagName":"v1","UpdateTime":"2026-11-26 10:00:00","Digest":"sha256:cd"}]}"#;
    assert_eq!(
        page(body).unwrap(),
        TagPage {
            total_count: Some(3),
            tags: vec![
                tag("v2", "2026-11-27 10:00:00", Some("sha256:ab")),
                tag("v1", "2026-11-26 10:00:00", Some("sha256:cd")),
            ],
        }
    );
}

#[test]
fn ret_code_and_total_count_as_numeric_strings() {
    let body = r#"{"RetCode":"0","TotalCount":"1","TagSet":[{"TagName":"a","UpdateTime":"x"}]}"#;
    let decoded = page(body).unwrap();
    assert_eq!(decoded.total_count, Some(1));
    assert_eq!(decoded.tags, [tag("a", "x", None)]);

    let (class, failure) = failure_of(page(
        r#"{"RetCode":" 171 ","Message":"Signature VerifyAC Error"}"#,
    ));
    assert_eq!(class, ErrorKind::Authentication);
    assert_eq!(failure.ret_code, Some(171));
    assert_eq!(failure.message, "Signature VerifyAC Error");
    assert_eq!(failure.request_id.as_deref(), Some(REQUEST_ID));
    assert_eq!(failure.http_status, None);
}

#[test]
fn ret_code_is_found_anywhere_and_under_an_escaped_key() {
    let last = r#"{"TagSet":[{"TagName":"a","UpdateTime":"x"}],"TotalCount":1,"RetCode":0}"#;
    assert_eq!(page(last).unwrap().tags, [tag("a", "x", None)]);
    let escaped = r#"{"Ret\u0043ode":0,"Tag\u0053et":[{"TagName":"a","UpdateTime":"x"}]}"#;
    assert_eq!(page(escaped).unwrap().tags, [tag("a", "x", None)]);
    let (class, failure) = failure_of(page(
        r#"{"TagSet":[],"Message":"no such image","RetCode":"160"}"#,
    ));
    assert_eq!(class, ErrorKind::InvalidRequest, "{failure:?}");
    assert_eq!(failure.message, "no such image");
    let (class, failure) = failure_of(page(r#"{"TagSet":[],"TotalCount":0}"#));
    assert_eq!(class, ErrorKind::MalformedResponse, "{failure:?}");
    assert!(failure.message.contains("RetCode"), "{}", failure.message);
}

#[test]
fn update_time_numbers_are_kept_as_received_text() {
    let body = r#"{"RetCode":0,"TotalCount":4,"TagSet":[
        {"TagName":"s","UpdateTime":1795773600},
        {"TagName":"ms","UpdateTime":1795773600123},
        {"TagName":"null","UpdateTime":null},
        {"TagName":"missing"}]}"#;
    let tags = page(body).unwrap().tags;
    let times: Vec<_> = tags.iter().map(|t| t.update_time.as_str()).collect();
    assert_eq!(times, ["1795773600", "1795773600123", "", ""]);
}

#[test]
fn digest_is_optional() {
    let body = r#"{"RetCode":0,"TotalCount":3,"TagSet":[
        {"TagName":"a","UpdateTime":"1","Digest":null},
        {"TagName":"b","UpdateTime":"2","Digest":""},
        {"TagName":"c","UpdateTime":"3"}]}"#;
    assert!(page(body).unwrap().tags.iter().all(|t| t.digest.is_none()));
}

#[test]
fn unknown_fields_are_ignored() {
    let body = r#"{"Action":"GetImageTagResponse","RetCode":0,"Request":{"Nested":[1,2]},
        "TotalCount":1,"Extra":null,
        "TagSet":[{"TagName":"a","UpdateTime":"1","Size":123,"Labels":{"k":"v"}}]}"#;
    assert_eq!(page(body).unwrap().tags, [tag("a", "1", None)]);
}

#[test]
fn missing_or_null_tag_set_and_total_count() {
    assert_eq!(page(r#"{"RetCode":0}"#).unwrap(), TagPage::default());
    let decoded = page(r#"{"RetCode":0,"TagSet":null,"TotalCount":null}"#).unwrap();
    assert_eq!(decoded, TagPage::default());
}

#[test]
fn non_zero_ret_code_is_classified_with_message() {
    let (class, failure) = failure_of(page(
        r#"{"RetCode":153,"Message":"call frequency limit exceeded"}"#,
    ));
    assert_eq!(class, ErrorKind::Throttled);
    assert_eq!(failure.message, "call frequency limit exceeded");

    let (class, failure) = failure_of(page(r#"{"RetCode":230}"#));
    assert_eq!(class, ErrorKind::InvalidRequest);
    assert_eq!(failure.message, "(no Message)");

    let (class, _) = failure_of(page(r#"{"RetCode":"2001","Message":"internal"}"#));
    assert_eq!(class, ErrorKind::Unavailable);
}

#[test]
fn html_error_page_gives_a_short_excerpt() {
    let html = format!(
        "<html>\n<head><title>Welcome</title></head>\n<body>{}</body></html>",
        "x".repeat(50_000)
    );
    let (class, failure) = failure_of(page(&html));
    assert_eq!(class, ErrorKind::MalformedResponse);
    assert!(
        failure.message.starts_with(
            "not JSON but markup (50063 bytes), starting \"<html> <head><title>Welcome"
        ),
        "{}",
        failure.message
    );
    assert!(failure.message.len() < 300, "{}", failure.message);
    assert!(failure.message.ends_with("…\""));
}

#[test]
fn html_error_status_is_classified_by_status() {
    let page = raw(
        502,
        "<html><head><title>502 Bad Gateway</title></head></html>",
    );
    let result = decode::<TagPage>("GetImageTag", &page, &[]);
    let (class, failure) = failure_of(result);
    assert_eq!(class, ErrorKind::Unavailable);
    assert_eq!(failure.http_status, Some(502));
    assert_eq!(failure.ret_code, None);
    assert!(
        failure.message.contains("502 Bad Gateway"),
        "{}",
        failure.message
    );
}

#[test]
fn error_status_with_ucloud_body_keeps_ret_code_and_message() {
    let body = r#"{"RetCode":153,"Message":"call frequency limit exceeded"}"#;
    let (class, failure) = failure_of(decode::<TagPage>("GetImageTag", &raw(429, body), &[]));
    assert_eq!(class, ErrorKind::Throttled);
    assert_eq!(
        (failure.http_status, failure.ret_code),
        (Some(429), Some(153))
    );
    assert_eq!(failure.message, "call frequency limit exceeded");

    let body = r#"{"RetCode":0,"TotalCount":0,"TagSet":[]}"#;
    let (class, _) = failure_of(decode::<TagPage>("GetImageTag", &raw(404, body), &[]));
    assert_eq!(class, ErrorKind::InvalidRequest);

    let (class, failure) = failure_of(decode::<TagPage>("GetImageTag", &raw(503, ""), &[]));
    assert_eq!(class, ErrorKind::Unavailable);
    assert_eq!(failure.message, "empty response body");
}

#[test]
fn truncated_json() {
    let (class, failure) = failure_of(page(
        r#"{"RetCode":0,"TotalCount":2,"TagSet":[{"TagName":"a","Upd"#,
    ));
    assert_eq!(class, ErrorKind::MalformedResponse);
    assert!(
        failure
            .message
            .starts_with("truncated JSON (57 bytes), starting \"{\\\"RetCode"),
        "{}",
        failure.message
    );
}

#[test]
fn bodies_that_are_not_ucloud_responses() {
    for (body, expected) in [
        ("", "empty response body"),
        (" \n", "empty response body"),
        ("not json", "not valid JSON"),
        (r#"{"Action":"X"}"#, "no valid RetCode"),
        (r#"{"RetCode":"abc"}"#, "no valid RetCode"),
        (r#"[1,2]"#, "no valid RetCode"),
    ] {
        let (class, failure) = failure_of(page(body));
        assert_eq!(class, ErrorKind::MalformedResponse, "{body}");
        assert!(
            failure.message.starts_with(expected),
            "{body}: {}",
            failure.message
        );
    }
}

#[test]
fn wrong_action_fields_are_malformed() {
    let (class, failure) = failure_of(page(r#"{"RetCode":0,"TagSet":[{"UpdateTime":"1"}]}"#));
    assert_eq!(class, ErrorKind::MalformedResponse);
    assert_eq!(failure.ret_code, Some(0));
    assert!(
        failure.message.contains("missing field `TagName`"),
        "{}",
        failure.message
    );

    let (_, failure) = failure_of(page(r#"{"RetCode":0,"TotalCount":-1}"#));
    assert!(
        failure.message.contains("negative count -1"),
        "{}",
        failure.message
    );
}

#[test]
fn capped_body_stops_at_the_limit() {
    let mut body = CappedBody::new(10, None);
    assert!(body.push(b"01234"));
    assert!(body.push(b"5678"));
    assert!(!body.is_over());
    assert!(!body.push(b"9abc"));
    assert!(body.is_over());
    let raw = body.finish(200, None);
    assert_eq!(raw.body, b"0123456789");
    assert_eq!(raw.over_limit, Some(10));

    let mut exact = CappedBody::new(4, Some(4));
    assert!(exact.push(b"abcd"));
    assert_eq!(exact.finish(200, None).over_limit, None);

    assert!(CappedBody::new(4, Some(5)).is_over());
}

#[test]
fn oversized_body_is_malformed_or_classified_by_status() {
    let mut body = CappedBody::new(64, None);
    let json = format!(
        r#"{{"RetCode":0,"TagSet":[{}]}}"#,
        r#"{"TagName":"a"},"#.repeat(100)
    );
    body.push(json.as_bytes());
    let raw = body.finish(200, Some(REQUEST_ID.into()));
    let (class, failure) = failure_of(decode::<TagPage>("GetImageTag", &raw, &[]));
    assert_eq!(class, ErrorKind::MalformedResponse);
    assert!(
        failure
            .message
            .starts_with("response body exceeds the 64-byte limit"),
        "{}",
        failure.message
    );
    assert!(failure.message.len() < 200);

    let mut body = CappedBody::new(8, None);
    body.push(b"<html>gateway error</html>");
    let (class, failure) = failure_of(decode::<TagPage>(
        "GetImageTag",
        &body.finish(503, None),
        &[],
    ));
    assert_eq!(class, ErrorKind::Unavailable);
    assert_eq!(failure.http_status, Some(503));
}

#[test]
fn excerpt_redacts_secrets_even_where_it_cuts() {
    let secret = "s3cr3t-private-key-value";
    let body = format!("{}{secret}{secret} tail", "z".repeat(EXCERPT_CHARS - 5));
    let shown = excerpt(body.as_bytes(), &[secret, ""]);
    assert!(!shown.contains("s3cr"), "{shown}");
    assert!(shown.contains("<red"), "{shown}");
    let (_, failure) = failure_of(decode::<TagPage>(
        "GetImageTag",
        &raw(200, &format!("<p>{secret}</p>")),
        &[secret],
    ));
    assert_eq!(
        failure.message,
        "not JSON but markup (31 bytes), starting \"<p><redacted></p>\""
    );
}

#[test]
fn excerpt_collapses_whitespace_and_marks_cuts() {
    assert_eq!(excerpt(b"  a \n\t b\r\n", &[]), "\"a b\"");
    assert_eq!(excerpt(b"ok\xff\xfe", &[]), "\"ok\u{fffd}\u{fffd}\"");
    let long = "y".repeat(EXCERPT_CHARS + 1);
    let cut = excerpt(long.as_bytes(), &[]);
    assert_eq!(cut, format!("\"{}…\"", "y".repeat(EXCERPT_CHARS)));
    let spaces = format!("a{}", " ".repeat(EXCERPT_CHARS * 5));
    assert_eq!(excerpt(spaces.as_bytes(), &[]), "\"a …\"");
}
