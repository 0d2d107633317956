//! Fixtures of the operator's own types, for its unit tests, integration tests and
//! benchmarks (the `testing` feature, which the crate's dev-dependency on itself turns
//! on): the TagWatch builder ([`TagWatch::test`]), Secrets and notification targets,
//! the tower-test API server ([`fixtures`]), the end-to-end environment ([`env`]) and the
//! scale benchmark's run ([`scale`]). The tools they drive are in the `testkit` crate.

pub mod env;
pub mod fixtures;
pub mod scale;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

use crate::api::RECONCILE_REQUESTED_AT;
use crate::api::v1alpha1::{
    ListingOrder, ListingStatus, NewestPageStatus, NotifyEvent, NotifyFormat, NotifyTarget,
    SecretReference, TagWatch, TagWatchStatus,
};
use crate::controller::conditions;
use crate::controller::failure::FailureReason;

impl TagWatch {
    /// `team/web` (uid `uid-1`, generation 1) watching the UHub image `demo/web` every
    /// minute with the Secret `keys`, with no status yet.
    pub fn test() -> TagWatch {
        serde_json::from_value(json!({
            "apiVersion": "tagwatch.dev/v1alpha1",
            "kind": "TagWatch",
            "metadata": {"name": "web", "namespace": "team", "uid": "uid-1", "generation": 1},
            "spec": {
                "repoName": "demo",
                "imageName": "web",
                "interval": "1m",
                "secretRef": {"name": "keys"},
            },
        }))
        .expect("a valid TagWatch")
    }

    /// The same, named `name`.
    pub fn named(mut self, name: &str) -> TagWatch {
        self.metadata.name = Some(name.to_string());
        self
    }

    /// The same, in namespace `namespace`.
    pub fn in_namespace(mut self, namespace: &str) -> TagWatch {
        self.metadata.namespace = Some(namespace.to_string());
        self
    }

    /// The same with the fields of `spec` (JSON as a user writes it) merged into its spec.
    pub fn with_spec(self, spec: Value) -> TagWatch {
        let mut object = serde_json::to_value(&self).expect("a TagWatch serializes");
        merge(&mut object["spec"], spec);
        serde_json::from_value(object).expect("a valid TagWatch spec")
    }

    /// The same at `metadata.generation` `generation`.
    pub fn generation(mut self, generation: i64) -> TagWatch {
        self.metadata.generation = Some(generation);
        self
    }

    /// The same at `metadata.resourceVersion` `version`.
    pub fn at_version(mut self, version: &str) -> TagWatch {
        self.metadata.resource_version = Some(version.to_string());
        self
    }

    /// The same asking for a poll with the reconcile annotation set to `value`.
    pub fn requesting_poll(mut self, value: &str) -> TagWatch {
        self.metadata
            .annotations
            .get_or_insert_default()
            .insert(RECONCILE_REQUESTED_AT.to_string(), value.to_string());
        self
    }

    /// The same with `status`.
    pub fn with_status(mut self, status: TagWatchStatus) -> TagWatch {
        self.status = Some(status);
        self
    }

    /// The same with a status as a poll at `seconds` (Unix time) left it: its generation
    /// observed, `lastSyncTime` then, and `Ready=True`, or `Ready=False` (`Throttled`).
    pub fn synced(mut self, seconds: i64, ready: bool) -> TagWatch {
        let at = Time(jiff::Timestamp::from_second(seconds).expect("a time"));
        let generation = self.metadata.generation;
        let status = self.status.get_or_insert_default();
        status.observed_generation = generation;
        status.last_sync_time = Some(at.clone());
        if ready {
            conditions::succeeded(&mut status.conditions, "ok", generation, &at);
        } else {
            let reason = FailureReason::Throttled;
            conditions::failed(&mut status.conditions, reason, "slow down", generation, &at);
        }
        self
    }

    /// The same, synced and `Ready=True` at the Unix epoch.
    pub fn ready(self) -> TagWatch {
        self.synced(0, true)
    }

    /// The same with a `status.listing` as a full listing at `seconds` (Unix time) of
    /// the current generation left it: newest first, `total` tags, the newest page at
    /// offset 0 with `digest`.
    pub fn listed(mut self, seconds: i64, total: i64, digest: &str) -> TagWatch {
        let generation = self.metadata.generation;
        self.status.get_or_insert_default().listing = Some(ListingStatus {
            order: ListingOrder::NewestFirst,
            total_count: total,
            newest_page: Some(NewestPageStatus {
                offset: 0,
                digest: digest.to_string(),
            }),
            observed_generation: generation,
            time: Time(jiff::Timestamp::from_second(seconds).expect("a time")),
        });
        self
    }

    /// The same with `status.tagCount` `count`.
    pub fn tag_count(mut self, count: Option<i64>) -> TagWatch {
        self.status.get_or_insert_default().tag_count = count;
        self
    }
}

/// Merges the object `extra` into `base`, key by key (recursively).
pub fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, extra) => *base = extra,
    }
}

/// A Secret whose data holds `entries`.
pub fn secret(entries: &[(&str, &[u8])]) -> Secret {
    Secret {
        data: Some(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
                .collect(),
        ),
        ..Default::default()
    }
}

/// A target of `spec.notify` using the Secret `secret`, for new tags.
pub fn notify_target(secret: &str) -> NotifyTarget {
    NotifyTarget {
        secret_ref: SecretReference {
            name: secret.into(),
            namespace: None,
        },
        events: vec![NotifyEvent::NewTag],
        format: NotifyFormat::Json,
        cloud_events_mode: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::conditions::{READY, find};

    #[test]
    fn the_builder_reads_as_it_is_called() {
        let tw = TagWatch::test()
            .named("api")
            .in_namespace("ops")
            .with_spec(json!({"interval": "10s", "filter": {"include": "^v"}}))
            .generation(3)
            .requesting_poll("now")
            .synced(100, false)
            .tag_count(Some(4));
        assert_eq!(tw.metadata.name.as_deref(), Some("api"));
        assert_eq!(tw.metadata.namespace.as_deref(), Some("ops"));
        assert_eq!(tw.spec.interval, "10s");
        assert_eq!(tw.spec.image_name, "web", "the rest of the spec stays");
        assert_eq!(crate::controller::reconcile_request(&tw), Some("now"));
        let status = tw.status.unwrap();
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(status.tag_count, Some(4));
        let ready = find(&status.conditions, READY).unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "Throttled")
        );
        assert!(TagWatch::test().status.is_none());
    }
}
