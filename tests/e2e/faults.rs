//! End to end: failures around the operator. UHub faults injected by the emulator
//! (RetCode 153 and 150, HTTP 502, latency beyond `spec.timeout`, dropped
//! connections) make the TagWatch Ready=False with the documented reason, keep its
//! tags, publish one SyncFailed event per failure, and clear once UHub recovers. An
//! apiserver restarted under a running operator is survived without a restart.

use std::time::Duration;

use serde_json::{Value, json};
use tagwatch::testing::env::{Env, NEXT_POLL, newest_tag_is, ready};
use testkit::controlplane::ControlPlane;

/// A poll's time budget in these tests: failing polls end quickly.
const POLL_TIMEOUT: &str = "2s";

/// Injects `fault` once the TagWatch is Ready, then checks over two failing polls
/// that the failure is reported as `reason` with a message containing `note`, by one
/// SyncFailed event, with the tags kept; then clears the fault and waits for the
/// scheduled retry to recover.
async fn fault_is_reported_once_and_recovered(
    prefix: &str,
    fault: Value,
    reason: &str,
    note: &str,
) {
    let stack = Env::start(prefix).await;
    let healthy = stack
        .ready_tagwatch("web", json!({"timeout": POLL_TIMEOUT}))
        .await;
    let healthy_status = healthy.status.clone().unwrap();

    stack.emulator.set_faults(fault).await;
    // Failing polls at once rather than at the next interval; retries in between
    // on the operator's own backoff only add failing polls.
    let failed = stack.request_poll("web").await;
    let condition = ready(&failed).unwrap();
    assert_eq!(
        (condition.status.as_str(), condition.reason.as_str()),
        ("False", reason),
        "{}",
        condition.message
    );
    assert!(
        condition.message.contains(note),
        "Ready message {:?} lacks {note:?}",
        condition.message
    );
    let still = stack.request_poll("web").await;
    assert_eq!(ready(&still).unwrap().reason, reason);

    let status = still.status.as_ref().unwrap();
    assert_eq!(
        status.tags, healthy_status.tags,
        "a failed poll keeps the tags"
    );
    assert_eq!(status.tag_count, healthy_status.tag_count);
    assert_eq!(status.latest_tag, healthy_status.latest_tag);
    assert_eq!(status.revision, healthy_status.revision);
    assert_eq!(status.last_sync_time, healthy_status.last_sync_time);
    let warnings = stack.notes("web", "SyncFailed").await;
    assert_eq!(
        warnings.len(),
        1,
        "one SyncFailed event for one ongoing failure, got {warnings:#?}"
    );
    assert!(warnings[0].contains(note), "{warnings:?}");

    stack.emulator.clear_faults().await;
    let recovered = stack
        .wait_for_ready("web", "True", "Succeeded", NEXT_POLL)
        .await;
    assert_eq!(
        recovered.status.as_ref().unwrap().revision,
        healthy_status.revision
    );
    let reasons: Vec<String> = stack
        .events("web")
        .await
        .into_iter()
        .map(|e| e.reason.unwrap_or_default())
        .collect();
    assert_eq!(
        reasons,
        ["InitialSync", "SyncFailed"],
        "nothing else to announce"
    );
}

#[tokio::test]
async fn retcode_153_is_throttled() {
    fault_is_reported_once_and_recovered(
        "fault-153",
        json!({"retCode": 153}),
        "Throttled",
        "RetCode 153",
    )
    .await;
}

#[tokio::test]
async fn retcode_150_is_upstream_unavailable() {
    fault_is_reported_once_and_recovered(
        "fault-150",
        json!({"retCode": 150}),
        "UpstreamUnavailable",
        "RetCode 150",
    )
    .await;
}

#[tokio::test]
async fn http_502_is_upstream_unavailable() {
    fault_is_reported_once_and_recovered(
        "fault-502",
        json!({"httpStatus": 502}),
        "UpstreamUnavailable",
        "HTTP 502",
    )
    .await;
}

#[tokio::test]
async fn latency_beyond_the_timeout_is_upstream_unavailable() {
    fault_is_reported_once_and_recovered(
        "fault-latency",
        json!({"latencyMs": 4000}),
        "UpstreamUnavailable",
        "no complete response",
    )
    .await;
}

#[tokio::test]
async fn dropped_connections_are_upstream_unavailable() {
    fault_is_reported_once_and_recovered(
        "fault-reset",
        json!({"resetRate": 1.0}),
        "UpstreamUnavailable",
        "UCloud unavailable",
    )
    .await;
}

#[tokio::test]
async fn operator_survives_an_apiserver_restart() {
    // A control plane of its own: the restart would disturb every other test.
    let control_plane = ControlPlane::start();
    let mut stack = Env::builder("apiserver-restart")
        .on(&control_plane)
        .start()
        .await;
    stack.ready_tagwatch("web", json!({})).await;

    control_plane.restart_apiserver().await;
    stack.push("v2.0.0", Some("2026-12-01 10:00:00")).await;

    let tw = stack
        .wait_until(
            "web",
            "the tag pushed after the restart in status",
            Duration::from_secs(60),
            newest_tag_is("v2.0.0"),
        )
        .await;
    assert_eq!(ready(&tw).unwrap().status, "True");
    assert!(stack.operator().is_running(), "the operator exited");
    let new_tags = stack.notes("web", "NewTag").await;
    assert_eq!(new_tags.len(), 1, "{new_tags:?}");
}
