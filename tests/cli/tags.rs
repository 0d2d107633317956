//! `tagwatch tags` as a user runs it: the real binary against a scripted local UCloud
//! API server, checking stdout, the single stderr line and the exit code.

use std::process::{Command, Output};

use serde_json::{Value, json};
use tags::Tag;
use testkit::ucloud_server::{PRIVATE_KEY, PUBLIC_KEY, Reply, Server, serve_tags};

const CLEARED_ENV: [&str; 6] = [
    "UCLOUD_PUBLIC_KEY",
    "UCLOUD_PRIVATE_KEY",
    "UCLOUD_SECURITY_TOKEN",
    "UCLOUD_ENDPOINT",
    "TAGWATCH_LOG_LEVEL",
    "TAGWATCH_LOG_FORMAT",
];

fn tagwatch(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tagwatch"));
    for name in CLEARED_ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied()).args(args);
    command.output().expect("run tagwatch")
}

/// `tags --repo team --image web --endpoint <endpoint> <extra>`.
fn tags_argv<'a>(endpoint: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["tags", "--repo", "team", "--image", "web"];
    args.extend_from_slice(&["--endpoint", endpoint]);
    args.extend_from_slice(extra);
    args
}

/// `tagwatch tags ...` against `endpoint` with valid keys.
fn tags(endpoint: &str, extra: &[&str]) -> Output {
    tagwatch(
        &[
            ("UCLOUD_PUBLIC_KEY", PUBLIC_KEY),
            ("UCLOUD_PRIVATE_KEY", PRIVATE_KEY),
        ],
        &tags_argv(endpoint, extra),
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn tag(name: &str, time: &str, digest: Option<&str>) -> Tag {
    Tag {
        name: name.into(),
        update_time: time.into(),
        digest: digest.map(Into::into),
    }
}

/// Four tags in no particular order, in three time formats, one without a digest.
fn mixed_tags() -> Vec<Tag> {
    vec![
        tag("v1.0.0", "2026-11-01 08:00:00", Some("sha256:aaa")),
        tag("v1.2.0", "1795773600", None),
        tag("latest", "2026-11-27T10:00:00Z", Some("sha256:bbbbbb")),
        tag("v1.1.0", "2026-11-10 08:00:00", Some("sha256:ccc")),
    ]
}

#[test]
fn json_output_is_one_object_newest_first() {
    let server = Server::start(serve_tags(mixed_tags(), 3));
    let output = tags(&server.url, &["--output", "json", "--page-size", "2"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    let parsed: Value = serde_json::from_str(&text).unwrap();
    // latest and v1.2.0 are the same instant: ties go by name.
    assert_eq!(
        parsed,
        json!({"tagCount": 4, "tags": [
            {"name": "latest", "updateTime": "2026-11-27T10:00:00Z", "digest": "sha256:bbbbbb"},
            {"name": "v1.2.0", "updateTime": "1795773600"},
            {"name": "v1.1.0", "updateTime": "2026-11-10 08:00:00", "digest": "sha256:ccc"},
            {"name": "v1.0.0", "updateTime": "2026-11-01 08:00:00", "digest": "sha256:aaa"},
        ]})
    );
    let limits: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.number("Limit", 0))
        .collect();
    assert_eq!(limits, [2, 2]);
}

#[test]
fn table_output_has_aligned_columns() {
    let server = Server::start(serve_tags(mixed_tags(), 100));
    let output = tags(&server.url, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    let updated = lines[0].find("UPDATED").unwrap();
    let digest = lines[0].find("DIGEST").unwrap();
    assert!(lines[0].starts_with("TAG "));
    for (line, (name, time, hash)) in lines[1..].iter().zip([
        ("latest", "2026-11-27T10:00:00Z", "sha256:bbbbbb"),
        ("v1.2.0", "1795773600", "-"),
        ("v1.1.0", "2026-11-10 08:00:00", "sha256:ccc"),
        ("v1.0.0", "2026-11-01 08:00:00", "sha256:aaa"),
    ]) {
        assert!(line.starts_with(name), "{line}");
        assert_eq!(line[updated..].split("  ").next(), Some(time), "{line}");
        assert_eq!(&line[digest..], hash, "{line}");
    }
}

#[test]
fn endpoint_and_security_token_come_from_the_environment() {
    let server = Server::start(serve_tags(mixed_tags(), 100));
    let output = tagwatch(
        &[
            ("UCLOUD_PUBLIC_KEY", PUBLIC_KEY),
            ("UCLOUD_PRIVATE_KEY", PRIVATE_KEY),
            ("UCLOUD_SECURITY_TOKEN", "sts-token"),
            ("UCLOUD_ENDPOINT", &server.url),
        ],
        &[
            "tags", "--repo", "team", "--image", "web", "--tag", "v1.1.0", "--output", "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let parsed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(parsed["tags"][0]["name"], "v1.1.0");
    assert_eq!(parsed["tagCount"], 1);
    let request = &server.requests()[0];
    assert_eq!(request.param("SecurityToken"), Some("sts-token"));
    assert_eq!(request.param("TagName"), Some("v1.1.0"));
}

#[test]
fn missing_credentials_name_the_variable() {
    for (present, missing) in [
        (("UCLOUD_PRIVATE_KEY", PRIVATE_KEY), "UCLOUD_PUBLIC_KEY"),
        (("UCLOUD_PUBLIC_KEY", PUBLIC_KEY), "UCLOUD_PRIVATE_KEY"),
    ] {
        let output = tagwatch(&[present], &tags_argv("http://127.0.0.1:9", &[]));
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(stdout(&output), "");
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("error: {missing} is not set")),
            "{err}"
        );
    }
}

fn never_ending(request: &testkit::ucloud_server::Request) -> Reply {
    let offset = request.number("Offset", 0);
    Reply::json(json!({"RetCode": 0, "TotalCount": offset + 100,
        "TagSet": [{"TagName": format!("t{offset}"), "UpdateTime": "1"}]}))
}

#[test]
fn each_error_class_has_its_exit_code_and_one_line() {
    type Script = Box<dyn Fn(&testkit::ucloud_server::Request) -> Reply + Send + Sync>;
    let cases: Vec<(u8, Script, &str)> = vec![
        (
            5,
            Box::new(|_| Reply::ret_code(292, "Project Not Exists")),
            "RetCode 292",
        ),
        (
            6,
            Box::new(|_| Reply::ret_code(153, "call frequency limit")),
            "RetCode 153",
        ),
        (
            7,
            Box::new(|_| Reply::html(502, "<h1>502 Bad Gateway</h1>")),
            "HTTP 502",
        ),
        (
            8,
            Box::new(|_| Reply::ret_code(230, "Params [RepoName] not available")),
            "RepoName",
        ),
        (
            9,
            Box::new(|_| Reply::html(200, "<html>login</html>")),
            "not JSON",
        ),
        (10, Box::new(never_ending), "after 2 pages"),
    ];
    for (code, script, expected) in cases {
        let server = Server::start(script);
        let output = tags(&server.url, &["--retries", "0", "--max-pages", "2"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(i32::from(code)), "{err}");
        assert_eq!(stdout(&output), "");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(expected), "{expected} not in {err}");
        let signature = server.requests()[0].param("Signature").unwrap().to_string();
        assert!(
            !err.contains(PRIVATE_KEY) && !err.contains(&signature),
            "{err}"
        );
    }
}

#[test]
fn wrong_key_exits_4_and_refused_connection_exits_7() {
    let server = Server::start(serve_tags(mixed_tags(), 100));
    let output = tagwatch(
        &[
            ("UCLOUD_PUBLIC_KEY", PUBLIC_KEY),
            ("UCLOUD_PRIVATE_KEY", "wrong-private-key-77"),
        ],
        &tags_argv(&server.url, &[]),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(
        err.contains("RetCode 171: Signature VerifyAC Error (X-UCLOUD-REQUEST-UUID req-1)"),
        "{err}"
    );
    assert!(!err.contains("wrong-private-key-77"), "{err}");

    let url = testkit::uhub_client::refused_url();
    let output = tags(&url, &["--retries", "0"]);
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    assert!(stderr(&output).contains("cannot connect to"));
}

#[test]
fn usage_errors_exit_2_and_help_lists_exit_codes() {
    let output = tags("http://127.0.0.1:9", &["--page-size", "0"]);
    assert_eq!(output.status.code(), Some(2));
    let output = tags("not a url", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid UCloud endpoint"));

    let help = tagwatch(&[], &["tags", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = stdout(&help);
    for line in [
        "   0  success",
        "   3  UCLOUD_PUBLIC_KEY or UCLOUD_PRIVATE_KEY not set",
        "   4  authentication failed",
        "   5  permission denied",
        "   6  throttled",
        "   7  UCloud unavailable",
        "   8  request rejected",
        "   9  malformed response",
        "  10  paging did not end",
    ] {
        assert!(text.contains(line), "{line:?} not in help:\n{text}");
    }
    assert!(text.contains("UCLOUD_SECURITY_TOKEN"));
}
