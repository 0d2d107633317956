//! tagwatch's pure tag logic: the tag model, its ordering and the history window; the
//! submodules hold the filter, the policies, change detection, the revision digest, the
//! observation of one poll and what it announces. Nothing in here performs I/O, reads a
//! clock or knows Kubernetes.

pub mod announce;
pub mod diff;
pub mod filter;
pub mod observe;
pub mod policy;
pub mod revision;
pub mod semver_range;
pub mod snapshot;
#[cfg(test)]
pub(crate) mod test_support;
pub mod update_time;

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

pub use update_time::UpdateTime;

/// One image tag as UHub reports it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tag {
    /// The tag name, e.g. `v1.2.3`.
    pub name: String,
    /// `UpdateTime` exactly as received (a JSON number is kept as its decimal text).
    #[serde(rename = "updateTime")]
    pub update_time: String,
    /// The image digest, when UHub reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl Tag {
    /// A tag without a digest.
    pub fn new(name: impl Into<String>, update_time: impl Into<String>) -> Tag {
        Tag {
            name: name.into(),
            update_time: update_time.into(),
            digest: None,
        }
    }

    /// The same tag with `digest`.
    pub fn with_digest(mut self, digest: impl Into<String>) -> Tag {
        self.digest = Some(digest.into());
        self
    }

    /// The parsed form of [`Tag::update_time`], used for ordering.
    pub fn parsed_update_time(&self) -> UpdateTime {
        UpdateTime::parse(&self.update_time)
    }
}

/// Orders tags newest first: by parsed `UpdateTime` (newest first), tags whose time does
/// not parse after all parsed ones and among themselves by raw text (greatest first), and
/// ties by name (ascending). The order is total and deterministic.
pub fn newest_first(a: &Tag, b: &Tag) -> Ordering {
    b.parsed_update_time()
        .cmp(&a.parsed_update_time())
        .then_with(|| a.name.cmp(&b.name))
}

/// Sorts `tags` newest first, see [`newest_first`]. Each time is parsed once.
pub fn sort_newest_first(tags: &mut [Tag]) {
    tags.sort_by_cached_key(|t| (std::cmp::Reverse(t.parsed_update_time()), t.name.clone()));
}

/// The first `limit` tags of `tags` (newest first when `tags` is sorted so): what status
/// keeps as its history.
pub fn window(tags: &[Tag], limit: usize) -> &[Tag] {
    &tags[..limit.min(tags.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::tag;

    #[test]
    fn sorts_newest_first_with_ties_by_name() {
        let mut tags = vec![
            tag("b", "2026-11-01 08:00:00"),
            tag("junk", "not a time"),
            tag("a", "2026-11-01 08:00:00"),
            tag("new", "2026-11-02T00:00:00Z"),
            tag("zzz", "zzz"),
        ];
        sort_newest_first(&mut tags);
        let names: Vec<_> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["new", "a", "b", "zzz", "junk"]);
        assert!(tags.windows(2).all(|w| newest_first(&w[0], &w[1]).is_le()));
    }

    #[test]
    fn window_is_the_first_tags_up_to_the_limit() {
        let tags = vec![tag("a", "3"), tag("b", "2"), tag("c", "1")];
        assert_eq!(window(&tags, 2), &tags[..2]);
        assert_eq!(window(&tags, 3), &tags[..]);
        assert_eq!(window(&tags, 1000), &tags[..]);
        assert!(window(&tags, 0).is_empty());
        assert!(window(&[], 5).is_empty());
    }
}
