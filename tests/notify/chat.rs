//! The chat formats end to end, each against a receiver playing the service
//! (`testkit::receiver::chat`): it checks the body against the service's documented
//! message schema and verifies the signature exactly as the service documents it. A
//! wrong signing secret is refused, and the refusals Feishu, DingTalk and WeCom send
//! inside an HTTP 200 answer (and Slack's 429) count as failed attempts.

use serde_json::{Value, json};

use tagwatch::api::v1alpha1::TagWatch;
use tagwatch::testing::env::A_FEW_ATTEMPTS;
use testkit::eventually;
use testkit::receiver::{Mode, Receiver, Service};

const SECRET: &str = "SECchat-test-secret-5f0c";
const WRONG: &str = "SECnot-the-robots-secret";

/// One target: the service the receiver plays, how it answers, the `format`, and the
/// `secret` of the target's Secret.
struct Case {
    service: Service,
    mode: Mode,
    format: &'static str,
    secret: Option<&'static str>,
}

fn case(service: Service, mode: Mode, format: &'static str, secret: Option<&'static str>) -> Case {
    Case {
        service,
        mode,
        format,
        secret,
    }
}

/// The last error of the pending notification of target `index`.
fn last_error(tw: &TagWatch, index: i32) -> Option<String> {
    let status = tw.status.as_ref()?;
    let pending = status
        .pending_notifications
        .iter()
        .find(|n| n.target == index)?;
    pending
        .last_error
        .as_ref()
        .map(|e| format!("{}: {}", e.reason, e.message))
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_formats_are_taken_signed_and_in_200_refusals_are_failures() {
    let robot = Some(SECRET.to_string());
    let cases = [
        case(Service::Slack, Mode::Accept, "slack", None),
        case(Service::Teams, Mode::Accept, "teams", None),
        case(
            Service::Feishu {
                secret: robot.clone(),
            },
            Mode::Accept,
            "feishu",
            Some(SECRET),
        ),
        case(
            Service::DingTalk {
                secret: robot.clone(),
            },
            Mode::Accept,
            "dingtalk",
            Some(SECRET),
        ),
        case(Service::WeCom, Mode::Accept, "wecom", None),
        // A wrong secret, and rate limits.
        case(
            Service::Feishu {
                secret: robot.clone(),
            },
            Mode::Accept,
            "feishu",
            Some(WRONG),
        ),
        case(
            Service::DingTalk {
                secret: robot.clone(),
            },
            Mode::Accept,
            "dingtalk",
            Some(WRONG),
        ),
        case(Service::WeCom, Mode::Throttle, "wecom", None),
        case(Service::Slack, Mode::Throttle, "slack", None),
    ];
    let expected_failures = [
        (
            5,
            "DeliveryFailed: Feishu answered code 19021: sign match fail or timestamp is not within one hour from current time",
        ),
        (
            6,
            "DeliveryFailed: DingTalk answered errcode 310000: sign not match",
        ),
        (
            7,
            "DeliveryFailed: WeCom answered errcode 45009: api freq out of limit",
        ),
        (
            8,
            "DeliveryFailed: HTTP 429 Too Many Requests: rate_limited",
        ),
    ];

    let env = crate::env("notify-chat", &["web"]).await;
    let mut receivers = Vec::new();
    let mut notify = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let receiver = Receiver::start_as(c.service.clone(), c.mode).await;
        let name = format!("robot-{i}");
        let mut data: Vec<(&str, &[u8])> = vec![("url", receiver.url.as_bytes())];
        if let Some(secret) = c.secret {
            data.push(("secret", secret.as_bytes()));
        }
        env.secret(&name, &data).await;
        notify.push(json!({"secretRef": {"name": name}, "format": c.format, "events": ["NewTag"]}));
        receivers.push(receiver);
    }
    env.tagwatch_notifying("web", "web", Value::Array(notify))
        .await;
    let _operator = env.operator_process(&[]);
    env.wait_idle("web").await;
    env.push_to("web", "v2", Some("2027-01-01 00:00:00")).await;
    env.annotate_poll("web").await;

    for (i, receiver) in receivers.iter().enumerate().take(5) {
        eventually(&format!("target {i} delivered"), A_FEW_ATTEMPTS, || async {
            (receiver.accepted().len() == 1)
                .then_some(())
                .ok_or(format!("{:#?}", receiver.received()))
        })
        .await;
    }
    env.wait_for(
        "web",
        "refusals recorded as failures",
        A_FEW_ATTEMPTS,
        |tw| {
            let errors: Vec<(i32, Option<String>)> = expected_failures
                .iter()
                .map(|(i, _)| (*i, last_error(tw, *i)))
                .collect();
            let all = expected_failures
                .iter()
                .zip(&errors)
                .all(|((_, want), (_, got))| got.as_deref() == Some(*want));
            all.then_some(()).ok_or(format!("{errors:#?}"))
        },
    )
    .await;

    // What the services took.
    let line = "team/web: new tag v2 (latest v2)";
    let taken: Vec<_> = receivers
        .iter()
        .take(5)
        .map(|r| r.accepted()[0].clone())
        .collect();
    for r in &taken {
        assert!(r.header("x-tagwatch-delivery").is_some());
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
    assert!(taken[0].json()["text"].as_str().unwrap().starts_with(line));
    let card = &taken[1].json()["attachments"][0]["content"];
    assert_eq!(card["body"][0]["text"], line);
    let feishu = taken[2].json();
    assert_eq!(feishu["msg_type"], "post");
    assert!(feishu["sign"].is_string() && feishu["timestamp"].is_string());
    assert_eq!(
        feishu["content"]["post"]["zh_cn"]["content"][0][0]["text"],
        line
    );
    let dingtalk = taken[3].json();
    assert_eq!(dingtalk["msgtype"], "markdown");
    assert_eq!(
        dingtalk["msgUuid"].as_str(),
        taken[3].header("x-tagwatch-delivery")
    );
    let query = taken[3].query.clone().unwrap();
    assert!(
        query.contains("&timestamp=") && query.contains("&sign="),
        "{query}"
    );
    assert!(
        dingtalk["markdown"]["text"]
            .as_str()
            .unwrap()
            .contains(line)
    );
    let wecom = taken[4].json();
    assert!(
        wecom["markdown"]["content"]
            .as_str()
            .unwrap()
            .contains(line)
    );

    // The receivers refused the wrong signatures (inside a 200) and throttled.
    for (i, why) in [(5, "sign does not match"), (6, "sign does not match")] {
        let refused = receivers[i].received();
        assert!(!refused.is_empty());
        for r in &refused {
            assert_eq!((r.answered, r.refused.as_deref()), (Some(200), Some(why)));
        }
    }
    assert!(
        receivers[7]
            .received()
            .iter()
            .all(|r| r.answered == Some(200) && !r.delivered)
    );

    // No URL, robot token or secret shows in status.
    let tw = env.tagwatches().get("web").await.unwrap();
    let status = serde_json::to_string(&tw.status).unwrap();
    for r in &receivers {
        let path = r.url.splitn(4, '/').nth(3).unwrap();
        assert!(!status.contains(path), "{status}");
    }
    assert!(!status.contains(SECRET) && !status.contains(WRONG));
}
