use super::*;
use crate::api::v1alpha1::NotifyEvent;
use crate::testing::notify_target as target;

fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

fn notification(id: &str, created: i64) -> PendingNotification {
    PendingNotification {
        id: id.into(),
        target: 0,
        secret_name: "hook".into(),
        type_: NotifyEvent::NewTag,
        format: Default::default(),
        cloud_events_mode: None,
        body: format!("{{\"deliveryId\":\"{id}\"}}"),
        attempts: 0,
        created_at: Time(ts(created)),
        next_attempt_at: None,
        last_error: None,
    }
}

fn delivered(id: &str, at: i64) -> AttemptResult {
    AttemptResult {
        id: id.into(),
        finished_at: ts(at),
        failure: None,
    }
}

fn failed(id: &str, at: i64, reason: AttemptReason) -> AttemptResult {
    AttemptResult {
        id: id.into(),
        finished_at: ts(at),
        failure: Some(AttemptFailure::new(reason, "HTTP 503 Service Unavailable")),
    }
}

fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(2u64.pow(attempts))
}

fn rules() -> Rules<'static> {
    Rules {
        max_age: Duration::from_secs(3600),
        backoff: &backoff,
    }
}

fn nothing_in_flight(_: &str) -> bool {
    false
}

fn ids(list: &[PendingNotification]) -> Vec<&str> {
    list.iter().map(|n| n.id.as_str()).collect()
}

#[test]
fn delivered_are_removed_and_failed_count_and_back_off() {
    let mut second = notification("b", 100);
    second.attempts = 2;
    let pending = [notification("a", 100), second, notification("c", 100)];
    let results = [
        delivered("a", 110),
        failed("b", 120, AttemptReason::DeliveryFailed),
        delivered("unknown", 120),
    ];
    let merged = merge(
        &[target("hook")],
        &pending,
        &results,
        &nothing_in_flight,
        ts(130),
        &rules(),
    );
    assert_eq!(merged.delivered, ["a"]);
    assert_eq!(ids(&merged.pending), ["b", "c"]);
    assert!(merged.dropped.is_empty());
    assert_eq!(
        merged.consumed,
        ["a", "b"],
        "a result for an unknown id is kept"
    );
    let b = &merged.pending[0];
    assert_eq!(b.attempts, 3);
    assert_eq!(
        b.next_attempt_at,
        Some(Time(ts(128))),
        "120 + backoff(3) = 8s"
    );
    let error = b.last_error.as_ref().unwrap();
    assert_eq!(
        (error.reason.as_str(), error.message.as_str(), &error.time),
        (
            "DeliveryFailed",
            "HTTP 503 Service Unavailable",
            &Time(ts(120))
        )
    );
    assert_eq!(merged.pending[1], pending[2], "untouched without a result");
}

#[test]
fn too_old_or_targetless_are_given_up_unless_in_flight() {
    let pending = [
        notification("old", 0),
        notification("young", 3000),
        notification("old-in-flight", 0),
    ];
    let in_flight = |id: &str| id == "old-in-flight";
    let merged = merge(
        &[target("hook")],
        &pending,
        &[],
        &in_flight,
        ts(3600),
        &rules(),
    );
    assert_eq!(ids(&merged.pending), ["young", "old-in-flight"]);
    assert_eq!(merged.dropped.len(), 1);
    assert_eq!(
        (
            merged.dropped[0].notification.id.as_str(),
            merged.dropped[0].why
        ),
        ("old", GiveUp::Expired)
    );
    // A failure that makes it too old gives it up with the failure recorded.
    let results = [failed("old-in-flight", 3601, AttemptReason::InvalidTarget)];
    let merged = merge(
        &[target("hook")],
        &pending[2..],
        &results,
        &nothing_in_flight,
        ts(3601),
        &rules(),
    );
    assert_eq!(merged.dropped[0].why, GiveUp::Expired);
    assert_eq!(merged.dropped[0].notification.attempts, 1);
    assert_eq!(
        merged.dropped[0]
            .notification
            .last_error
            .as_ref()
            .unwrap()
            .reason,
        "InvalidTarget"
    );

    let merged = merge(
        &[target("other")],
        &pending[1..2],
        &[],
        &nothing_in_flight,
        ts(3600),
        &rules(),
    );
    assert!(merged.pending.is_empty());
    assert_eq!(merged.dropped[0].why, GiveUp::TargetRemoved);
}

#[test]
fn admission_appends_and_gives_up_the_oldest_beyond_the_caps() {
    let mut merged = Merged {
        pending: (0..MAX_PENDING - 1)
            .map(|i| notification(&format!("p{i}"), 1))
            .collect(),
        ..Merged::default()
    };
    admit(
        &mut merged,
        vec![notification("n1", 2), notification("n2", 2)],
    );
    assert_eq!(merged.pending.len(), MAX_PENDING);
    assert_eq!(merged.pending.last().unwrap().id, "n2");
    assert_eq!(merged.dropped.len(), 1);
    assert_eq!(
        (
            merged.dropped[0].notification.id.as_str(),
            merged.dropped[0].why
        ),
        ("p0", GiveUp::Overflow)
    );

    let mut big = notification("big", 3);
    big.body = "x".repeat(MAX_PENDING_BYTES - 10);
    let mut merged = Merged {
        pending: vec![notification("a", 1)],
        ..Merged::default()
    };
    admit(&mut merged, vec![big, notification("b", 3)]);
    assert_eq!(
        ids(&merged.pending),
        ["b"],
        "bytes over the cap drop the oldest first"
    );
    assert_eq!(merged.dropped.len(), 2);
}

#[test]
fn next_wake_is_the_earliest_future_attempt_or_expiry() {
    let mut waiting = notification("w", 100);
    waiting.next_attempt_at = Some(Time(ts(150)));
    let due_now = notification("d", 100);
    assert_eq!(
        next_wake(
            &[waiting.clone(), due_now.clone()],
            Duration::from_secs(3600),
            ts(120)
        ),
        Some(ts(150))
    );
    assert_eq!(
        next_wake(&[waiting.clone()], Duration::from_secs(30), ts(120)),
        Some(ts(130)),
        "expiry comes before the next attempt"
    );
    assert_eq!(
        next_wake(&[due_now], Duration::from_secs(3600), ts(120)),
        Some(ts(3700))
    );
    assert_eq!(next_wake(&[], Duration::from_secs(3600), ts(120)), None);
}
