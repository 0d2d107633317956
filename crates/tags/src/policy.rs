//! Policies that pick `status.latestTag` among the tracked tags.
//!
//! - [`Policy::Newest`] (the default): the tag with the newest `UpdateTime`, i.e. the first
//!   in [`newest_first`] order.
//! - [`Policy::Semver`]: the highest version among tags that are semver versions (an
//!   optional leading `v`, see [`parse_tag_version`]) within the optional range (syntax in
//!   [`super::semver_range`]). Without a range: the highest version without a pre-release.
//! - [`Policy::Alphabetical`] and [`Policy::Numerical`] follow Flux's ImagePolicy: the
//!   pick is the *last* tag when the tags are sorted in the given order, so `asc` (the
//!   default) picks the greatest name or number and `desc` the smallest. Names compare
//!   byte-wise (Unicode code point order). Numerical reads names as finite decimal
//!   floating-point numbers (`42`, `-1`, `3.5`, `1e3`; precision is that of an `f64`) and
//!   ignores tags that are not numbers (Flux fails the whole policy instead).
//!
//! Ties (equal versions such as `1.0.0` and `v1.0.0`, equal numbers such as `1` and `01`,
//! duplicate names) go to the newer tag by [`newest_first`], then to the greater digest,
//! so the pick never depends on the order of the input.

use std::cmp::Ordering;

use super::semver_range::{RangeError, SemverRange, parse_tag_version};
use super::{Tag, newest_first};

/// Sort order of [`Policy::Alphabetical`] and [`Policy::Numerical`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Ascending: the pick is the greatest.
    #[default]
    Asc,
    /// Descending: the pick is the smallest.
    Desc,
}

/// How `status.latestTag` is chosen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    /// The tag with the newest `UpdateTime`.
    #[default]
    Newest,
    /// The highest semver version, within `range` when given.
    Semver {
        /// A range such as `>=1.2 <2`.
        range: Option<String>,
    },
    /// The last tag when names are sorted in `order`.
    Alphabetical {
        /// Sort order; `Asc` picks the greatest name.
        order: Order,
    },
    /// The last tag when numeric names are sorted in `order`.
    Numerical {
        /// Sort order; `Asc` picks the greatest number.
        order: Order,
    },
}

/// A policy that cannot be compiled; the message is meant for users.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The semver range does not parse.
    #[error(transparent)]
    SemverRange(#[from] RangeError),
}

/// A [`Policy`] ready to select tags; compile it once per spec.
#[derive(Clone, Debug)]
pub struct CompiledPolicy(Compiled);

#[derive(Clone, Debug)]
enum Compiled {
    Newest,
    Semver(Option<SemverRange>),
    Alphabetical(Order),
    Numerical(Order),
}

impl CompiledPolicy {
    /// Compiles `policy`; only a semver range can fail.
    pub fn new(policy: &Policy) -> Result<CompiledPolicy, PolicyError> {
        Ok(CompiledPolicy(match policy {
            Policy::Newest => Compiled::Newest,
            Policy::Semver { range } => {
                Compiled::Semver(range.as_deref().map(SemverRange::parse).transpose()?)
            }
            Policy::Alphabetical { order } => Compiled::Alphabetical(*order),
            Policy::Numerical { order } => Compiled::Numerical(*order),
        }))
    }

    /// The tag the policy picks among `tags` (in any order), or `None` when no tag
    /// qualifies.
    pub fn select<'a>(&self, tags: &'a [Tag]) -> Option<&'a Tag> {
        match &self.0 {
            Compiled::Newest => pick(tags.iter().map(|t| ((), t)), |_, _| Ordering::Equal),
            Compiled::Semver(range) => pick(
                tags.iter().filter_map(|t| {
                    let version = parse_tag_version(&t.name)?;
                    let admitted = match range {
                        Some(range) => range.matches(&version),
                        None => version.pre.is_empty(),
                    };
                    admitted.then_some((version, t))
                }),
                |a, b| a.cmp_precedence(b),
            ),
            Compiled::Alphabetical(order) => {
                pick(tags.iter().map(|t| (t.name.as_str(), t)), |a, b| {
                    in_order(*order, a.cmp(b))
                })
            }
            Compiled::Numerical(order) => pick(
                tags.iter().filter_map(|t| Some((number(&t.name)?, t))),
                |a, b| in_order(*order, a.total_cmp(b)),
            ),
        }
    }
}

/// The candidate with the greatest key by `cmp_keys`, ties to the newer tag.
fn pick<'a, K>(
    candidates: impl Iterator<Item = (K, &'a Tag)>,
    cmp_keys: impl Fn(&K, &K) -> Ordering,
) -> Option<&'a Tag> {
    candidates
        .max_by(|(ka, a), (kb, b)| {
            cmp_keys(ka, kb)
                .then_with(|| newest_first(b, a))
                .then_with(|| a.digest.cmp(&b.digest))
        })
        .map(|(_, t)| t)
}

fn in_order(order: Order, ascending: Ordering) -> Ordering {
    match order {
        Order::Asc => ascending,
        Order::Desc => ascending.reverse(),
    }
}

fn number(name: &str) -> Option<f64> {
    name.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
