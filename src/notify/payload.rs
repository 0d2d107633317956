//! What a poll's changes send: one notification per target and kind of change, whose
//! [`Payload`] (the JSON document of docs/notification.schema.json) is written in the
//! target's format ([`format::body`]). Pure: the caller passes the time and the source
//! of delivery ids.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use strum::VariantArray;

use tags::Tag;
use tags::observe::Observation;

pub use super::format::{Payload, TagWatchIdentity};

use super::format;
use crate::api::v1alpha1::{NotifyEvent, NotifyFormat, PendingNotification, TagStatus, TagWatch};

/// At most this many tags are listed in one notification; `tagsOmitted` counts the rest.
pub const MAX_TAGS: usize = 50;

/// The notifications of one poll: for each target of `spec.notify` and each kind of
/// change it subscribes to that happened, one pending notification with a new id from
/// `new_id`. Nothing on the first sync: tags that already existed are not announced.
pub fn notifications(
    tw: &TagWatch,
    seen: &Observation,
    now: &Time,
    mut new_id: impl FnMut() -> String,
) -> Vec<PendingNotification> {
    if seen.changes.initial || tw.spec.notify.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (index, target) in tw.spec.notify.iter().enumerate() {
        for &kind in NotifyEvent::VARIANTS {
            if !target.events.contains(&kind) {
                continue;
            }
            let Some((tags, previous_latest_tag)) = concerned(kind, seen) else {
                continue;
            };
            let id = new_id();
            let payload = Payload {
                type_: kind,
                delivery_id: id.clone(),
                timestamp: now.0.to_string(),
                tag_watch: identity(tw),
                repo: tw.spec.repo_name.clone(),
                image: tw.spec.image_name.clone(),
                tags_omitted: tags.len().saturating_sub(MAX_TAGS),
                tags: tags
                    .iter()
                    .take(MAX_TAGS)
                    .map(|t| TagStatus::from(*t))
                    .collect(),
                latest_tag: seen.latest.as_ref().map(|t| t.name.clone()),
                previous_latest_tag,
                revision: seen.revision.clone(),
            };
            let mode = target.cloud_events_mode.unwrap_or_default();
            out.push(PendingNotification {
                id,
                target: i32::try_from(index).unwrap_or(i32::MAX),
                secret_name: target.secret_ref.name.clone(),
                type_: kind,
                format: target.format,
                cloud_events_mode: (target.format == NotifyFormat::CloudEvents).then_some(mode),
                body: format::body(target.format, mode, &payload),
                attempts: 0,
                created_at: now.clone(),
                next_attempt_at: None,
                last_error: None,
            });
        }
    }
    out
}

/// The tags a notification of `kind` lists (and for `LatestTagChanged` the previous
/// latest tag), or `None` when nothing of that kind happened.
fn concerned(kind: NotifyEvent, seen: &Observation) -> Option<(Vec<&Tag>, Option<Option<String>>)> {
    let changes = &seen.changes;
    let tags: Vec<&Tag> = match kind {
        NotifyEvent::NewTag => changes.added.iter().collect(),
        NotifyEvent::TagUpdated => changes.updated.iter().map(|u| &u.new).collect(),
        NotifyEvent::TagRemoved => changes.removed.iter().collect(),
        NotifyEvent::LatestTagChanged => {
            if !seen.latest_changed() {
                return None;
            }
            let previous = seen.previous_latest.clone();
            return Some((seen.latest.iter().collect(), Some(previous)));
        }
    };
    (!tags.is_empty()).then_some((tags, None))
}

fn identity(tw: &TagWatch) -> TagWatchIdentity {
    TagWatchIdentity {
        namespace: tw.metadata.namespace.clone().unwrap_or_default(),
        name: tw.metadata.name.clone().unwrap_or_default(),
        uid: tw.metadata.uid.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
