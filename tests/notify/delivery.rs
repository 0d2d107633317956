//! Webhook notifications against a real control plane, the real operator binary, the
//! UHub emulator and a receiver started by the test: a new tag gives one signed delivery
//! whose body matches docs/notification.schema.json; a receiver that is down for a
//! while gets the same deliveries once it is up; notifications that stay undelivered
//! past --notify-max-age give one NotificationFailed event. URLs and tokens never
//! appear in status, events or the operator's log.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use k8s_openapi::api::events::v1::Event;
use serde_json::{Value, json};
use sha2::Sha256;

use tagwatch::testing::env::{A_FEW_ATTEMPTS, Env, condition, pending_count};
use testkit::eventually;
use testkit::receiver::{Mode, Received, Receiver};

const TOKEN: &str = "notify-test-token-4b1e";

pub fn schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/notification.schema.json");
    let text = std::fs::read_to_string(path).expect("docs/notification.schema.json");
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("a valid schema")
}

/// Asserts that none of `secrets` appears in `text`.
fn assert_hidden(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{what} contains {secret:?}:\n{text}"
        );
    }
}

/// The receiver's URL, its path and `TOKEN`: what must never be shown.
fn secrets_of(receiver: &Receiver) -> [String; 3] {
    let path = receiver.url.splitn(4, '/').nth(3).unwrap().to_string();
    [receiver.url.clone(), path, TOKEN.to_string()]
}

/// Requests a poll and waits until it is handled: one more full reconcile.
async fn one_more_poll(env: &Env, name: &str) {
    env.annotate_poll(name).await;
    let api = env.tagwatches();
    let requested = api
        .get(name)
        .await
        .unwrap()
        .metadata
        .annotations
        .unwrap()["tagwatch.dev/reconcile-requested-at"]
        .clone();
    env.wait_for(name, "the requested poll", A_FEW_ATTEMPTS, |tw| {
        let handled = tw
            .status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.as_ref());
        (handled == Some(&requested))
            .then_some(())
            .ok_or("not yet".to_string())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_tag_gives_one_signed_delivery_matching_the_schema() {
    let env = crate::env("notify-signed", &["web"]).await;
    let receiver = Receiver::start(Mode::Accept).await;
    env.hook_secret("hook", &receiver.url, Some(TOKEN)).await;
    let notify = json!([{"secretRef": {"name": "hook"}, "events": ["NewTag"]}]);
    env.tagwatch_notifying("web", "web", notify).await;
    let operator = env.operator_process(&[]);
    env.wait_idle("web").await;
    assert!(
        receiver.received().is_empty(),
        "the first sync notifies nothing"
    );

    env.push_to("web", "v2", Some("2027-01-01 00:00:00")).await;
    env.annotate_poll("web").await;
    eventually("a delivery", A_FEW_ATTEMPTS, || async {
        (!receiver.accepted().is_empty())
            .then_some(())
            .ok_or("none yet".to_string())
    })
    .await;
    env.wait_idle("web").await;
    one_more_poll(&env, "web").await;

    let received = receiver.received();
    assert_eq!(received.len(), 1, "exactly one delivery: {received:?}");
    let delivery = &received[0];
    let mut mac = Hmac::<Sha256>::new_from_slice(TOKEN.as_bytes()).unwrap();
    mac.update(delivery.body.as_bytes());
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(delivery.header("x-signature"), Some(expected.as_str()));
    assert_eq!(
        delivery.header("x-hub-signature-256"),
        Some(expected.as_str())
    );

    let body = delivery.json();
    let errors: Vec<String> = schema().iter_errors(&body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{body:#}\n{errors:?}");
    assert_eq!(body["type"], "NewTag");
    assert_eq!(
        body["tags"],
        json!([{"name": "v2", "updateTime": "2027-01-01 00:00:00"}])
    );
    assert_eq!(body["latestTag"], "v2");
    assert_eq!(body["repo"], "team");
    assert_eq!(body["tagWatch"]["namespace"], env.name());
    assert_eq!(body["tagWatch"]["name"], "web");
    let tw = env.tagwatches().get("web").await.unwrap();
    let status = tw.status.as_ref().unwrap();
    assert_eq!(
        body["tagWatch"]["uid"],
        tw.metadata.uid.clone().unwrap().as_str()
    );
    assert_eq!(body["revision"], status.revision.clone().unwrap().as_str());
    assert_eq!(
        delivery.header("x-tagwatch-delivery"),
        body["deliveryId"].as_str()
    );
    assert_eq!(delivery.header("x-tagwatch-event"), Some("NewTag"));
    assert_eq!(delivery.header("content-type"), Some("application/json"));
    assert!(
        delivery
            .header("user-agent")
            .unwrap()
            .starts_with("tagwatch/")
    );
    let notified = condition(&tw, "Notified").unwrap();
    assert_eq!(
        (notified.status.as_str(), notified.reason.as_str()),
        ("True", "Delivered")
    );

    let secrets = secrets_of(&receiver);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_hidden(
        "status",
        &serde_json::to_string(&tw.status).unwrap(),
        &secrets,
    );
    assert_hidden("the operator log", &operator.log(), &secrets);
}

/// Requests grouped by delivery id.
fn by_id(received: &[Received]) -> BTreeMap<String, Vec<&Received>> {
    let mut groups: BTreeMap<String, Vec<&Received>> = BTreeMap::new();
    for r in received {
        let id = r.json()["deliveryId"].as_str().unwrap().to_string();
        assert_eq!(r.header("x-tagwatch-delivery"), Some(id.as_str()));
        groups.entry(id).or_default().push(r);
    }
    groups
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_down_for_a_while_gets_each_delivery_once_it_is_up() {
    let env = crate::env("notify-down", &["web"]).await;
    let receiver = Receiver::start(Mode::Unavailable).await;
    env.hook_secret("hook", &receiver.url, Some(TOKEN)).await;
    env.tagwatch_notifying("web", "web", json!([{"secretRef": {"name": "hook"}}]))
        .await;
    let operator = env.operator_process(&[]);
    env.wait_idle("web").await;

    env.push_to("web", "v2", Some("2027-01-01 00:00:00")).await;
    env.annotate_poll("web").await;
    let message = env
        .wait_for(
            "web",
            "two notifications failing twice",
            A_FEW_ATTEMPTS,
            |tw| {
                let pending = &tw.status.as_ref().unwrap().pending_notifications;
                let c = condition(tw, "Notified").ok_or("no Notified condition".to_string())?;
                let failing = pending.len() == 2 && pending.iter().all(|n| n.attempts >= 2);
                (failing && c.reason == "DeliveryFailed")
                    .then(|| c.message.clone())
                    .ok_or(format!("{:?}", tw.status))
            },
        )
        .await;
    assert!(
        message.starts_with("notify[0]: 2 notifications pending, ")
            && message.contains("attempts failed, last: HTTP 503 Service Unavailable"),
        "{message}"
    );

    receiver.set_mode(Mode::Accept);
    env.wait_idle("web").await;
    let received = receiver.received();
    let groups = by_id(&received);
    let kinds: Vec<String> = groups
        .values()
        .map(|g| g[0].json()["type"].as_str().unwrap().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(kinds, ["LatestTagChanged", "NewTag"], "one id per event");
    for (id, group) in &groups {
        assert!(group.len() >= 3, "{id}: tried twice, then delivered");
        assert!(
            group.iter().all(|r| r.body == group[0].body),
            "{id}: same body each time"
        );
        let accepted = group.iter().filter(|r| r.answered == Some(200)).count();
        assert_eq!(accepted, 1, "{id} delivered once");
    }
    let secrets = secrets_of(&receiver);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_hidden("the Notified message", &message, &secrets);
    assert_hidden("the operator log", &operator.log(), &secrets);
}

#[tokio::test(flavor = "multi_thread")]
async fn undelivered_notifications_expire_with_one_warning_event() {
    let env = crate::env("notify-expire", &["web"]).await;
    let receiver = Receiver::start(Mode::Unavailable).await;
    env.hook_secret("hook", &receiver.url, None).await;
    let notify = json!([{"secretRef": {"name": "hook"}, "events": ["NewTag"]}]);
    env.tagwatch_notifying("web", "web", notify).await;
    let _operator = env.operator_process(&["--notify-max-age", "4s"]);
    env.wait_idle("web").await;

    env.push_to("web", "v2", Some("2027-01-01 00:00:00")).await;
    env.annotate_poll("web").await;
    env.wait_for("web", "a failing notification", A_FEW_ATTEMPTS, |tw| {
        (pending_count(tw) == 1)
            .then_some(())
            .ok_or("none pending".to_string())
    })
    .await;
    env.wait_idle("web").await;
    one_more_poll(&env, "web").await;

    let events = env.namespace.api::<Event>();
    let failed: Vec<Event> = events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("NotificationFailed"))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let event = &failed[0];
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(event.action.as_deref(), Some("Notify"));
    let note = event.note.clone().unwrap();
    assert!(
        note.starts_with(
            "gave up 1 notification, not delivered in time (--notify-max-age): NewTag "
        ) && note.contains("to notify[0] after")
            && note.contains("(last: HTTP 503 Service Unavailable)"),
        "{note}"
    );
    let id = receiver.received()[0].json()["deliveryId"].clone();
    assert!(note.contains(id.as_str().unwrap()), "{note} names {id}");
    assert_hidden("the event", &note, &[&receiver.url]);
    let _: Value = id;
}
