//! Constructors shared by the tests of the tag modules.

use super::Tag;

/// A tag without a digest.
pub(crate) fn tag(name: &str, time: &str) -> Tag {
    Tag {
        name: name.into(),
        update_time: time.into(),
        digest: None,
    }
}

/// `tag` with `digest` set.
pub(crate) fn with_digest(mut tag: Tag, digest: &str) -> Tag {
    tag.digest = Some(digest.into());
    tag
}
