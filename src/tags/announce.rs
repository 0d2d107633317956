//! The Kubernetes events a poll publishes, decided from its [`Changes`].
//!
//! In this order:
//!
//! - `InitialSync` on the first sync only, "found N tags, latest X", and nothing else:
//!   tags that already existed are not announced one by one;
//! - `NewTag`, one per new tag naming it and its `updateTime`, or one event listing the
//!   names when more than [`AGGREGATE_ABOVE`] tags are new; `TagUpdated` and `TagRemoved`
//!   likewise; each list keeps the order of [`Changes`];
//! - `LatestTagChanged`, "old -> new", when the policy's pick changed.
//!
//! `SyncFailed` (a Warning) is published by the caller with [`sync_failed`] when
//! [`should_report_failure`] says so. Every note fits Kubernetes' limit of
//! [`NOTE_LIMIT_BYTES`]: long lists end with "... and N more", and any longer note is cut
//! (on a character boundary) and ends with "...".
//!
//! Each announcement has a key naming what it announces, for publishers that name events
//! after it so that publishing the same announcement twice (say, after a restart between
//! publishing and writing status) creates one event. Keys are built from [`revision`]
//! digests of the tags concerned: a per-tag event's key is the digest of that tag (for
//! `TagUpdated`, of the old and then the new tag), a listing's key is the digest of the
//! listed tags, `InitialSync` and `LatestTagChanged` keys include the digest of the full
//! tracked set, and `SyncFailed`'s key is its message. So a key comes again only for the
//! same change of the same tags (or, for `LatestTagChanged`, the same pick over the same
//! tag set, as when a policy edit is undone).

use std::fmt;

use super::Tag;
use super::diff::{Changes, TagUpdate};
use super::revision::revision;

/// The most bytes Kubernetes accepts in an event note.
pub const NOTE_LIMIT_BYTES: usize = 1024;

/// Up to this many tags get one event each; more get one event listing them.
pub const AGGREGATE_ABOVE: usize = 5;

/// The reason of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The first successful sync.
    InitialSync,
    /// A new tag, or several.
    NewTag,
    /// A tag's `updateTime` or digest changed.
    TagUpdated,
    /// A tag is gone.
    TagRemoved,
    /// The policy picks another tag.
    LatestTagChanged,
    /// A poll failed.
    SyncFailed,
    /// Webhook notifications were given up.
    NotificationFailed,
}

impl Reason {
    /// The reason as Kubernetes shows it, e.g. `NewTag`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InitialSync => "InitialSync",
            Reason::NewTag => "NewTag",
            Reason::TagUpdated => "TagUpdated",
            Reason::TagRemoved => "TagRemoved",
            Reason::LatestTagChanged => "LatestTagChanged",
            Reason::SyncFailed => "SyncFailed",
            Reason::NotificationFailed => "NotificationFailed",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Something expected happened.
    Normal,
    /// Something went wrong.
    Warning,
}

/// One event to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    /// Why.
    pub reason: Reason,
    /// Normal or Warning.
    pub kind: EventKind,
    /// The human-readable note, at most [`NOTE_LIMIT_BYTES`] bytes.
    pub note: String,
    /// What the event announces, see the module documentation.
    pub key: String,
}

/// What a successful poll found.
#[derive(Clone, Copy, Debug)]
pub struct PollOutcome<'a> {
    /// Compared with the previous sync.
    pub changes: &'a Changes,
    /// `status.latestTag` before this poll.
    pub previous_latest: Option<&'a str>,
    /// The policy's pick now.
    pub latest: Option<&'a str>,
    /// How many tags are tracked now.
    pub tag_count: usize,
    /// The [`revision`] of all tracked tags now.
    pub revision: &'a str,
}

/// The events for `outcome`, in the order of the module documentation.
pub fn announcements(outcome: &PollOutcome<'_>) -> Vec<Announcement> {
    let changes = outcome.changes;
    if changes.initial {
        let key = format!("initial {}", outcome.revision);
        return vec![normal(Reason::InitialSync, initial_note(outcome), key)];
    }
    let mut events = Vec::new();
    per_tag_or_listed(
        &mut events,
        Reason::NewTag,
        &changes.added,
        added_note,
        "new tags",
    );
    per_tag_or_listed(
        &mut events,
        Reason::TagUpdated,
        &changes.updated,
        updated_note,
        "tags updated",
    );
    per_tag_or_listed(
        &mut events,
        Reason::TagRemoved,
        &changes.removed,
        removed_note,
        "tags removed",
    );
    if outcome.previous_latest != outcome.latest {
        let (old, new) = (outcome.previous_latest, outcome.latest);
        let note = format!("{} -> {}", old.unwrap_or("(none)"), new.unwrap_or("(none)"));
        let key = format!("{old:?} -> {new:?} {}", outcome.revision);
        events.push(normal(Reason::LatestTagChanged, note, key));
    }
    events
}

/// How many tags `events` announce as new: one for each `NewTag` event naming a tag,
/// and the count a `NewTag` listing starts with ("7 new tags: ...").
pub fn new_tag_count(events: &[Announcement]) -> usize {
    events
        .iter()
        .filter(|e| e.reason == Reason::NewTag)
        .map(|e| {
            e.note
                .split_once(' ')
                .and_then(|(count, _)| count.parse().ok())
                .unwrap_or(1)
        })
        .sum()
}

/// The Warning event for a failed poll with the user-facing `message`.
pub fn sync_failed(message: &str) -> Announcement {
    Announcement {
        reason: Reason::SyncFailed,
        kind: EventKind::Warning,
        note: fit(message.to_string()),
        key: message.to_string(),
    }
}

/// The Warning event for notifications given up, identified by `key`.
pub fn notification_failed(note: String, key: String) -> Announcement {
    Announcement {
        reason: Reason::NotificationFailed,
        kind: EventKind::Warning,
        note: fit(note),
        key,
    }
}

/// Whether a failure with `message` is to be published, given the message of the failure
/// already reported (`None` when the previous poll succeeded): only when a failure starts
/// or its message changes, not on every retry.
pub fn should_report_failure(previous_message: Option<&str>, message: &str) -> bool {
    previous_message != Some(message)
}

fn normal(reason: Reason, note: String, key: String) -> Announcement {
    Announcement {
        reason,
        kind: EventKind::Normal,
        note: fit(note),
        key,
    }
}

fn initial_note(outcome: &PollOutcome<'_>) -> String {
    let found = match outcome.tag_count {
        1 => "found 1 tag".to_string(),
        n => format!("found {n} tags"),
    };
    match (outcome.latest, outcome.tag_count) {
        (Some(latest), _) => format!("{found}, latest {latest}"),
        (None, 0) => found,
        (None, _) => format!("{found}; the policy selects none of them"),
    }
}

/// A change as announcements name and identify it.
trait Change: Sized {
    /// The name it is listed by.
    fn name(&self) -> &str;
    /// The key of an announcement of `changes`.
    fn key(changes: &[Self]) -> String;
}

impl Change for Tag {
    fn name(&self) -> &str {
        &self.name
    }

    fn key(changes: &[Self]) -> String {
        revision(changes)
    }
}

impl Change for TagUpdate {
    fn name(&self) -> &str {
        &self.new.name
    }

    fn key(changes: &[Self]) -> String {
        let side = |pick: fn(&TagUpdate) -> &Tag| {
            revision(&changes.iter().map(|c| pick(c).clone()).collect::<Vec<_>>())
        };
        format!("{} -> {}", side(|c| &c.old), side(|c| &c.new))
    }
}

fn per_tag_or_listed<T: Change>(
    events: &mut Vec<Announcement>,
    reason: Reason,
    items: &[T],
    note: fn(&T) -> String,
    what: &str,
) {
    if items.len() > AGGREGATE_ABOVE {
        let head = format!("{} {what}:", items.len());
        let names: Vec<&str> = items.iter().map(Change::name).collect();
        let list = listing(&head, &names, NOTE_LIMIT_BYTES);
        events.push(normal(reason, list, T::key(items)));
    } else {
        events.extend(items.iter().map(|item| {
            let key = T::key(std::slice::from_ref(item));
            normal(reason, note(item), key)
        }));
    }
}

fn added_note(tag: &Tag) -> String {
    format!(
        "new tag {} (updateTime {})",
        tag.name,
        shown(&tag.update_time)
    )
}

fn updated_note(update: &TagUpdate) -> String {
    let (old, new) = (&update.old, &update.new);
    let mut parts = Vec::new();
    if old.update_time != new.update_time {
        parts.push(format!(
            "updateTime {} -> {}",
            shown(&old.update_time),
            shown(&new.update_time)
        ));
    }
    if old.digest != new.digest {
        parts.push(format!(
            "digest {} -> {}",
            shown(old.digest.as_deref().unwrap_or("")),
            shown(new.digest.as_deref().unwrap_or(""))
        ));
    }
    format!("tag {} updated: {}", new.name, parts.join(", "))
}

fn removed_note(tag: &Tag) -> String {
    format!("tag {} removed", tag.name)
}

fn shown(value: &str) -> &str {
    if value.is_empty() { "(none)" } else { value }
}

/// `head` and the `names` separated by ", " when that fits in `limit` bytes; otherwise
/// as many names as fit followed by " ... and N more" for the rest. `head` must leave
/// room for that suffix.
fn listing(head: &str, names: &[&str], limit: usize) -> String {
    let full = format!("{head} {}", names.join(", "));
    if full.len() <= limit {
        return full;
    }
    let reserve = format!(" ... and {} more", names.len()).len();
    let mut note = head.to_string();
    for (i, name) in names.iter().enumerate() {
        let separator = if i == 0 { " " } else { ", " };
        if note.len() + separator.len() + name.len() + reserve > limit {
            note.push_str(&format!(" ... and {} more", names.len() - i));
            break;
        }
        note.push_str(separator);
        note.push_str(name);
    }
    note
}

/// `note` cut to at most [`NOTE_LIMIT_BYTES`] bytes on a character boundary, ending with
/// "..." when cut.
fn fit(note: String) -> String {
    cut(note, NOTE_LIMIT_BYTES)
}

/// `text` cut to at most `limit` (> 3) bytes on a character boundary, ending with "..."
/// when cut.
pub fn cut(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit - "...".len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str("...");
    text
}

#[cfg(test)]
#[path = "announce_tests.rs"]
mod tests;
