//! `format: json`: the JSON document of docs/notification.schema.json, sent as
//! `application/json`. It is also the data of a CloudEvent, and what every chat message
//! is written from.

use serde::{Deserialize, Serialize};

use crate::api::v1alpha1::{NotifyEvent, TagStatus};

/// The body's media type.
pub const CONTENT_TYPE: &str = "application/json";

/// The JSON body of a notification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// The kind of change.
    #[serde(rename = "type")]
    pub type_: NotifyEvent,
    /// Unique per notification and target; the same on every attempt.
    pub delivery_id: String,
    /// When the change was noticed (RFC 3339).
    pub timestamp: String,
    /// The TagWatch that noticed it.
    pub tag_watch: TagWatchIdentity,
    /// `spec.repoName`.
    pub repo: String,
    /// `spec.imageName`.
    pub image: String,
    /// The tags concerned, at most [`MAX_TAGS`](crate::notify::payload::MAX_TAGS): new,
    /// updated (as they are now), removed (as they were), or for `LatestTagChanged` the
    /// new latest tag.
    pub tags: Vec<TagStatus>,
    /// How many tags concerned are not listed in `tags`; absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tags_omitted: usize,
    /// `status.latestTag` after the change; null when the policy selects no tag.
    pub latest_tag: Option<String>,
    /// Only for `LatestTagChanged`: the latest tag before (null when there was none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub previous_latest_tag: Option<Option<String>>,
    /// `status.revision` after the change.
    pub revision: String,
}

/// Which TagWatch a notification comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagWatchIdentity {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its UID.
    pub uid: String,
}

impl Payload {
    /// `repo/image`, how people name the image.
    pub fn subject(&self) -> String {
        format!("{}/{}", self.repo, self.image)
    }

    /// How many tags the change concerns, listed or not.
    pub fn tag_total(&self) -> usize {
        self.tags.len() + self.tags_omitted
    }
}

/// The body of `payload`.
pub fn body(payload: &Payload) -> String {
    serde_json::to_string(payload).expect("a payload always serializes")
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}
