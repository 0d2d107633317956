//! The emulator's UCloud gateway, run in-process: request encodings, every RetCode path,
//! GetImageTag paging and filtering, GetRepo / GetRepoImage, `UpdateTime` formats and the
//! request id header.

use serde_json::{Value, json};
use testkit::emulator::{Answer, into_answer, post_form, signed};
use uhub_emulator::{Emulator, UpdateTimeFormat};

const PUB: &str = "pub-test";
const PRI: &str = "pri-test";

const FIXTURE: &str = r#"
credentials:
  - {publicKey: pub-test, privateKey: pri-test}
  - {publicKey: pub-other, privateKey: pri-other}
maxLimit: 3
images:
  - repo: team
    image: web
    tags:
      - {name: v1, updateTime: "2026-11-01 08:00:00", digest: "sha256:1"}
      - {name: v2, updateTime: "2026-11-02 08:00:00", digest: "sha256:2"}
      - {name: v3, updateTime: "2026-11-03 08:00:00"}
      - {name: v4, updateTime: "2026-11-04 08:00:00"}
      - {name: v5, updateTime: "2026-11-05 08:00:00"}
  - repo: team
    image: api
    tags:
      - {name: a1, updateTime: "2026-10-01 08:00:00"}
  - repo: secret
    image: vault
    projectId: org-1
    tags:
      - {name: s1, updateTime: "2026-09-01 08:00:00"}
"#;

async fn start() -> Emulator {
    Emulator::builder()
        .fixture_yaml(FIXTURE)
        .unwrap()
        .spawn()
        .await
        .unwrap()
}

async fn call(emu: &Emulator, params: &[(&str, &str)]) -> Answer {
    post_form(&emu.url(), &signed(params, PUB, PRI)).await
}

fn tag_names(body: &Value) -> Vec<&str> {
    body["TagSet"]
        .as_array()
        .unwrap_or_else(|| panic!("no TagSet in {body}"))
        .iter()
        .map(|t| t["TagName"].as_str().unwrap())
        .collect()
}

fn assert_ret(answer: &Answer, ret_code: i64, message: &str) {
    assert_eq!(answer.status, 200, "{:?}", answer);
    assert_eq!(answer.body["RetCode"], ret_code, "{}", answer.body);
    assert_eq!(answer.body["Message"], message, "{}", answer.body);
}

/// Request parameters, before signing.
type Params<'a> = &'a [(&'a str, &'a str)];

const WEB: [(&str, &str); 3] = [
    ("Action", "GetImageTag"),
    ("RepoName", "team"),
    ("ImageName", "web"),
];

#[tokio::test]
async fn get_image_tag_pages_newest_first_capped_at_max_limit() {
    let emu = start().await;
    let first = call(&emu, &WEB).await;
    assert_eq!(
        first.body,
        json!({
            "Action": "GetImageTagResponse",
            "RetCode": 0,
            "TotalCount": 5,
            "TagSet": [
                {"TagName": "v5", "UpdateTime": "2026-11-05 08:00:00"},
                {"TagName": "v4", "UpdateTime": "2026-11-04 08:00:00"},
                {"TagName": "v3", "UpdateTime": "2026-11-03 08:00:00"},
            ]
        })
    );
    let mut params = WEB.to_vec();
    params.extend([("Offset", "3"), ("Limit", "20")]);
    let second = call(&emu, &params).await;
    assert_eq!(tag_names(&second.body), ["v2", "v1"]);
    assert_eq!(second.body["TagSet"][1]["Digest"], "sha256:1");
    params[3] = ("Offset", "5");
    let past_end = call(&emu, &params).await;
    assert_eq!(tag_names(&past_end.body), Vec::<&str>::new());
    assert_eq!(past_end.body["TotalCount"], 5);
}

#[tokio::test]
async fn limit_below_max_limit_and_tag_name_filter() {
    let emu = start().await;
    let mut params = WEB.to_vec();
    params.extend([("Offset", "1"), ("Limit", "2")]);
    assert_eq!(tag_names(&call(&emu, &params).await.body), ["v4", "v3"]);

    let mut params = WEB.to_vec();
    params.push(("TagName", "v2"));
    let one = call(&emu, &params).await;
    assert_eq!(tag_names(&one.body), ["v2"]);
    assert_eq!(one.body["TotalCount"], 1);
    params[3] = ("TagName", "v9");
    let none = call(&emu, &params).await;
    assert_eq!(none.body["RetCode"], 0);
    assert_eq!(none.body["TotalCount"], 0);
    assert_eq!(tag_names(&none.body), Vec::<&str>::new());
}

#[tokio::test]
async fn get_query_json_body_and_go_style_query_action_all_work() {
    let emu = start().await;
    let expected = call(&emu, &WEB).await.body;
    let pairs = signed(&WEB, PUB, PRI);
    let client = reqwest::Client::new();

    let query = serde_urlencoded::to_string(&pairs).unwrap();
    let get = client
        .get(format!("{}/?{query}", emu.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(into_answer(get).await.body, expected);

    let object: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let json_post = client
        .post(format!("{}/", emu.url()))
        .header("content-type", "application/json")
        .body(Value::Object(object).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(into_answer(json_post).await.body, expected);

    let form = serde_urlencoded::to_string(&pairs).unwrap();
    let go_style = client
        .post(format!("{}/?Action=GetImageTag", emu.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(into_answer(go_style).await.body, expected);
}

#[tokio::test]
async fn json_numbers_are_signed_as_their_text() {
    let emu = start().await;
    let params = [
        ("Action", "GetImageTag"),
        ("ImageName", "web"),
        ("Limit", "2"),
        ("RepoName", "team"),
    ];
    let pairs = signed(&params, PUB, PRI);
    let mut body = json!({});
    for (k, v) in &pairs {
        body[k] = if k == "Limit" { json!(2) } else { json!(v) };
    }
    let response = reqwest::Client::new()
        .post(format!("{}/", emu.url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let answer = into_answer(response).await;
    assert_eq!(tag_names(&answer.body), ["v5", "v4"]);
}

#[tokio::test]
async fn gateway_ret_codes_in_order() {
    let emu = start().await;
    let url = emu.url();
    let raw = |params: &[(&str, &str)]| -> Vec<(String, String)> {
        params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let answer = post_form(&url, &raw(&[("RepoName", "team")])).await;
    assert_ret(&answer, 160, "Missing Action");
    assert_eq!(answer.body["Action"], "Response");
    assert_ret(
        &post_form(&url, &raw(&[("Action", "")])).await,
        160,
        "Missing Action",
    );

    let answer = post_form(&url, &raw(&[("Action", "DeleteEverything")])).await;
    assert_ret(&answer, 161, "Action [DeleteEverything] not found");
    assert_eq!(answer.body["Action"], "DeleteEverythingResponse");

    let unsigned = raw(&[("Action", "GetImageTag"), ("PublicKey", PUB)]);
    assert_ret(&post_form(&url, &unsigned).await, 170, "Missing Signature");

    let unknown_key = signed(&WEB, "pub-nobody", PRI);
    assert_ret(&post_form(&url, &unknown_key).await, 172, "User Not Exists");
    let mut no_key = signed(&WEB, PUB, PRI);
    no_key.retain(|(k, _)| k != "PublicKey");
    assert_ret(&post_form(&url, &no_key).await, 172, "User Not Exists");

    let wrong_private = signed(&WEB, PUB, "pri-other");
    let answer = post_form(&url, &wrong_private).await;
    assert_ret(&answer, 171, "Signature VerifyAC Error");
    assert_eq!(answer.body["Action"], "GetImageTagResponse");

    // The signature covers every received parameter, including ones added afterwards.
    let mut tampered = signed(&WEB, PUB, PRI);
    tampered.push(("Limit".into(), "1".into()));
    assert_ret(
        &post_form(&url, &tampered).await,
        171,
        "Signature VerifyAC Error",
    );
    let other_user = signed(&WEB, "pub-other", "pri-other");
    assert_eq!(post_form(&url, &other_user).await.body["RetCode"], 0);
}

#[tokio::test]
async fn product_parameter_errors_name_the_parameter() {
    let emu = start().await;
    let cases: [(Params, i64, &str); 9] = [
        (
            &[("Action", "GetImageTag"), ("ImageName", "web")],
            220,
            "Missing params [RepoName]",
        ),
        (
            &[
                ("Action", "GetImageTag"),
                ("RepoName", "team"),
                ("ImageName", ""),
            ],
            220,
            "Missing params [ImageName]",
        ),
        (
            &[
                ("Action", "GetImageTag"),
                ("RepoName", "team"),
                ("ImageName", "web"),
                ("Limit", "0"),
            ],
            230,
            "Params [Limit] not available: must be at least 1",
        ),
        (
            &[
                ("Action", "GetImageTag"),
                ("RepoName", "team"),
                ("ImageName", "web"),
                ("Offset", "x"),
            ],
            230,
            "Params [Offset] not available: \"x\" is not a non-negative integer",
        ),
        (
            &[
                ("Action", "GetImageTag"),
                ("RepoName", "nope"),
                ("ImageName", "web"),
            ],
            230,
            "Params [RepoName] not available: repo \"nope\" not found",
        ),
        (
            &[
                ("Action", "GetImageTag"),
                ("RepoName", "team"),
                ("ImageName", "nope"),
            ],
            230,
            "Params [ImageName] not available: image \"team/nope\" not found",
        ),
        (
            &[
                ("Action", "GetImageTag"),
                ("RepoName", "secret"),
                ("ImageName", "vault"),
            ],
            220,
            "Missing params [ProjectId]: image \"secret/vault\" is in project \"org-1\"",
        ),
        (
            &[
                ("Action", "GetImageTag"),
                ("RepoName", "secret"),
                ("ImageName", "vault"),
                ("ProjectId", "org-2"),
            ],
            230,
            "Params [ProjectId] not available: image \"secret/vault\" is not in project \"org-2\"",
        ),
        (
            &[("Action", "GetRepoImage"), ("RepoName", "nope")],
            230,
            "Params [RepoName] not available: repo \"nope\" not found",
        ),
    ];
    for (params, ret_code, message) in cases {
        assert_ret(&call(&emu, params).await, ret_code, message);
    }
    let mut in_project = vec![("Action", "GetImageTag"), ("RepoName", "secret")];
    in_project.extend([("ImageName", "vault"), ("ProjectId", "org-1")]);
    assert_eq!(tag_names(&call(&emu, &in_project).await.body), ["s1"]);
}

#[tokio::test]
async fn malformed_bodies_get_ret_code_230() {
    let emu = start().await;
    let response = reqwest::Client::new()
        .post(format!("{}/", emu.url()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let answer = into_answer(response).await;
    assert_eq!(answer.body["RetCode"], 230);
    let message = answer.body["Message"].as_str().unwrap();
    assert!(
        message.starts_with("Params [Body] not available: JSON body: "),
        "{message}"
    );
}

#[tokio::test]
async fn get_repo_and_get_repo_image_list_the_same_data() {
    let emu = start().await;
    let repos = call(&emu, &[("Action", "GetRepo")]).await.body;
    assert_eq!(repos["Action"], "GetRepoResponse");
    assert_eq!(
        repos["TotalCount"], 1,
        "images in a project stay hidden: {repos}"
    );
    assert_eq!(repos["RepoSet"][0]["RepoName"], "team");
    assert_eq!(repos["RepoSet"][0]["UpdateTime"], "2026-11-05 08:00:00");
    let with_project = call(&emu, &[("Action", "GetRepo"), ("ProjectId", "org-1")]).await;
    let names: Vec<_> = with_project.body["RepoSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["RepoName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["secret", "team"]);

    let images = call(&emu, &[("Action", "GetRepoImage"), ("RepoName", "team")]).await;
    assert_eq!(images.body["Action"], "GetRepoImageResponse");
    assert_eq!(images.body["TotalCount"], 2);
    let set = &images.body["ImageSet"];
    assert_eq!(set[0]["ImageName"], "api");
    assert_eq!(set[0]["LatestTag"], "a1");
    assert_eq!(set[1]["ImageName"], "web");
    assert_eq!(set[1]["LatestTag"], "v5");
    assert_eq!(set[1]["UpdateTime"], "2026-11-05 08:00:00");
    assert_eq!(set[1]["RepoName"], "team");

    let paged = call(
        &emu,
        &[
            ("Action", "GetRepoImage"),
            ("RepoName", "team"),
            ("Offset", "1"),
        ],
    )
    .await;
    assert_eq!(paged.body["ImageSet"].as_array().unwrap().len(), 1);
    assert_eq!(paged.body["ImageSet"][0]["ImageName"], "web");
}

#[tokio::test]
async fn unix_format_renders_json_numbers() {
    let emu = Emulator::builder()
        .fixture_yaml(FIXTURE)
        .unwrap()
        .update_time_format(UpdateTimeFormat::Unix)
        .spawn()
        .await
        .unwrap();
    let answer = call(&emu, &WEB).await;
    // 2026-11-05 08:00:00 at UTC+08:00
    assert_eq!(answer.body["TagSet"][0]["UpdateTime"], json!(1_793_836_800));
    let images = call(&emu, &[("Action", "GetRepoImage"), ("RepoName", "team")]).await;
    assert_eq!(
        images.body["ImageSet"][1]["UpdateTime"],
        json!(1_793_836_800)
    );
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_uuid() {
    let emu = start().await;
    let client = reqwest::Client::new();
    let mut seen = std::collections::HashSet::new();
    let ok = call(&emu, &WEB).await;
    let error = post_form(&emu.url(), &[]).await;
    for answer in [ok, error] {
        let id = answer.request_uuid.expect("X-UCLOUD-REQUEST-UUID");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert!(seen.insert(id));
    }
    for path in ["/_emulator/stats", "/elsewhere"] {
        let response = client
            .get(format!("{}{path}", emu.url()))
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-ucloud-request-uuid"]
            .to_str()
            .unwrap();
        assert!(seen.insert(id.to_string()));
    }
    let put = client.put(format!("{}/", emu.url())).send().await.unwrap();
    assert_eq!(put.status(), 405);
    assert!(put.headers().contains_key("x-ucloud-request-uuid"));
}

#[tokio::test]
async fn in_process_state_changes_are_served() {
    let emu = start().await;
    emu.state()
        .store()
        .upsert_tag("team", "web", "v6", 1_900_000_000, None);
    assert_eq!(tag_names(&call(&emu, &WEB).await.body)[0], "v6");
    let stats = emu.state().stats().snapshot();
    assert_eq!(stats.total, 1);
    assert_eq!(stats.by_action["GetImageTag"], 1);
    emu.shutdown().await.unwrap();
}
