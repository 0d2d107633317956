//! `status.revision`: a stable digest of the full tracked tag set, so that tools can tell
//! that anything changed without comparing lists (status keeps only a window of them).
//!
//! The digest is `sha256:<64 hex digits>` over a versioned, unambiguous encoding of the
//! tags sorted by name (then `updateTime`, then digest; exact duplicates count once):
//! the number of tags, then per tag its name and `updateTime` each as a big-endian `u64`
//! byte length followed by the UTF-8 bytes, and its digest as `0` when absent or `1`
//! followed by the same length-prefixed form. It does not depend on the input order and
//! changes when any field of any tag changes, or when a tag comes or goes.

use sha2::{Digest, Sha256};

use super::Tag;

/// Domain separator and encoding version, hashed first.
const ENCODING: &[u8] = b"tagwatch.dev/revision/v1\n";

/// The revision of the tag set `tags`, in any order.
pub fn revision(tags: &[Tag]) -> String {
    let mut sorted: Vec<&Tag> = tags.iter().collect();
    sorted.sort_unstable_by(|a, b| {
        (&a.name, &a.update_time, &a.digest).cmp(&(&b.name, &b.update_time, &b.digest))
    });
    sorted.dedup();
    let mut hasher = Sha256::new();
    hasher.update(ENCODING);
    hasher.update((sorted.len() as u64).to_be_bytes());
    for tag in sorted {
        field(&mut hasher, &tag.name);
        field(&mut hasher, &tag.update_time);
        match &tag.digest {
            None => hasher.update([0]),
            Some(digest) => {
                hasher.update([1]);
                field(&mut hasher, digest);
            }
        }
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// Feeds `text` to `hasher` length-prefixed, so that field boundaries are unambiguous.
pub fn field(hasher: &mut Sha256, text: &str) {
    hasher.update((text.len() as u64).to_be_bytes());
    hasher.update(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn tag(name: &str, time: &str, digest: Option<&str>) -> Tag {
        Tag {
            name: name.into(),
            update_time: time.into(),
            digest: digest.map(String::from),
        }
    }

    #[test]
    fn known_values() {
        // Pinned so that an accidental change of the encoding, which would make every
        // TagWatch report a new revision after an upgrade, fails here. The values were
        // computed independently from the encoding described in the module docs.
        assert_eq!(
            revision(&[]),
            "sha256:4c6662016d429956332bd136bb38f987ac30b0490bdb101b25517c124004d475"
        );
        assert_eq!(
            revision(&[
                tag("v1", "1", None),
                tag("a", "2026-11-27 18:00:00", Some("sha256:ab")),
            ]),
            "sha256:0843236049eb04ad00b32605cd72cdc9b0bc7682abaa7acbf5d93685f7737c0c"
        );
    }

    #[test]
    fn format_is_sha256_hex() {
        let r = revision(&[tag("v1", "1", None)]);
        let hex = r.strip_prefix("sha256:").unwrap();
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn every_field_counts_and_boundaries_are_unambiguous() {
        let base = revision(&[tag("ab", "c", None)]);
        for changed in [
            vec![tag("a", "bc", None)],
            vec![tag("ab", "c", Some(""))],
            vec![tag("ab", "c", Some("x"))],
            vec![tag("ab", "d", None)],
            vec![tag("ac", "c", None)],
            vec![tag("ab", "c", None), tag("x", "c", None)],
            vec![],
        ] {
            assert_ne!(revision(&changed), base, "{changed:?}");
        }
        assert_ne!(
            revision(&[tag("a", "1", Some("b"))]),
            revision(&[tag("a", "1", None), tag("b", "", None)])
        );
    }

    #[test]
    fn order_and_exact_duplicates_do_not_count() {
        let a = tag("版本", "2026-11-27 18:00:00", Some("sha256:1"));
        let b = tag("v1", "1", None);
        assert_eq!(
            revision(&[a.clone(), b.clone()]),
            revision(&[b.clone(), a.clone(), a.clone()])
        );
        // Same name, different data: both count.
        let a2 = tag("版本", "2026-11-27 18:00:01", Some("sha256:1"));
        assert_ne!(revision(&[a.clone(), b.clone()]), revision(&[a, a2, b]));
    }

    fn arb_tags() -> impl Strategy<Value = Vec<Tag>> {
        prop::collection::vec(
            ("[a-c]{0,2}", "[0-2]{0,2}", prop::option::of("[x-y]{0,1}")).prop_map(|(n, t, d)| {
                Tag {
                    name: n,
                    update_time: t,
                    digest: d,
                }
            }),
            0..8,
        )
    }

    proptest! {
        #[test]
        fn equal_sets_have_equal_revisions(a in arb_tags(), b in arb_tags(), seed in any::<u64>()) {
            let mut shuffled = a.clone();
            let len = shuffled.len().max(1);
            shuffled.rotate_left(seed as usize % len);
            shuffled.reverse();
            prop_assert_eq!(revision(&a), revision(&shuffled));
            let set = |tags: &[Tag]| -> std::collections::BTreeSet<(String, String, Option<String>)> {
                tags.iter().map(|t| (t.name.clone(), t.update_time.clone(), t.digest.clone())).collect()
            };
            prop_assert_eq!(set(&a) == set(&b), revision(&a) == revision(&b));
        }
    }
}
