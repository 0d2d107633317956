//! A notification target that hangs does not delay the polls of other TagWatches, even
//! with one reconcile at a time; a Secret that cannot serve as a target gives a clear
//! `Notified` condition, and fixing it delivers at once.

use std::time::Duration;

use serde_json::json;

use tagwatch::testing::env::{A_FEW_ATTEMPTS, condition, has_tag};
use testkit::eventually;
use testkit::receiver::{Mode, Receiver};

/// The poll interval of every TagWatch (the shortest allowed).
const INTERVAL: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_target_does_not_delay_other_tagwatches() {
    let env = crate::env("notify-hang", &["slow", "fast"]).await;
    let hanging = Receiver::start(Mode::Hang).await;
    let healthy = Receiver::start(Mode::Accept).await;
    env.hook_secret("hanging", &hanging.url, None).await;
    env.hook_secret("healthy", &healthy.url, None).await;
    let hook = |name: &str| json!([{"secretRef": {"name": name}, "events": ["NewTag"]}]);
    env.tagwatch_notifying("slow", "slow", hook("hanging"))
        .await;
    env.tagwatch_notifying("fast", "fast", hook("healthy"))
        .await;
    // One reconcile at a time and attempts that may hang for a minute: a reconcile that
    // waited for a delivery would hold up every other TagWatch.
    let _operator = env.operator_process(&[
        "--concurrency",
        "1",
        "--notify-timeout",
        "60s",
        "--notify-concurrency",
        "2",
    ]);
    env.wait_idle("slow").await;
    env.wait_idle("fast").await;

    env.push_to("slow", "v2", Some("2027-01-01 00:00:00")).await;
    env.annotate_poll("slow").await;
    eventually("the hanging target is called", A_FEW_ATTEMPTS, || async {
        (!hanging.received().is_empty())
            .then_some(())
            .ok_or("not yet".to_string())
    })
    .await;

    // No poll is requested: the regular one (at most interval + 10% jitter away) must
    // find the tag.
    env.push_to("fast", "v2", Some("2027-01-01 00:00:00")).await;
    env.wait_for(
        "fast",
        "fast's new tag",
        INTERVAL + Duration::from_secs(2),
        |tw| has_tag(tw, "v2").then_some(()).ok_or("not yet".to_string()),
    )
    .await;
    eventually("fast's delivery", Duration::from_secs(10), || async {
        (healthy.accepted().len() == 1)
            .then_some(())
            .ok_or(format!("{:?}", healthy.received()))
    })
    .await;
    let slow = env.tagwatches().get("slow").await.unwrap();
    let notified = condition(&slow, "Notified").unwrap();
    assert_eq!(
        (notified.status.as_str(), notified.reason.as_str()),
        ("False", "Pending")
    );
}

/// The entries of a Secret's data.
type SecretData<'a> = &'a [(&'a str, &'a [u8])];

#[tokio::test(flavor = "multi_thread")]
async fn unusable_target_secrets_give_a_clear_condition_until_fixed() {
    let cases: [(&str, SecretData, &str); 4] = [
        (
            "absent",
            &[],
            " not found: create it with the key url (and optionally token, secret, ca.crt)",
        ),
        ("no-url", &[("token", b"t")], ": key url is missing"),
        (
            "ftp-url",
            &[("url", b"ftp://files.example/drop")],
            ": the value of key url must be an http:// or https:// URL with a host",
        ),
        (
            "binary-url",
            &[("url", &[0xff, 0xfe, 0x00])],
            ": the value of key url is not UTF-8 text",
        ),
    ];
    let images: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let env = crate::env("notify-invalid", &images).await;
    let receiver = Receiver::start(Mode::Accept).await;
    for (name, data, _) in &cases {
        if !data.is_empty() {
            env.secret(name, data).await;
        }
        let notify = json!([{"secretRef": {"name": name}, "events": ["NewTag"]}]);
        env.tagwatch_notifying(name, name, notify).await;
    }
    let _operator = env.operator_process(&[]);
    for (name, _, _) in &cases {
        env.wait_idle(name).await;
        env.push_to(name, "v2", Some("2027-01-01 00:00:00")).await;
        env.annotate_poll(name).await;
    }
    for (name, _, problem) in &cases {
        // "notify[0]: 1 notification pending, N attempt(s) failed, last: Secret ns/name..."
        let last = format!("failed, last: Secret {}/{name}{problem}", env.name());
        env.wait_for(name, "Notified=False InvalidTarget", A_FEW_ATTEMPTS, |tw| {
            let c = condition(tw, "Notified").ok_or("no Notified condition".to_string())?;
            let clear = c.message.starts_with("notify[0]: 1 notification pending, ")
                && c.message.ends_with(&last);
            (c.status == "False" && c.reason == "InvalidTarget" && clear)
                .then_some(())
                .ok_or(format!("{c:?}"))
        })
        .await;
    }
    assert!(receiver.received().is_empty());

    // Fixing a Secret delivers at once, whatever the backoff.
    env.hook_secret("no-url", &receiver.url, None).await;
    env.wait_idle("no-url").await;
    let delivered = receiver.accepted();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].json()["tagWatch"]["name"], "no-url");
}
