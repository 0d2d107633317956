//! Change detection between the previous poll, as recorded in status ([`Snapshot`]), and
//! the current full list of tracked tags.
//!
//! # The rule
//!
//! Status keeps only the newest `historyLimit` tags (the window) and the tracked count.
//! With `P` the previous window and `C` the current tracked list:
//!
//! - a tag of `C` is **added** iff its name is not in `P` and either `P` held every
//!   tracked tag (previous count <= window length) or the tag sorts before (newer than)
//!   the oldest tag of `P` in [`newest_first`] order. A tag outside a full window that
//!   is not newer than its oldest tag was already there beyond the window;
//! - a tag of `P` is **removed** iff no tag of `C` has its name;
//! - a tag in both is **updated** iff its raw `updateTime` or its digest changed;
//! - with no previous sync at all the result is only `initial`: what exists then is not
//!   announced tag by tag.
//!
//! The decision reads status only, so a restarted operator announces each tag once: a
//! tag announced by one poll is in the window (or older than its oldest tag) in every
//! later one. Duplicate names count once (the first occurrence, which is the newest in a
//! newest-first list).
//!
//! # Limitations
//!
//! While the window is full (more tracked tags than `historyLimit`), status no longer
//! knows the older tags, so:
//!
//! - a new tag whose `UpdateTime` is older than the window's oldest tag (or equal to it,
//!   with a name sorting after it) is not announced;
//! - an old tag beyond the window that is pushed again (so that it becomes newer) is
//!   announced as added, not as updated, and a removed tag beyond the window is not
//!   announced.
//!
//! Changing the filter changes what is tracked: tags that become tracked count as new by
//! the same rule.

use std::collections::{HashMap, HashSet};

use super::snapshot::Snapshot;
use super::{Tag, newest_first};

/// A tag present before and now, with a different `updateTime` or digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagUpdate {
    /// As recorded in the previous window.
    pub old: Tag,
    /// As now listed.
    pub new: Tag,
}

/// What changed since the previous poll.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// New tags, in current (newest first) order.
    pub added: Vec<Tag>,
    /// Changed tags, in current order.
    pub updated: Vec<TagUpdate>,
    /// Tags gone from the previous window, in window order.
    pub removed: Vec<Tag>,
    /// There was no previous sync; the lists above are then empty.
    pub initial: bool,
}

impl Changes {
    /// True when nothing is to be announced.
    pub fn is_empty(&self) -> bool {
        !self.initial && self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }
}

/// Compares `current` (the full tracked list, newest first) with the `previous` sync, or
/// with nothing when there was none. See the module documentation for the rule.
pub fn diff(previous: Option<Snapshot<'_>>, current: &[Tag]) -> Changes {
    let Some(previous) = previous else {
        return Changes {
            initial: true,
            ..Changes::default()
        };
    };
    let mut before: HashMap<&str, &Tag> = HashMap::with_capacity(previous.window.len());
    for tag in previous.window {
        before.entry(tag.name.as_str()).or_insert(tag);
    }
    let complete = previous.is_complete();
    let oldest = previous.oldest();
    let is_new = |tag: &Tag| complete || oldest.is_some_and(|o| newest_first(tag, o).is_lt());

    let mut changes = Changes::default();
    let mut now: HashSet<&str> = HashSet::with_capacity(current.len());
    for tag in current {
        if !now.insert(tag.name.as_str()) {
            continue;
        }
        match before.get(tag.name.as_str()) {
            Some(old) if old.update_time != tag.update_time || old.digest != tag.digest => {
                changes.updated.push(TagUpdate {
                    old: (*old).clone(),
                    new: tag.clone(),
                })
            }
            Some(_) => {}
            None if is_new(tag) => changes.added.push(tag.clone()),
            None => {}
        }
    }
    let mut gone: HashSet<&str> = HashSet::new();
    for tag in previous.window {
        if !now.contains(tag.name.as_str()) && gone.insert(tag.name.as_str()) {
            changes.removed.push(tag.clone());
        }
    }
    changes
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
