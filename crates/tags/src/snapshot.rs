//! What a successful poll leaves in status, read back as the previous state of the next
//! poll: the history window (`status.tags`, newest first, at most `historyLimit` tags) and
//! the number of tracked tags (`status.tagCount`). Change detection ([`super::diff`])
//! works from this alone, so it survives operator restarts.

use super::{Tag, newest_first, window};

/// The previous state as recorded in status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot<'a> {
    /// `status.tags`: the newest tracked tags, newest first.
    pub window: &'a [Tag],
    /// `status.tagCount`: how many tags were tracked in all.
    pub tag_count: usize,
}

impl<'a> Snapshot<'a> {
    /// The snapshot status records for `current`, the full tracked list sorted newest
    /// first.
    pub fn record(current: &'a [Tag], history_limit: usize) -> Snapshot<'a> {
        Snapshot {
            window: window(current, history_limit),
            tag_count: current.len(),
        }
    }

    /// Whether the window held every tracked tag. An empty window counts as complete
    /// whatever the count says, as it gives no oldest tag to compare with.
    pub fn is_complete(&self) -> bool {
        self.window.is_empty() || self.tag_count <= self.window.len()
    }

    /// The oldest tag of the window by [`newest_first`] (the last one, when the window
    /// is sorted as status keeps it).
    pub fn oldest(&self) -> Option<&'a Tag> {
        self.window.iter().max_by(|a, b| newest_first(a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::tag;

    #[test]
    fn record_keeps_the_window_and_the_full_count() {
        let tags = vec![tag("c", "3"), tag("b", "2"), tag("a", "1")];
        let snapshot = Snapshot::record(&tags, 2);
        assert_eq!(snapshot.window, &tags[..2]);
        assert_eq!(snapshot.tag_count, 3);
        assert!(!snapshot.is_complete());
        assert_eq!(snapshot.oldest(), Some(&tags[1]));
        assert!(Snapshot::record(&tags, 3).is_complete());
        assert!(Snapshot::record(&tags, 100).is_complete());
    }

    #[test]
    fn empty_or_inconsistent_windows() {
        let empty = Snapshot {
            window: &[],
            tag_count: 7,
        };
        assert!(empty.is_complete());
        assert_eq!(empty.oldest(), None);
        let tags = vec![tag("b", "2"), tag("a", "1")];
        let undercounted = Snapshot {
            window: &tags,
            tag_count: 1,
        };
        assert!(undercounted.is_complete());
    }

    #[test]
    fn oldest_does_not_trust_the_window_order() {
        let tags = vec![tag("old", "1"), tag("junk", "?"), tag("new", "9")];
        let snapshot = Snapshot {
            window: &tags,
            tag_count: 10,
        };
        assert_eq!(snapshot.oldest().map(|t| t.name.as_str()), Some("junk"));
    }
}
