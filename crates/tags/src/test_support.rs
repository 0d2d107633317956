//! Constructors shared by the tests of the tag modules.

use super::Tag;

/// A tag without a digest.
pub(crate) fn tag(name: &str, time: &str) -> Tag {
    Tag::new(name, time)
}

/// `tag` with `digest` set.
pub(crate) fn with_digest(tag: Tag, digest: &str) -> Tag {
    tag.with_digest(digest)
}
