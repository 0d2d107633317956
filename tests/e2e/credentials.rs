//! End to end: credentials from Secrets. A missing Secret is reported and picked up
//! as soon as it is created; rotated keys are used from the next poll on; a wrong
//! key is an authentication failure; no key ever shows in status or events.

use serde_json::json;
use tagwatch::api::v1alpha1::TagWatch;
use tagwatch::testing::env::{Env, NEXT_POLL, PROMPTLY, SECRET, ready, status_json, tag_names};

/// Fails when `secret` shows anywhere in `tw`'s status or in its events.
async fn assert_not_disclosed(stack: &Env, tw: &TagWatch, secret: &str) {
    let status = status_json(tw);
    assert!(!status.contains(secret), "status discloses a key: {status}");
    for event in stack.events(&tw.metadata.name.clone().unwrap()).await {
        let note = event.note.unwrap_or_default();
        assert!(!note.contains(secret), "an event discloses a key: {note}");
    }
}

#[tokio::test]
async fn missing_secret_is_reported_and_picked_up_once_created() {
    let stack = Env::start("missing-secret").await;
    // An interval far beyond the deadlines below: only the Secret watch can make
    // the TagWatch Ready in time.
    stack
        .create_tagwatch(
            "web",
            tagwatch::testing::env::spec(json!({"interval": "2m"})),
        )
        .await;
    let tw = stack
        .wait_for_ready("web", "False", "CredentialsNotFound", PROMPTLY)
        .await;
    let message = &ready(&tw).unwrap().message;
    let expected = format!("Secret {}/{SECRET} not found", stack.namespace.name());
    assert!(message.contains(&expected), "{message}");
    assert_eq!(stack.requests().await, 0, "no UCloud request without keys");

    stack.apply_valid_secret().await;
    let tw = stack
        .wait_for_ready("web", "True", "Succeeded", PROMPTLY)
        .await;
    assert_eq!(tag_names(&tw).len(), 3);
    assert_not_disclosed(&stack, &tw, &stack.private_key).await;
}

#[tokio::test]
async fn rotated_credentials_are_used_on_the_next_poll() {
    let stack = Env::start("rotate").await;
    let before = stack.ready_tagwatch("web", json!({})).await;

    // Keys the emulator does not know: the next poll must use them and fail.
    let unknown_private = format!("pri-unknown-{}", uuid::Uuid::new_v4().simple());
    stack
        .apply_secret(SECRET, "pub-unknown", &unknown_private)
        .await;
    let rejected = stack
        .wait_for_ready("web", "False", "AuthenticationFailed", NEXT_POLL)
        .await;
    let message = &ready(&rejected).unwrap().message;
    assert!(message.contains("RetCode 172"), "{message}");
    assert_eq!(tag_names(&rejected), tag_names(&before), "tags are kept");
    assert_not_disclosed(&stack, &rejected, &unknown_private).await;

    // Back to the valid keys: picked up without restarting anything.
    stack.apply_valid_secret().await;
    let tw = stack
        .wait_for_ready("web", "True", "Succeeded", NEXT_POLL)
        .await;
    assert_eq!(
        tw.status.as_ref().unwrap().revision,
        before.status.as_ref().unwrap().revision
    );
    assert_not_disclosed(&stack, &tw, &stack.private_key).await;
}

#[tokio::test]
async fn wrong_private_key_is_an_authentication_failure() {
    let stack = Env::start("wrong-key").await;
    let wrong_private = format!("pri-wrong-{}", uuid::Uuid::new_v4().simple());
    stack
        .apply_secret(SECRET, &stack.public_key, &wrong_private)
        .await;
    stack
        .create_tagwatch("web", tagwatch::testing::env::spec(json!({})))
        .await;
    let tw = stack
        .wait_for_ready("web", "False", "AuthenticationFailed", PROMPTLY)
        .await;
    let message = &ready(&tw).unwrap().message;
    assert!(message.contains("RetCode 171"), "{message}");
    assert!(tag_names(&tw).is_empty());
    let warnings = stack.notes("web", "SyncFailed").await;
    assert!(
        warnings
            .first()
            .is_some_and(|note| note.contains("RetCode 171")),
        "{warnings:?}"
    );
    assert_not_disclosed(&stack, &tw, &wrong_private).await;
}
