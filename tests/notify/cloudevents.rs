//! `format: cloudevents` end to end, with the official CloudEvents Python SDK as the
//! receiver: structured and binary mode deliveries are events the SDK parses and
//! validates, with the attributes docs/notifications.md promises and today's JSON body
//! as their data; a structured event is signed as a whole.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use tagwatch::testing::env::{A_FEW_ATTEMPTS, condition};
use testkit::eventually;
use testkit::receiver::cloudevents::SdkReceiver;

use crate::delivery::schema;

const TOKEN: &str = "cloudevents-test-token-7d2a";

#[tokio::test(flavor = "multi_thread")]
async fn the_cloudevents_sdk_accepts_structured_and_binary_deliveries() {
    let env = crate::env("notify-ce", &["web"]).await;
    let receiver = SdkReceiver::start();
    env.hook_secret("structured", &receiver.url, Some(TOKEN))
        .await;
    env.hook_secret("binary", &receiver.url, None).await;
    let notify = json!([
        {"secretRef": {"name": "structured"}, "format": "cloudevents"},
        {"secretRef": {"name": "binary"}, "format": "cloudevents",
         "cloudEventsMode": "binary", "events": ["NewTag"]},
    ]);
    env.tagwatch_notifying("web", "web", notify).await;
    let _operator = env.operator_process(&[]);
    env.wait_idle("web").await;

    env.push_to("web", "v2", Some("2027-01-01 00:00:00")).await;
    env.annotate_poll("web").await;
    eventually("three events", A_FEW_ATTEMPTS, || async {
        (receiver.accepted().len() >= 3)
            .then_some(())
            .ok_or(format!("{:#?}", receiver.records()))
    })
    .await;
    env.wait_idle("web").await;

    let records = receiver.records();
    let refused: Vec<&Value> = records.iter().filter(|r| !r["error"].is_null()).collect();
    assert!(refused.is_empty(), "refused by the SDK: {refused:#?}");
    let tw = env.tagwatches().get("web").await.unwrap();
    let source = format!(
        "/apis/tagwatch.dev/v1alpha1/namespaces/{}/tagwatches/web",
        env.name()
    );
    let mut seen = Vec::new();
    for record in &records {
        let attributes = &record["attributes"];
        let data = &record["data"];
        let errors: Vec<String> = schema().iter_errors(data).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{data:#}\n{errors:?}");
        let kind = data["type"].as_str().unwrap();
        let event_type = match kind {
            "NewTag" => "dev.tagwatch.tag.new",
            "LatestTagChanged" => "dev.tagwatch.latest.changed",
            other => panic!("unexpected {other}"),
        };
        assert_eq!(attributes["specversion"], "1.0");
        assert_eq!(attributes["id"], data["deliveryId"]);
        assert_eq!(attributes["source"], source.as_str());
        assert_eq!(attributes["type"], event_type);
        assert_eq!(attributes["subject"], "team/web");
        assert_eq!(attributes["datacontenttype"], "application/json");
        // The SDK reads `time` as a timestamp (to the microsecond).
        let time = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
        let skew = time(&attributes["time"]).duration_since(time(&data["timestamp"]));
        assert!(
            skew.abs() < jiff::SignedDuration::from_micros(1),
            "{record:#}"
        );
        let headers = &record["headers"];
        assert_eq!(headers["x-tagwatch-delivery"], data["deliveryId"]);
        let mode = record["mode"].as_str().unwrap();
        match mode {
            "structured" => {
                assert_eq!(
                    headers["content-type"],
                    "application/cloudevents+json; charset=UTF-8"
                );
                // The whole event is signed.
                let body = record["body"].as_str().unwrap();
                let mut mac = Hmac::<Sha256>::new_from_slice(TOKEN.as_bytes()).unwrap();
                mac.update(body.as_bytes());
                let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                assert_eq!(headers["x-signature"], expected.as_str());
            }
            "binary" => {
                assert_eq!(headers["content-type"], "application/json");
                assert_eq!(headers["ce-id"], data["deliveryId"]);
                assert!(headers.get("x-signature").is_none());
            }
            other => panic!("unexpected mode {other}"),
        }
        seen.push((mode.to_string(), kind.to_string()));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen,
        [
            ("binary".to_string(), "NewTag".to_string()),
            ("structured".to_string(), "LatestTagChanged".to_string()),
            ("structured".to_string(), "NewTag".to_string()),
        ]
    );
    let notified = condition(&tw, "Notified").unwrap();
    assert_eq!(notified.reason, "Delivered", "{notified:?}");
}
