//! The emulator binary's admin API (`/_emulator/`): tag changes, the order tags are
//! served in, every fault kind and its scoping, and request counters, driven through the
//! test helper.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use testkit::emulator::{Answer, Emulator, post_form, signed};

const FIXTURE: &str = r#"
credentials:
  - {publicKey: pub-admin, privateKey: pri-admin}
images:
  - repo: team
    image: web
    tags:
      - {name: v1, updateTime: "2026-11-01 08:00:00"}
  - repo: team
    image: api
    tags:
      - {name: a1, updateTime: "2026-11-01 08:00:00"}
  - repo: other
    image: app
"#;

async fn list(emu: &Emulator, repo: &str, image: &str) -> Answer {
    let params = [
        ("Action", "GetImageTag"),
        ("RepoName", repo),
        ("ImageName", image),
    ];
    post_form(emu.url(), &signed(&params, "pub-admin", "pri-admin")).await
}

fn names(answer: &Answer) -> Vec<String> {
    answer.body["TagSet"]
        .as_array()
        .unwrap_or_else(|| panic!("no TagSet: {}", answer.body))
        .iter()
        .map(|t| t["TagName"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pushed_tags_are_served_newest_first_and_deleted_ones_vanish() {
    let emu = Emulator::start_binary(FIXTURE);
    let pushed = emu
        .push_tag("team", "web", "v2", Some("2026-11-02 08:00:00"))
        .await;
    assert_eq!(pushed["created"], true);
    assert_eq!(pushed["updateTime"], "2026-11-02 08:00:00");
    assert_eq!(names(&list(&emu, "team", "web").await), ["v2", "v1"]);

    let updated = emu
        .push_tag("team", "web", "v1", Some("2026-11-03T00:00:00Z"))
        .await;
    assert_eq!(updated["created"], false);
    assert_eq!(updated["updateTime"], "2026-11-03 08:00:00");
    assert_eq!(names(&list(&emu, "team", "web").await), ["v1", "v2"]);

    let now = emu.push_tag("team", "web", "fresh", None).await;
    let served = list(&emu, "team", "web").await;
    assert_eq!(served.body["TagSet"][0]["TagName"], "fresh");
    assert_eq!(served.body["TagSet"][0]["UpdateTime"], now["updateTime"]);

    assert!(emu.delete_tag("team", "web", "v2").await);
    assert!(!emu.delete_tag("team", "web", "v2").await);
    assert_eq!(names(&list(&emu, "team", "web").await), ["fresh", "v1"]);
}

#[tokio::test]
async fn the_order_tags_are_served_in_changes_at_run_time() {
    let fixture = format!("{FIXTURE}order: oldest\n");
    let emu = Emulator::start_binary(&fixture);
    for (name, time) in [("v0", "2026-10-01 08:00:00"), ("a9", "2026-11-05 08:00:00")] {
        emu.push_tag("team", "web", name, Some(time)).await;
    }
    let (status, body) = emu.admin_request(Method::GET, "order", None).await;
    assert_eq!((status, body), (200, json!({"order": "oldest"})));
    assert_eq!(names(&list(&emu, "team", "web").await), ["v0", "v1", "a9"]);
    emu.set_order("name").await;
    assert_eq!(names(&list(&emu, "team", "web").await), ["a9", "v0", "v1"]);
    emu.set_order("newest").await;
    assert_eq!(names(&list(&emu, "team", "web").await), ["a9", "v1", "v0"]);
    let (status, body) = emu
        .admin_request(Method::PUT, "order", Some(json!({"order": "random"})))
        .await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("`random`") && error.contains("`newest`, `oldest`, `name`"),
        "names the value and the choices: {body}"
    );
    let total = list(&emu, "team", "web").await.body["TotalCount"].clone();
    assert_eq!(total, 3, "the count does not depend on the order");
}

#[tokio::test]
async fn pushing_to_a_new_image_creates_it() {
    let emu = Emulator::start_binary(FIXTURE);
    assert_eq!(list(&emu, "new", "img").await.body["RetCode"], 230);
    let mut body = json!({"repo": "new", "image": "img", "name": "t", "digest": "sha256:d"});
    body["updateTime"] = json!(1_795_773_600);
    let (status, answer) = emu.admin_request(Method::POST, "tags", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["digest"], "sha256:d");
    let served = list(&emu, "new", "img").await;
    assert_eq!(
        served.body["TagSet"],
        json!([{"TagName": "t", "UpdateTime": "2026-11-27 18:00:00", "Digest": "sha256:d"}])
    );
}

#[tokio::test]
async fn bad_admin_requests_are_explained() {
    let emu = Emulator::start_binary(FIXTURE);
    let cases = [
        (
            Method::POST,
            "tags",
            json!({"repo": "team", "image": "web"}),
            400,
            "missing field `name`",
        ),
        (
            Method::POST,
            "tags",
            json!({"repo": "", "image": "w", "name": "n"}),
            400,
            "repo: must not be empty",
        ),
        (
            Method::POST,
            "tags",
            json!({"repo": "r", "image": "w", "name": "n", "updateTime": "soon"}),
            400,
            "updateTime: \"soon\" is not a time",
        ),
        (
            Method::POST,
            "tags",
            json!({"repo": "r", "image": "w", "name": "n", "colour": 1}),
            400,
            "unknown field `colour`",
        ),
        (
            Method::PUT,
            "faults",
            json!({"errorRate": 2}),
            400,
            "errorRate: 2 is not between 0 and 1",
        ),
        (
            Method::PUT,
            "faults",
            json!({"latency": 5}),
            400,
            "unknown field `latency`",
        ),
        (
            Method::PUT,
            "faults",
            json!({"image": "web"}),
            400,
            "image: limiting faults",
        ),
        (Method::GET, "nothing", json!(null), 404, "no such endpoint"),
    ];
    for (method, path, body, status, message) in cases {
        let body = (!body.is_null()).then_some(body);
        let (got, answer) = emu.admin_request(method.clone(), path, body).await;
        assert_eq!(got, status, "{method} {path}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains(message),
            "{error:?} should contain {message:?}"
        );
    }
    let (status, answer) = emu
        .admin_request(
            Method::DELETE,
            "tags",
            Some(json!({"repo": "team", "image": "web", "name": "zz"})),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        answer["error"],
        "tag \"zz\" not found in image \"team/web\""
    );
}

#[tokio::test]
async fn stats_count_requests_by_action_and_ret_code() {
    let emu = Emulator::start_binary(FIXTURE);
    let zero =
        json!({"total": 0, "byAction": {}, "byRetCode": {}, "byHttpStatus": {}, "resets": 0});
    assert_eq!(emu.stats().await, zero, "no request happened yet");
    emu.push_tag("team", "web", "v9", None).await;
    assert_eq!(emu.stats().await, zero, "admin requests are not counted");

    list(&emu, "team", "web").await;
    list(&emu, "team", "nope").await;
    post_form(emu.url(), &[("Action".into(), "Nope".into())]).await;
    post_form(emu.url(), &[]).await;
    let stats = emu.stats().await;
    assert_eq!(
        stats,
        json!({
            "total": 4,
            "byAction": {"GetImageTag": 2, "Nope": 1},
            "byRetCode": {"0": 1, "160": 1, "161": 1, "230": 1},
            "byHttpStatus": {"200": 4},
            "resets": 0
        })
    );
    emu.reset_stats().await;
    assert_eq!(emu.stats().await, zero);
}

#[tokio::test]
async fn error_rate_with_ret_code_and_with_http_status() {
    let emu = Emulator::start_binary(FIXTURE);
    let set = emu.set_faults(json!({"retCode": 153})).await;
    assert_eq!(set, json!({"retCode": 153}));
    let answer = list(&emu, "team", "web").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["RetCode"], 153);
    assert_eq!(answer.body["Action"], "GetImageTagResponse");
    assert!(answer.body["Message"].as_str().unwrap().contains("153"));

    emu.set_faults(json!({"errorRate": 1.0, "httpStatus": 502}))
        .await;
    let answer = list(&emu, "team", "web").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.body["RetCode"], 150);
    assert!(answer.request_uuid.is_some());

    emu.set_faults(json!({"errorRate": 0.0, "retCode": 150}))
        .await;
    assert_eq!(list(&emu, "team", "web").await.body["RetCode"], 0);

    let (_, current) = emu.admin_request(Method::GET, "faults", None).await;
    assert_eq!(current, json!({"errorRate": 0.0, "retCode": 150}));
    emu.clear_faults().await;
    let (_, current) = emu.admin_request(Method::GET, "faults", None).await;
    assert_eq!(current, json!({}));

    let stats = emu.stats().await;
    assert_eq!(stats["byRetCode"], json!({"0": 1, "150": 1, "153": 1}));
    assert_eq!(stats["byHttpStatus"], json!({"200": 2, "502": 1}));
}

#[tokio::test]
async fn faults_scoped_to_a_repo_or_image_spare_the_rest() {
    let emu = Emulator::start_binary(FIXTURE);
    emu.set_faults(json!({"retCode": 150, "repo": "team", "image": "web"}))
        .await;
    assert_eq!(list(&emu, "team", "web").await.body["RetCode"], 150);
    assert_eq!(list(&emu, "team", "api").await.body["RetCode"], 0);
    let repos = post_form(
        emu.url(),
        &signed(&[("Action", "GetRepo")], "pub-admin", "pri-admin"),
    )
    .await;
    assert_eq!(
        repos.body["RetCode"], 0,
        "requests without RepoName are out of scope"
    );

    emu.set_faults(json!({"retCode": 150, "repo": "team"}))
        .await;
    assert_eq!(list(&emu, "team", "api").await.body["RetCode"], 150);
    assert_eq!(list(&emu, "other", "app").await.body["RetCode"], 0);
}

#[tokio::test]
async fn latency_delays_answers() {
    let emu = Emulator::start_binary(FIXTURE);
    emu.set_faults(json!({"latencyMs": 300, "repo": "team"}))
        .await;
    let start = Instant::now();
    let answer = list(&emu, "team", "web").await;
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(answer.body["RetCode"], 0);

    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    emu.set_faults(json!({"latencyMs": 30_000})).await;
    let err = client
        .get(format!("{}/?Action=GetRepo", emu.url()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

fn io_error_kinds(err: &(dyn std::error::Error + 'static)) -> Vec<std::io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            kinds.push(io.kind());
        }
        next = e.source();
    }
    kinds
}

#[tokio::test]
async fn reset_rate_drops_the_connection_without_an_answer() {
    let emu = Emulator::start_binary(FIXTURE);
    emu.set_faults(json!({"resetRate": 1.0, "repo": "team"}))
        .await;
    let body = serde_urlencoded::to_string(signed(
        &[
            ("Action", "GetImageTag"),
            ("RepoName", "team"),
            ("ImageName", "web"),
        ],
        "pub-admin",
        "pri-admin",
    ))
    .unwrap();
    let err = reqwest::Client::new()
        .post(format!("{}/", emu.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect_err("the connection must be dropped");
    assert!(err.is_request(), "{err:?}");
    assert!(
        io_error_kinds(&err).contains(&std::io::ErrorKind::ConnectionReset),
        "expected a connection reset, got {err:?}"
    );
    assert_eq!(list(&emu, "other", "app").await.body["RetCode"], 0);
    let stats = emu.stats().await;
    assert_eq!(stats["resets"], 1);
    assert_eq!(stats["total"], 2);
    assert_eq!(stats["byAction"]["GetImageTag"], 2);
}

#[tokio::test]
async fn qps_limit_answers_153_beyond_the_limit() {
    let emu = Emulator::start_binary(FIXTURE);
    emu.set_faults(json!({"qpsLimit": 2})).await;
    let start = Instant::now();
    let mut codes = Vec::new();
    for _ in 0..30 {
        codes.push(
            list(&emu, "team", "web").await.body["RetCode"]
                .as_i64()
                .unwrap(),
        );
    }
    let elapsed_windows = start.elapsed().as_secs() + 1;
    let ok = codes.iter().filter(|c| **c == 0).count() as u64;
    let limited = codes.iter().filter(|c| **c == 153).count() as u64;
    assert_eq!(ok + limited, 30, "{codes:?}");
    assert!(ok >= 2, "the first requests are admitted: {codes:?}");
    assert!(
        ok <= 2 * (elapsed_windows + 1),
        "{ok} admitted in {elapsed_windows} windows"
    );
    assert!(limited >= 1, "{codes:?}");
    assert_eq!(codes[..2], [0, 0]);
}

#[tokio::test]
async fn empty_fault_settings_change_nothing() {
    let emu = Emulator::start_binary(FIXTURE);
    emu.set_faults(Value::Object(Default::default())).await;
    assert_eq!(list(&emu, "team", "web").await.body["RetCode"], 0);
}
