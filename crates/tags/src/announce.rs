//! The announcements a poll makes, decided from its [`Observation`]; the controller
//! publishes each as a Kubernetes event of the same reason.
//!
//! In this order:
//!
//! - `InitialSync` on the first sync only, "found N tags, latest X", and nothing else:
//!   tags that already existed are not announced one by one;
//! - `NewTag`, one per new tag naming it and its `updateTime`, or one announcement listing
//!   the names when more than [`AGGREGATE_ABOVE`] tags are new; `TagUpdated` and
//!   `TagRemoved` likewise; each list keeps the order of [`Changes`](super::diff::Changes);
//! - `LatestTagChanged`, "old -> new", when the policy's pick changed.
//!
//! Every note fits Kubernetes' limit of [`NOTE_LIMIT_BYTES`]: long lists end with
//! "... and N more", and any longer note is cut (on a character boundary) and ends with
//! "..." ([`fit`]).
//!
//! Each announcement has a key naming what it announces, for publishers that name events
//! after it so that publishing the same announcement twice (say, after a restart between
//! publishing and writing status) creates one event. Keys are built from [`revision`]
//! digests of the tags concerned: a per-tag announcement's key is the digest of that tag
//! (for `TagUpdated`, of the old and then the new tag), a listing's key is the digest of
//! the listed tags, `InitialSync` and `LatestTagChanged` keys include the digest of the
//! full tracked set. So a key comes again only for the same change of the same tags (or,
//! for `LatestTagChanged`, the same pick over the same tag set, as when a policy edit is
//! undone).

use super::Tag;
use super::diff::TagUpdate;
use super::observe::Observation;
use super::revision::revision;

/// The most bytes Kubernetes accepts in an event note.
pub const NOTE_LIMIT_BYTES: usize = 1024;

/// Up to this many tags get one event each; more get one event listing them.
pub const AGGREGATE_ABOVE: usize = 5;

/// What an announcement reports.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
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
}

/// One announcement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    /// What it reports.
    pub reason: Reason,
    /// The human-readable note, at most [`NOTE_LIMIT_BYTES`] bytes.
    pub note: String,
    /// What it announces, see the module documentation.
    pub key: String,
}

/// The announcements of `seen`, in the order of the module documentation.
pub fn announcements(seen: &Observation) -> Vec<Announcement> {
    let changes = &seen.changes;
    if changes.initial {
        let key = format!("initial {}", seen.revision);
        return vec![announce(Reason::InitialSync, initial_note(seen), key)];
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
    if seen.latest_changed() {
        let (old, new) = (seen.previous_latest.as_deref(), seen.latest_name());
        let note = format!("{} -> {}", old.unwrap_or("(none)"), new.unwrap_or("(none)"));
        let key = format!("{old:?} -> {new:?} {}", seen.revision);
        events.push(announce(Reason::LatestTagChanged, note, key));
    }
    events
}

fn announce(reason: Reason, note: String, key: String) -> Announcement {
    Announcement {
        reason,
        note: fit(note),
        key,
    }
}

fn initial_note(seen: &Observation) -> String {
    let count = seen.tracked.len();
    let found = match count {
        1 => "found 1 tag".to_string(),
        n => format!("found {n} tags"),
    };
    match (seen.latest_name(), count) {
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
        let list = listing(&head, &names, 0, NOTE_LIMIT_BYTES);
        events.push(announce(reason, list, T::key(items)));
    } else {
        events.extend(items.iter().map(|item| {
            let key = T::key(std::slice::from_ref(item));
            announce(reason, note(item), key)
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
/// as many names as fit followed by " ... and N more" for the rest. `omitted` more
/// items that have no name to list are counted in that suffix too (which then always
/// ends the listing). `head` must leave room for the suffix.
pub fn listing(head: &str, names: &[&str], omitted: usize, limit: usize) -> String {
    let total = names.len() + omitted;
    let full = format!("{head} {}", names.join(", "));
    if full.len() <= limit && omitted == 0 {
        return full;
    }
    let reserve = format!(" ... and {total} more").len();
    let mut note = head.to_string();
    for (i, name) in names.iter().enumerate() {
        let separator = if i == 0 { " " } else { ", " };
        if note.len() + separator.len() + name.len() + reserve > limit {
            note.push_str(&format!(" ... and {} more", total - i));
            return note;
        }
        note.push_str(separator);
        note.push_str(name);
    }
    note.push_str(&format!(" ... and {omitted} more"));
    note
}

/// `note` cut to at most [`NOTE_LIMIT_BYTES`] bytes on a character boundary, ending with
/// "..." when cut.
pub fn fit(note: String) -> String {
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
