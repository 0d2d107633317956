//! What one successful poll found, compared with what status recorded before: the one
//! shape of a poll's result that status, events and notifications are all built from.
//!
//! [`observe`] filters the listed tags, orders them newest first and digests the tracked
//! set ([`track`], [`revision`]), diffs them against the previous [`Snapshot`]
//! ([`super::diff`]) and lets the policy pick the latest tag. A tracked set with the
//! revision status recorded is the recorded set: nothing changed, and the window is not
//! read (so a caller that does not hold it need not fetch it, see
//! [`Tracked::recorded_as`]). Pure: the caller passes the previous state it read from
//! status.

use super::diff::{Changes, diff};
use super::filter::TagFilter;
use super::policy::CompiledPolicy;
use super::revision::revision;
use super::snapshot::Snapshot;
use super::{Tag, sort_newest_first};

/// A TagWatch's filter and policy, compiled once per poll.
#[derive(Clone, Debug)]
pub struct Selection {
    /// Which tags are tracked.
    pub filter: TagFilter,
    /// Which tracked tag is the latest.
    pub policy: CompiledPolicy,
}

/// What status recorded of the previous successful poll.
#[derive(Clone, Copy, Debug, Default)]
pub struct Previous<'a> {
    /// The history window and tracked count; `None` when no poll succeeded yet.
    pub snapshot: Option<Snapshot<'a>>,
    /// The latest tag then.
    pub latest: Option<&'a str>,
    /// The [`revision`] of the tracked set then.
    pub revision: Option<&'a str>,
}

/// The tracked tags of one listing: filtered, newest first, with their revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracked {
    /// The tags the filter keeps, newest first.
    pub tags: Vec<Tag>,
    /// Their [`revision`].
    pub revision: String,
    /// How many tags UHub reported (`TotalCount`), before the filter.
    pub upstream_total: u64,
}

impl Tracked {
    /// Whether these are exactly the tags status recorded with `revision`: then nothing
    /// changed, and [`observe_tracked`] does not read the previous window.
    pub fn recorded_as(&self, revision: Option<&str>) -> bool {
        revision == Some(self.revision.as_str())
    }
}

/// Filters `listed`, orders the tracked tags newest first and digests them.
pub fn track(selection: &Selection, listed: Vec<Tag>, upstream_total: u64) -> Tracked {
    let mut tags = selection.filter.apply(listed);
    sort_newest_first(&mut tags);
    Tracked {
        revision: revision(&tags),
        tags,
        upstream_total,
    }
}

/// The result of a successful poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The tracked tags (after the filter), newest first.
    pub tracked: Vec<Tag>,
    /// How many tags UHub reported for the image (`TotalCount`), before the filter.
    pub upstream_total: u64,
    /// What changed since the previous poll.
    pub changes: Changes,
    /// The policy's pick, with its `UpdateTime` and digest.
    pub latest: Option<Tag>,
    /// The latest tag before this poll.
    pub previous_latest: Option<String>,
    /// The [`revision`] of the tracked set.
    pub revision: String,
}

impl Observation {
    /// The name of the latest tag.
    pub fn latest_name(&self) -> Option<&str> {
        self.latest.as_ref().map(|t| t.name.as_str())
    }

    /// Whether the policy picks another tag than before.
    pub fn latest_changed(&self) -> bool {
        self.previous_latest.as_deref() != self.latest_name()
    }
}

/// Observes `listed` (every tag UHub listed, `upstream_total` by its count) against
/// `previous`: see the module documentation.
pub fn observe(
    selection: &Selection,
    listed: Vec<Tag>,
    upstream_total: u64,
    previous: Previous<'_>,
) -> Observation {
    observe_tracked(
        selection,
        track(selection, listed, upstream_total),
        previous,
    )
}

/// Observes `tracked` against `previous`: no changes at all when status recorded this
/// very set ([`Tracked::recorded_as`]), else the [`diff`] with the previous window.
pub fn observe_tracked(
    selection: &Selection,
    tracked: Tracked,
    previous: Previous<'_>,
) -> Observation {
    let changes = match previous.snapshot {
        Some(_) if tracked.recorded_as(previous.revision) => Changes::default(),
        snapshot => diff(snapshot, &tracked.tags),
    };
    let latest = selection.policy.select(&tracked.tags).cloned();
    Observation {
        revision: tracked.revision,
        upstream_total: tracked.upstream_total,
        changes,
        latest,
        previous_latest: previous.latest.map(str::to_string),
        tracked: tracked.tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::test_support::tag;

    fn selection(include: Option<&str>) -> Selection {
        Selection {
            filter: TagFilter::new(include, &[]).unwrap(),
            policy: CompiledPolicy::new(&Policy::Newest).unwrap(),
        }
    }

    #[test]
    fn filters_orders_diffs_and_picks() {
        let before = [tag("v1", "1")];
        let previous = Previous {
            snapshot: Some(Snapshot {
                window: &before,
                tag_count: 1,
            }),
            latest: Some("v1"),
            revision: Some("sha256:before"),
        };
        let listed = vec![tag("v1", "1"), tag("rc", "3"), tag("v2", "2")];
        let seen = observe(&selection(Some("^v")), listed, 3, previous);
        let names: Vec<&str> = seen.tracked.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["v2", "v1"]);
        assert_eq!(seen.upstream_total, 3);
        assert_eq!(seen.changes.added, [tag("v2", "2")]);
        assert_eq!(seen.latest_name(), Some("v2"));
        assert_eq!(seen.previous_latest.as_deref(), Some("v1"));
        assert!(seen.latest_changed());
        assert_eq!(seen.revision, revision(&seen.tracked));
    }

    #[test]
    fn the_recorded_revision_means_no_changes_without_reading_the_window() {
        let tags = vec![tag("v2", "2"), tag("v1", "1")];
        let recorded = revision(&tags);
        let previous = Previous {
            // The window as a cache that does not hold it would give it: empty.
            snapshot: Some(Snapshot {
                window: &[],
                tag_count: 2,
            }),
            latest: Some("v2"),
            revision: Some(&recorded),
        };
        let seen = observe(&selection(None), tags.clone(), 2, previous);
        assert_eq!(seen.changes, Changes::default());
        assert!(!seen.latest_changed());
        let grown = vec![tag("v3", "3"), tag("v2", "2"), tag("v1", "1")];
        let seen = observe(&selection(None), grown, 3, previous);
        assert_eq!(
            seen.changes.added.len(),
            3,
            "another set is diffed with the window given, here an empty one"
        );
        let tracked = track(&selection(Some("^v")), tags, 2);
        assert!(tracked.recorded_as(Some(&recorded)));
        assert!(!tracked.recorded_as(None));
    }

    #[test]
    fn without_a_previous_poll_the_changes_are_initial() {
        let seen = observe(
            &selection(None),
            vec![tag("a", "1")],
            1,
            Previous::default(),
        );
        assert!(seen.changes.initial);
        assert!(seen.latest_changed(), "none -> a");
    }
}
