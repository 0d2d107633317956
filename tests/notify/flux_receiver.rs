//! tagwatch's signed webhook accepted by a real Flux Receiver: Flux's
//! notification-controller (built from its Go module, with its CRDs from that module)
//! serves a `generic-hmac` Receiver on the local control plane; a notification signed
//! with the Receiver's token makes it annotate its target GitRepository
//! (`reconcile.fluxcd.io/requestedAt`), one signed with another token is refused (HTTP
//! 400) and annotates nothing.

use serde_json::{Value, json};
use tagwatch::testing::env::{A_FEW_ATTEMPTS, NEXT_POLL, condition, shared_control_plane};
use testkit::eventually;
use testkit::gitops::{self, NotificationController};

const TOKEN: &str = "flux-receiver-token";

/// The GitRepository `app` and the generic-hmac Receiver `hmac` targeting it, whose
/// token is in the Secret `webhook-token`.
fn receiver_manifest() -> String {
    json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "webhook-token"},
         "stringData": {"token": TOKEN}},
        {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {"name": "app"},
         "spec": {"url": "https://git.invalid/app.git", "interval": "10m", "ref": {"branch": "main"}}},
        {"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver", "metadata": {"name": "hmac"},
         "spec": {"type": "generic-hmac", "secretRef": {"name": "webhook-token"},
                  "resources": [{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "name": "app"}]}},
    ]})
    .to_string()
}

fn get(namespace: &str, resource: &str, name: &str) -> Value {
    let text = shared_control_plane()
        .kubectl_stdout(&["get", "-n", namespace, resource, name, "-o", "json"]);
    serde_json::from_str(&text).unwrap()
}

fn requested_at(namespace: &str) -> Option<String> {
    let repository = get(namespace, "gitrepository", "app");
    repository["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
        .as_str()
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flux_receiver_accepts_the_signed_webhook_and_refuses_a_wrong_token() {
    let control_plane = shared_control_plane();
    let flux = NotificationController::start(control_plane).await;
    let env = crate::env("flux-receiver", &["web"]).await;
    let ns = env.name().to_string();
    gitops::apply(control_plane, &ns, &receiver_manifest());
    let path = eventually("the Receiver ready", A_FEW_ATTEMPTS, || async {
        let receiver = get(&ns, "receiver", "hmac");
        let ready = receiver["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        match (ready, receiver["status"]["webhookPath"].as_str()) {
            (true, Some(path)) => Ok(path.to_string()),
            _ => Err(format!("{}\n{}", receiver["status"], flux.log())),
        }
    })
    .await;
    let url = format!("{}{path}", flux.receiver_url);
    env.hook_secret("right", &url, Some(TOKEN)).await;
    env.hook_secret("wrong", &url, Some("another-token")).await;
    env.tagwatch_notifying("wrong", "web", json!([{"secretRef": {"name": "wrong"}}]))
        .await;
    let _operator = env.operator_process(&[]);
    env.wait_idle("wrong").await;

    env.push_to("web", "v2", Some("2027-01-01 00:00:00")).await;
    env.annotate_poll("wrong").await;
    let refused = env
        .wait_for("wrong", "a refused attempt", A_FEW_ATTEMPTS, |tw| {
            let pending = &tw.status.as_ref().unwrap().pending_notifications;
            pending
                .iter()
                .find_map(|n| n.last_error.as_ref())
                .map(|e| e.message.clone())
                .ok_or(format!("{pending:?}"))
        })
        .await;
    assert!(refused.starts_with("HTTP 400"), "{refused}");
    assert_eq!(
        requested_at(&ns),
        None,
        "a wrong signature annotates nothing"
    );

    env.tagwatch_notifying("right", "web", json!([{"secretRef": {"name": "right"}}]))
        .await;
    env.wait_idle("right").await;
    env.push_to("web", "v3", Some("2027-01-02 00:00:00")).await;
    env.annotate_poll("right").await;
    let annotated = eventually("the GitRepository annotated", NEXT_POLL, || async {
        requested_at(&ns).ok_or(flux.log())
    })
    .await;
    assert!(!annotated.is_empty());
    let tw = env
        .wait_until("right", "delivered", NEXT_POLL, |tw| {
            let pending = tw.status.as_ref().unwrap().pending_notifications.len();
            (pending == 0)
                .then_some(())
                .ok_or(format!("{pending} pending"))
        })
        .await;
    assert_eq!(condition(&tw, "Notified").unwrap().reason, "Delivered");
    assert!(
        flux.log().contains("payload signature check failed"),
        "{}",
        flux.log()
    );
}
