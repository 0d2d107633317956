//! Receivers behind a private CA: an HTTPS receiver whose certificate a test CA signed is
//! refused while the target's Secret has no `ca.crt` (only the public roots are
//! trusted), gets the notification once the CA is added, and a `ca.crt` that is not a
//! certificate is an `InvalidTarget` naming the key.

use serde_json::json;

use tagwatch::testing::env::{A_FEW_ATTEMPTS, condition};
use testkit::eventually;
use testkit::receiver::{Mode, Receiver};
use testkit::tls::TestCa;

#[tokio::test(flavor = "multi_thread")]
async fn a_private_ca_in_the_secret_is_trusted_for_that_target() {
    let env = crate::env("notify-ca", &["web", "broken", "empty"]).await;
    let ca = TestCa::new();
    let receiver = Receiver::start_tls(Mode::Accept, &ca).await;
    env.hook_secret("hook", &receiver.url, None).await;
    let not_a_certificate =
        "-----BEGIN CERTIFICATE-----\nc2VjcmV0LWJ5dGVz\n-----END CERTIFICATE-----\n";
    let url = receiver.url.as_bytes();
    env.secret(
        "broken",
        &[("url", url), ("ca.crt", not_a_certificate.as_bytes())],
    )
    .await;
    env.secret("empty", &[("url", url), ("ca.crt", b"no PEM here")])
        .await;
    for name in ["web", "broken", "empty"] {
        let secret = if name == "web" { "hook" } else { name };
        let notify = json!([{"secretRef": {"name": secret}, "events": ["NewTag"]}]);
        env.tagwatch_notifying(name, name, notify).await;
    }
    let _operator = env.operator_process(&[]);
    for name in ["web", "broken", "empty"] {
        env.wait_idle(name).await;
        env.push_to(name, "v2", Some("2027-01-01 00:00:00")).await;
        env.annotate_poll(name).await;
    }

    // Without ca.crt the certificate is not trusted: the handshake fails.
    let message = env
        .wait_for("web", "an untrusted certificate", A_FEW_ATTEMPTS, |tw| {
            let c = condition(tw, "Notified").ok_or("no Notified condition".to_string())?;
            (c.reason == "DeliveryFailed")
                .then(|| c.message.clone())
                .ok_or(format!("{c:?}"))
        })
        .await;
    assert!(message.contains("certificate"), "{message}");
    assert!(receiver.received().is_empty());
    assert!(!receiver.handshake_failures().is_empty());

    // Broken ca.crt values are reported with the key, never the value.
    let ns = env.name();
    for (name, problem) in [
        (
            "broken",
            "the value of key ca.crt is not a valid certificate (invalid peer certificate: BadEncoding)",
        ),
        (
            "empty",
            "the value of key ca.crt holds no PEM CERTIFICATE block",
        ),
    ] {
        let last = format!("failed, last: Secret {ns}/{name}: {problem}");
        env.wait_for(name, "Notified=False InvalidTarget", A_FEW_ATTEMPTS, |tw| {
            let c = condition(tw, "Notified").ok_or("no Notified condition".to_string())?;
            (c.reason == "InvalidTarget" && c.message.ends_with(&last))
                .then_some(())
                .ok_or(format!("{c:?}"))
        })
        .await;
    }

    // With the CA in the Secret, the notification is delivered at once.
    env.secret("hook", &[("url", url), ("ca.crt", ca.pem().as_bytes())])
        .await;
    eventually("the delivery over HTTPS", A_FEW_ATTEMPTS, || async {
        (receiver.accepted().len() == 1)
            .then_some(())
            .ok_or(format!("{:?}", receiver.received()))
    })
    .await;
    env.wait_idle("web").await;
    let tw = env.tagwatches().get("web").await.unwrap();
    assert_eq!(condition(&tw, "Notified").unwrap().reason, "Delivered");
    assert_eq!(receiver.accepted()[0].json()["tags"][0]["name"], "v2");
}
