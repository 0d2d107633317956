//! Which events of the Secret metadata watch are changes. The watch's listings (at
//! start, and again after every reconnect) replay every Secret; only a Secret that is
//! new or has another `resourceVersion` than when last seen is a change. Treating a
//! replayed Secret as changed would drop its cached credentials and re-poll every
//! TagWatch using it, each time the operator starts or the watch reconnects.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::PartialObjectMeta;
use kube::runtime::watcher::Event;

/// The Secrets seen so far, by namespace and name, with their `resourceVersion`.
#[derive(Debug, Default)]
pub struct SecretVersions {
    versions: HashMap<(String, String), String>,
    /// Whether a first listing completed: later listings may bring Secrets created
    /// while the watch was disconnected, which are changes.
    listed: bool,
}

impl SecretVersions {
    /// The Secret the event changed, if it is a change.
    pub fn change(
        &mut self,
        event: Event<PartialObjectMeta<Secret>>,
    ) -> Option<PartialObjectMeta<Secret>> {
        match event {
            Event::Init => None,
            Event::InitDone => {
                self.listed = true;
                None
            }
            Event::InitApply(secret) => {
                let previous = self.remember(&secret);
                let changed = match previous {
                    Some(previous) => Some(previous) != secret.metadata.resource_version,
                    None => self.listed,
                };
                changed.then_some(secret)
            }
            Event::Apply(secret) => {
                let previous = self.remember(&secret);
                (previous.is_none() || previous != secret.metadata.resource_version)
                    .then_some(secret)
            }
            Event::Delete(secret) => {
                self.versions.remove(&key(&secret));
                Some(secret)
            }
        }
    }

    /// Records the Secret's version; returns the one seen before.
    fn remember(&mut self, secret: &PartialObjectMeta<Secret>) -> Option<String> {
        let version = secret.metadata.resource_version.clone().unwrap_or_default();
        self.versions.insert(key(secret), version)
    }
}

fn key(secret: &PartialObjectMeta<Secret>) -> (String, String) {
    (
        secret.metadata.namespace.clone().unwrap_or_default(),
        secret.metadata.name.clone().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(name: &str, version: &str) -> PartialObjectMeta<Secret> {
        let mut secret = PartialObjectMeta::<Secret>::default();
        secret.metadata.namespace = Some("team".into());
        secret.metadata.name = Some(name.into());
        secret.metadata.resource_version = Some(version.into());
        secret
    }

    fn changed(versions: &mut SecretVersions, event: Event<PartialObjectMeta<Secret>>) -> bool {
        versions.change(event).is_some()
    }

    #[test]
    fn the_first_listing_changes_nothing() {
        let mut versions = SecretVersions::default();
        assert!(!changed(&mut versions, Event::Init));
        assert!(!changed(
            &mut versions,
            Event::InitApply(secret("keys", "1"))
        ));
        assert!(!changed(&mut versions, Event::InitDone));
    }

    #[test]
    fn watched_creates_updates_and_deletes_are_changes() {
        let mut versions = SecretVersions::default();
        versions.change(Event::InitApply(secret("keys", "1")));
        versions.change(Event::InitDone);
        assert!(changed(&mut versions, Event::Apply(secret("new", "2"))));
        assert!(changed(&mut versions, Event::Apply(secret("keys", "3"))));
        assert!(
            !changed(&mut versions, Event::Apply(secret("keys", "3"))),
            "the same version again is no change"
        );
        assert!(changed(&mut versions, Event::Delete(secret("keys", "3"))));
    }

    #[test]
    fn a_relisting_reports_what_changed_while_disconnected() {
        let mut versions = SecretVersions::default();
        for event in [
            Event::Init,
            Event::InitApply(secret("same", "1")),
            Event::InitApply(secret("rotated", "1")),
            Event::InitDone,
        ] {
            versions.change(event);
        }
        assert!(!changed(&mut versions, Event::Init));
        assert!(!changed(
            &mut versions,
            Event::InitApply(secret("same", "1"))
        ));
        assert!(changed(
            &mut versions,
            Event::InitApply(secret("rotated", "5"))
        ));
        assert!(changed(
            &mut versions,
            Event::InitApply(secret("created", "6"))
        ));
        assert!(!changed(&mut versions, Event::InitDone));
    }
}
