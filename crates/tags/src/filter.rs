//! The tag filter of a TagWatch: which tag names are tracked.
//!
//! A tag is tracked when its name matches the `include` pattern (when there is one) and
//! none of the `exclude` patterns. Patterns are Rust `regex` syntax and, like Flux's
//! `filterTags.pattern`, unanchored: `rc` matches `v1.0-rc.1`; write `^v\d+$` to match
//! whole names. Compiled patterns are bounded in size ([`REGEX_SIZE_LIMIT`]) so that a
//! hostile pattern cannot make the operator allocate without bound.
//!
//! Signature and attestation tags that cosign stores next to an image
//! (`sha256-<64 lowercase hex>.sig`, `.att`, `.sbom`: [`is_signature`]) are not tracked
//! unless the filter is built [`TagFilter::with_signatures`]: they are not images, and a
//! signature pushed after an image would otherwise become the newest tag.

use regex::{Regex, RegexBuilder};

use super::Tag;

/// The most memory (in bytes) one compiled pattern, and separately its lazy DFA cache,
/// may take.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A pattern that does not compile; the message names the pattern and is meant for users.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The include pattern.
    #[error("invalid include pattern {pattern:?}: {reason}")]
    Include {
        /// The pattern as written.
        pattern: String,
        /// Why it does not compile.
        reason: String,
    },
    /// One of the exclude patterns.
    #[error("invalid exclude pattern #{index} {pattern:?}: {reason}")]
    Exclude {
        /// Position in the exclude list, from 0.
        index: usize,
        /// The pattern as written.
        pattern: String,
        /// Why it does not compile.
        reason: String,
    },
}

/// The suffixes cosign gives the tags it stores beside an image: signatures,
/// attestations and SBOMs.
pub const SIGNATURE_SUFFIXES: [&str; 3] = ["sig", "att", "sbom"];

/// Whether `name` is a cosign signature, attestation or SBOM tag:
/// `sha256-<64 lowercase hex digits>.sig` (or `.att`, `.sbom`), the digest being the
/// signed image's.
pub fn is_signature(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("sha256-") else {
        return false;
    };
    let Some((hex, suffix)) = rest.split_once('.') else {
        return false;
    };
    hex.len() == 64
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && SIGNATURE_SUFFIXES.contains(&suffix)
}

/// Compiled include and exclude patterns, and whether signature tags are tracked.
#[derive(Clone, Debug)]
pub struct TagFilter {
    include: Option<Regex>,
    exclude: Vec<Regex>,
    signatures: bool,
}

impl TagFilter {
    /// Compiles the patterns; the first one that does not compile is the error.
    /// Signature tags ([`is_signature`]) are not tracked.
    pub fn new(include: Option<&str>, exclude: &[String]) -> Result<TagFilter, FilterError> {
        let include = include
            .map(|pattern| {
                compile(pattern).map_err(|reason| FilterError::Include {
                    pattern: pattern.to_string(),
                    reason,
                })
            })
            .transpose()?;
        let exclude = exclude
            .iter()
            .enumerate()
            .map(|(index, pattern)| {
                compile(pattern).map_err(|reason| FilterError::Exclude {
                    index,
                    pattern: pattern.clone(),
                    reason,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(TagFilter {
            include,
            exclude,
            signatures: false,
        })
    }

    /// The same filter, tracking signature tags too when `include` is true (they still
    /// have to pass the patterns).
    pub fn with_signatures(mut self, include: bool) -> TagFilter {
        self.signatures = include;
        self
    }

    /// Whether a tag named `name` is tracked.
    pub fn matches(&self, name: &str) -> bool {
        (self.signatures || !is_signature(name))
            && self.include.as_ref().is_none_or(|r| r.is_match(name))
            && !self.exclude.iter().any(|r| r.is_match(name))
    }

    /// The tracked tags of `tags`, in their order.
    pub fn apply(&self, mut tags: Vec<Tag>) -> Vec<Tag> {
        tags.retain(|t| self.matches(&t.name));
        tags
    }
}

fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| describe(&e))
}

/// A one-line description of a regex error, fit for a condition message.
fn describe(error: &regex::Error) -> String {
    match error {
        regex::Error::Syntax(text) => {
            let reasons: Vec<&str> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("error:"))
                .map(str::trim)
                .collect();
            if reasons.is_empty() {
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                reasons.join("; ")
            }
        }
        regex::Error::CompiledTooBig(limit) => {
            format!("the compiled pattern exceeds the size limit of {limit} bytes; simplify it")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str) -> Tag {
        Tag {
            name: name.into(),
            update_time: "1".into(),
            digest: None,
        }
    }

    fn filter(include: Option<&str>, exclude: &[&str]) -> TagFilter {
        let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
        TagFilter::new(include, &exclude).unwrap()
    }

    #[test]
    fn no_patterns_track_everything() {
        let f = filter(None, &[]);
        for name in ["", "latest", "v1.2.3", "版本-1", "a b"] {
            assert!(f.matches(name), "{name:?}");
        }
        assert!(filter(Some(""), &[]).matches("anything"));
    }

    #[test]
    fn patterns_are_unanchored() {
        let f = filter(Some("rc"), &[]);
        assert!(f.matches("v1.0-rc.1"));
        assert!(f.matches("rc"));
        assert!(!f.matches("v1.0"));
        let anchored = filter(Some(r"^v\d+$"), &[]);
        assert!(anchored.matches("v12"));
        assert!(!anchored.matches("v12-rc"));
        assert!(!anchored.matches("xv12"));
    }

    #[test]
    fn include_then_exclude() {
        let f = filter(Some(r"^v\d"), &["-rc", "-beta", "^v0\\."]);
        assert!(f.matches("v1.2.3"));
        assert!(!f.matches("v1.2.3-rc.1"));
        assert!(!f.matches("v2.0.0-beta"));
        assert!(!f.matches("v0.9.0"));
        assert!(!f.matches("latest"));
        let only_exclude = filter(None, &["^sha-"]);
        assert!(only_exclude.matches("latest"));
        assert!(!only_exclude.matches("sha-abc123"));
    }

    #[test]
    fn unicode_names_and_patterns() {
        let f = filter(Some("^版本"), &[r"\p{Greek}"]);
        assert!(f.matches("版本-1"));
        assert!(!f.matches("版本-α"));
        assert!(!f.matches("v1"));
    }

    #[test]
    fn apply_keeps_order_and_duplicates_of_tracked_tags() {
        let f = filter(Some("^v"), &["bad"]);
        let tags = vec![tag("v2"), tag("x"), tag("v1"), tag("vbad"), tag("v2")];
        let names: Vec<_> = f.apply(tags).into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["v2", "v1", "v2"]);
        assert!(f.apply(Vec::new()).is_empty());
    }

    const DIGEST: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn cosign_signature_attestation_and_sbom_tags_are_recognised() {
        for suffix in SIGNATURE_SUFFIXES {
            assert!(
                is_signature(&format!("sha256-{DIGEST}.{suffix}")),
                "{suffix}"
            );
        }
        for name in [
            format!("sha256-{DIGEST}"),                      // no suffix
            format!("sha256-{DIGEST}.sig.bak"),              // another suffix
            format!("sha256-{DIGEST}.txt"),                  // not cosign's
            format!("sha256-{}.sig", &DIGEST[..63]),         // 63 digits
            format!("sha256-{DIGEST}0.sig"),                 // 65 digits
            format!("sha256-{}.sig", DIGEST.to_uppercase()), // cosign writes lowercase
            format!("sha512-{DIGEST}.sig"),
            format!("v1-sha256-{DIGEST}.sig"),
            "sha256-abc.sig".to_string(),
            "v1.2.3".to_string(),
            "latest".to_string(),
        ] {
            assert!(!is_signature(&name), "{name}");
        }
    }

    #[test]
    fn signature_tags_are_not_tracked_unless_asked_for() {
        let signature = format!("sha256-{DIGEST}.sig");
        let tags = vec![
            tag(&signature),
            tag("v1"),
            tag(&format!("sha256-{DIGEST}.att")),
        ];
        let names = |f: &TagFilter| -> Vec<String> {
            f.apply(tags.clone()).into_iter().map(|t| t.name).collect()
        };
        assert_eq!(names(&filter(None, &[])), ["v1"]);
        assert_eq!(
            names(&filter(None, &[]).with_signatures(true)).len(),
            3,
            "includeSignatures tracks them"
        );
        // Patterns still apply to them.
        let only_sig = filter(Some(r"\.sig$"), &[]).with_signatures(true);
        assert_eq!(names(&only_sig), [signature.as_str()]);
        let excluded = filter(None, &["^sha256-"]).with_signatures(true);
        assert_eq!(names(&excluded), ["v1"]);
        // An include pattern matching them does not track them by itself.
        assert!(!filter(Some("^sha256-"), &[]).matches(&signature));
    }

    #[test]
    fn include_error_names_pattern_and_reason_on_one_line() {
        let err = TagFilter::new(Some("(abc"), &[]).unwrap_err();
        assert_eq!(
            err,
            FilterError::Include {
                pattern: "(abc".into(),
                reason: "unclosed group".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "invalid include pattern \"(abc\": unclosed group"
        );
    }

    #[test]
    fn exclude_error_names_the_position() {
        let exclude = vec!["ok".to_string(), "[z-a]".to_string()];
        let err = TagFilter::new(Some("fine"), &exclude).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("invalid exclude pattern #1 \"[z-a]\": "),
            "{message}"
        );
        assert!(
            message.contains("invalid character class range"),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn a_pattern_too_big_to_compile_is_refused() {
        let err = TagFilter::new(Some(r"\w{1000}{1000}"), &[]).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&format!("size limit of {REGEX_SIZE_LIMIT} bytes")),
            "{message}"
        );
    }

    #[test]
    fn a_large_but_reasonable_pattern_compiles() {
        let alternatives: Vec<String> = (0..500).map(|i| format!("release-{i}")).collect();
        let f = filter(Some(&format!("^({})$", alternatives.join("|"))), &[]);
        assert!(f.matches("release-499"));
        assert!(!f.matches("release-500"));
    }
}
