//! Semver ranges as users write them for Flux image policies (the Masterminds syntax),
//! read into the `semver` crate's [`VersionReq`].
//!
//! Supported syntax, with its reading:
//!
//! - comparators `=`, `>`, `>=`, `<`, `<=`, `^` (caret) and `~` (tilde), with or without
//!   a space before the version, and with an optional `v` before the version (`>= v1.2`);
//! - partial and wildcard versions: `1`, `1.2`, `1.x`, `1.2.*`, and `*` / `x` for any
//!   version;
//! - a version without an operator is exact, as in Masterminds: `1.2.3` is `=1.2.3` and
//!   `1.2` is `=1.2` (any `1.2.z`). (The `semver` crate alone would read it as `^1.2.3`.)
//! - comparators separated by spaces and/or commas must all hold: `>=1.2 <2`, `>=1.0, <2.0`;
//! - hyphen ranges `A - B` mean `>=A, <=B`;
//! - `||` separates alternatives, of which one must hold: `^1.2 || >=3`;
//! - a wildcard version with a pre-release, as in `^1.x-0`, reads each wildcard as `0`
//!   (`^1.0.0-0`); this is accepted after `^`, `~` and `>=` only.
//!
//! The meaning of each comparator is the `semver` crate's (Cargo's), e.g. `^0.2.3` is
//! `>=0.2.3, <0.3.0` and `<=1.4` is `<1.5.0`. Not supported: `!=` and `~>`.
//!
//! Pre-releases: a version with a pre-release (`1.3.0-rc.1`) matches an alternative only
//! when one of that alternative's comparators has a pre-release (as in `>=1.0.0-0`), and
//! then it is compared like any other version (Masterminds' rule; Cargo's stricter rule,
//! which also requires the same `major.minor.patch`, is not applied).
//!
//! Tag names are versions when they are strict `major.minor.patch[-pre][+build]` semver,
//! optionally after one leading `v`; see [`parse_tag_version`].

use semver::{Comparator, Op, Prerelease, Version, VersionReq};

/// A range that failed to parse; the message is meant for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid semver range {range:?}: {reason}")]
pub struct RangeError {
    /// The range as written.
    pub range: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A parsed range: alternatives of which at least one must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemverRange {
    alternatives: Vec<Alternative>,
}

/// Comparators that must all hold.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Alternative {
    req: VersionReq,
    allows_pre_release: bool,
}

impl SemverRange {
    /// Parses `text` as described in the module documentation.
    pub fn parse(text: &str) -> Result<Self, RangeError> {
        let error = |reason: String| RangeError {
            range: text.to_string(),
            reason,
        };
        if text.trim().is_empty() {
            return Err(error(
                "the range is empty; omit it to select the highest release".into(),
            ));
        }
        let alternatives = text
            .split("||")
            .map(parse_alternative)
            .collect::<Result<Vec<_>, _>>()
            .map_err(error)?;
        Ok(SemverRange { alternatives })
    }

    /// Whether `version` is in the range.
    pub fn matches(&self, version: &Version) -> bool {
        self.alternatives.iter().any(|a| a.matches(version))
    }
}

impl Alternative {
    fn matches(&self, version: &Version) -> bool {
        if version.pre.is_empty() {
            return self.req.matches(version);
        }
        if !self.allows_pre_release {
            return false;
        }
        // The semver crate admits a pre-release only when a comparator has a pre-release on
        // the same major.minor.patch. Adding `>=major.minor.patch-0`, which every
        // pre-release of that version satisfies, lifts that rule and nothing else.
        let mut req = self.req.clone();
        req.comparators.push(Comparator {
            op: Op::GreaterEq,
            major: version.major,
            minor: Some(version.minor),
            patch: Some(version.patch),
            pre: Prerelease::new("0").expect("0 is a valid pre-release"),
        });
        req.matches(version)
    }
}

/// Reads a tag name as a version: strict semver, optionally after one leading `v`.
pub fn parse_tag_version(name: &str) -> Option<Version> {
    Version::parse(name.strip_prefix('v').unwrap_or(name)).ok()
}

/// Operators in the order they must be tried (longest first).
const OPERATORS: [&str; 7] = [">=", "<=", ">", "<", "=", "^", "~"];

fn parse_alternative(text: &str) -> Result<Alternative, String> {
    let tokens: Vec<&str> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() {
        return Err("an alternative between `||` is empty".into());
    }
    let mut comparators = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens.get(i + 1) == Some(&"-") {
            let upper = tokens
                .get(i + 2)
                .ok_or_else(|| format!("the hyphen range {:?} - has no upper bound", tokens[i]))?;
            comparators.extend(comparator(">=", tokens[i])?);
            comparators.extend(comparator("<=", upper)?);
            i += 3;
            continue;
        }
        let (op, mut version) = split_operator(tokens[i])?;
        if version.is_empty() {
            i += 1;
            version = tokens
                .get(i)
                .ok_or_else(|| format!("the operator {op:?} is not followed by a version"))?;
        }
        comparators.extend(comparator(op, version)?);
        i += 1;
    }
    let allows_pre_release = comparators.iter().any(|c| !c.pre.is_empty());
    Ok(Alternative {
        req: VersionReq { comparators },
        allows_pre_release,
    })
}

fn split_operator(token: &str) -> Result<(&str, &str), String> {
    if token.starts_with("!=") || token.starts_with("~>") {
        return Err(format!("the operator in {token:?} is not supported"));
    }
    Ok(OPERATORS
        .iter()
        .find_map(|op| token.strip_prefix(op).map(|rest| (*op, rest)))
        .unwrap_or(("", token)))
}

/// One comparator; `None` for a wildcard that matches any version.
fn comparator(op: &str, version: &str) -> Result<Option<Comparator>, String> {
    let version = version
        .strip_prefix(['v', 'V'])
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(version);
    if matches!(version, "*" | "x" | "X") && matches!(op, "" | "=") {
        return Ok(None);
    }
    let version = zero_wildcards_before_pre_release(op, version)?;
    let op = if op.is_empty() { "=" } else { op };
    let text = format!("{op}{version}");
    Comparator::parse(&text)
        .map(Some)
        .map_err(|e| format!("{e} in {text:?}"))
}

fn is_wildcard(part: &str) -> bool {
    matches!(part, "*" | "x" | "X")
}

/// `1.x-0` becomes `1.0.0-0` after `^`, `~` and `>=`; other versions are unchanged.
fn zero_wildcards_before_pre_release(op: &str, version: &str) -> Result<String, String> {
    let Some((core, pre)) = version.split_once('-') else {
        return Ok(version.to_string());
    };
    let parts: Vec<&str> = core.split('.').collect();
    if !parts.iter().any(|p| is_wildcard(p)) {
        return Ok(version.to_string());
    }
    if !matches!(op, "^" | "~" | ">=") {
        return Err(format!(
            "a wildcard version with a pre-release ({version:?}) needs ^, ~ or >= before it"
        ));
    }
    let mut zeroed: Vec<&str> = parts
        .iter()
        .map(|p| if is_wildcard(p) { "0" } else { p })
        .collect();
    zeroed.resize(3, "0");
    Ok(format!("{}-{pre}", zeroed.join(".")))
}

#[cfg(test)]
#[path = "semver_range_tests.rs"]
mod tests;
