//! Notifications survive an operator killed with SIGKILL: they were recorded in status
//! before any attempt, and the restarted operator delivers them with the same delivery
//! ids, each delivered once.

use std::collections::BTreeMap;

use serde_json::json;

use tagwatch::testing::env::A_FEW_ATTEMPTS;
use testkit::receiver::{Mode, Receiver};

#[tokio::test(flavor = "multi_thread")]
async fn pending_deliveries_survive_a_killed_operator() {
    let env = crate::env("notify-restart", &["web"]).await;
    let receiver = Receiver::start(Mode::Unavailable).await;
    env.hook_secret("hook", &receiver.url, Some("restart-token"))
        .await;
    env.tagwatch_notifying("web", "web", json!([{"secretRef": {"name": "hook"}}]))
        .await;
    let mut operator = env.operator_process(&[]);
    env.wait_idle("web").await;

    env.push_to("web", "v2", Some("2027-01-01 00:00:00")).await;
    env.annotate_poll("web").await;
    let recorded = env
        .wait_for("web", "two notifications tried", A_FEW_ATTEMPTS, |tw| {
            let pending = &tw.status.as_ref().unwrap().pending_notifications;
            (pending.len() == 2 && pending.iter().all(|n| n.attempts >= 1))
                .then(|| pending.clone())
                .ok_or(format!("{:?}", tw.status))
        })
        .await;
    operator.kill();
    let tried_before_kill = receiver.received().len();
    assert!(tried_before_kill >= 2);
    assert!(receiver.accepted().is_empty());

    receiver.set_mode(Mode::Accept);
    let _restarted = env.operator_process(&[]);
    env.wait_idle("web").await;

    let mut per_id: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for request in receiver.received() {
        let body = request.json();
        let id = body["deliveryId"].as_str().unwrap().to_string();
        let recorded = recorded
            .iter()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("{id} was not recorded before the kill"));
        assert_eq!(request.body, recorded.body, "the recorded body is sent");
        let entry = per_id.entry(id).or_default();
        entry.0 += 1;
        if request.answered == Some(200) {
            entry.1 += 1;
        }
    }
    assert_eq!(per_id.len(), 2, "one delivery id per event: {per_id:?}");
    for (id, (tries, delivered)) in per_id {
        assert!(tries >= 2, "{id} tried before and after the restart");
        assert_eq!(delivered, 1, "{id} delivered once");
    }
}
