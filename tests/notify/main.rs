//! Webhook notifications end to end: the real operator, the local control plane and
//! receivers started by the tests.

use tagwatch::testing::env::Env;

mod chat;
mod cloudevents;
mod delivery;
mod isolation;
mod private_ca;
mod restart;

/// An env for a notification test: images of `team` with one old tag, `v1`, each, the
/// UCloud keys, and no operator yet (each test starts its own, with the flags it needs).
async fn env(prefix: &str, images: &[&str]) -> Env {
    let env = Env::builder(prefix)
        .images(images)
        .tags(&[("v1", "2020-01-01 00:00:00")])
        .without_operator()
        .start()
        .await;
    env.apply_valid_secret().await;
    env
}
