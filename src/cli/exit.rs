//! Exit codes of the `tagwatch` command line: one distinct code per kind of failure
//! across every command, each command family listing the codes it can end with
//! ([`Exit::TAGS`], [`Exit::CLUSTER`]) in its `--help` and in the README, from the tables
//! below.

use std::process::ExitCode;

use uhub::ErrorKind;

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Exit {
    /// Done.
    Success,
    /// An unexpected local failure (e.g. writing the output).
    Failure,
    /// Bad command line (clap's own code).
    Usage,
    /// Credentials missing or empty in the environment.
    Credentials,
    /// A UCloud call failed; each kind has its own code.
    Call(ErrorKind),
    /// A cluster command (`get`, `describe`, `reconcile`, ...) failed.
    Cluster(ClusterFailure),
}

/// Why a cluster command failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::VariantArray)]
pub enum ClusterFailure {
    /// No kubeconfig could be loaded (and not in a cluster), or `--context` is unknown.
    Kubeconfig,
    /// The Kubernetes API could not be reached or failed.
    Unreachable,
    /// The Kubernetes API refused the credentials or the request (401, 403).
    Denied,
    /// The TagWatch (or the TagWatch CRD) does not exist.
    NotFound,
    /// `reconcile`: the requested poll was handled and failed (`Ready=False`).
    PollFailed,
    /// `reconcile`: the TagWatch is suspended, so no poll would happen.
    Suspended,
    /// `reconcile --wait`: the request was not handled within `--timeout`.
    NotHandled,
}

impl Exit {
    /// The exits of `tagwatch tags`, by code.
    pub const TAGS: [Exit; 11] = [
        Exit::Success,
        Exit::Failure,
        Exit::Usage,
        Exit::Credentials,
        Exit::Call(ErrorKind::Authentication),
        Exit::Call(ErrorKind::Permission),
        Exit::Call(ErrorKind::Throttled),
        Exit::Call(ErrorKind::Unavailable),
        Exit::Call(ErrorKind::InvalidRequest),
        Exit::Call(ErrorKind::MalformedResponse),
        Exit::Call(ErrorKind::TooManyPages),
    ];

    /// The exits of the cluster commands (`get`, `describe`, `reconcile`, `suspend`,
    /// `resume`, `events`), by code.
    pub const CLUSTER: [Exit; 10] = [
        Exit::Success,
        Exit::Failure,
        Exit::Usage,
        Exit::Cluster(ClusterFailure::Kubeconfig),
        Exit::Cluster(ClusterFailure::Unreachable),
        Exit::Cluster(ClusterFailure::Denied),
        Exit::Cluster(ClusterFailure::NotFound),
        Exit::Cluster(ClusterFailure::PollFailed),
        Exit::Cluster(ClusterFailure::Suspended),
        Exit::Cluster(ClusterFailure::NotHandled),
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Credentials => 3,
            Exit::Call(ErrorKind::Authentication) => 4,
            Exit::Call(ErrorKind::Permission) => 5,
            Exit::Call(ErrorKind::Throttled) => 6,
            Exit::Call(ErrorKind::Unavailable) => 7,
            Exit::Call(ErrorKind::InvalidRequest) => 8,
            Exit::Call(ErrorKind::MalformedResponse) => 9,
            Exit::Call(ErrorKind::TooManyPages) => 10,
            Exit::Cluster(ClusterFailure::Kubeconfig) => 11,
            Exit::Cluster(ClusterFailure::Unreachable) => 12,
            Exit::Cluster(ClusterFailure::Denied) => 13,
            Exit::Cluster(ClusterFailure::NotFound) => 14,
            Exit::Cluster(ClusterFailure::PollFailed) => 15,
            Exit::Cluster(ClusterFailure::Suspended) => 16,
            Exit::Cluster(ClusterFailure::NotHandled) => 17,
        }
    }

    /// What the code means, for `--help`.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Failure => "unexpected local failure (e.g. writing the output)",
            Exit::Usage => "invalid command line (bad flag, value or endpoint URL)",
            Exit::Credentials => "UCLOUD_PUBLIC_KEY or UCLOUD_PRIVATE_KEY not set",
            Exit::Call(kind) => match kind {
                ErrorKind::Authentication => {
                    "authentication failed (RetCode 170-174: wrong key or token)"
                }
                ErrorKind::Permission => "permission denied (RetCode 292-299: project, IP, IAM)",
                ErrorKind::Throttled => "throttled (RetCode 153 or HTTP 429) after retries",
                ErrorKind::Unavailable => {
                    "UCloud unavailable (RetCode 110/130/150/>=2000, HTTP 5xx, timeout, connection) after retries"
                }
                ErrorKind::InvalidRequest => {
                    "request rejected (any other RetCode, e.g. unknown repo or image)"
                }
                ErrorKind::MalformedResponse => {
                    "malformed response (not JSON, truncated, too large)"
                }
                ErrorKind::TooManyPages => "paging did not end within --max-pages",
            },
            Exit::Cluster(failure) => match failure {
                ClusterFailure::Kubeconfig => {
                    "no usable kubeconfig (none found and not in a cluster, invalid, or unknown --context)"
                }
                ClusterFailure::Unreachable => {
                    "Kubernetes API unreachable or failing (connection, TLS, timeout, 5xx)"
                }
                ClusterFailure::Denied => "Kubernetes API denied access (HTTP 401 or 403)",
                ClusterFailure::NotFound => {
                    "TagWatch not found (or the TagWatch CRD not installed)"
                }
                ClusterFailure::PollFailed => {
                    "reconcile: the requested poll failed (Ready=False; the reason is printed)"
                }
                ClusterFailure::Suspended => "reconcile: the TagWatch is suspended",
                ClusterFailure::NotHandled => {
                    "reconcile --wait: the request was not handled within --timeout"
                }
            },
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// The exit code table of `exits` for `--help`.
pub fn help_text(exits: &[Exit]) -> String {
    let mut text = String::from("Exit codes:\n");
    for exit in exits {
        text.push_str(&format!("  {:>2}  {}\n", exit.code(), exit.meaning()));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use strum::VariantArray;

    use super::*;

    /// Every exit of every command family.
    fn every_exit() -> Vec<Exit> {
        let mut all: Vec<Exit> = Exit::TAGS.iter().chain(&Exit::CLUSTER).copied().collect();
        all.sort_by_key(|e| e.code());
        all.dedup();
        all
    }

    #[test]
    fn codes_are_distinct_and_in_order() {
        let codes: Vec<u8> = every_exit().iter().map(|e| e.code()).collect();
        assert_eq!(codes, (0..=17).collect::<Vec<u8>>());
        let mut meanings = HashMap::new();
        for exit in every_exit() {
            assert!(meanings.insert(exit.meaning(), exit).is_none(), "{exit:?}");
        }
        for family in [&Exit::TAGS[..], &Exit::CLUSTER[..]] {
            let codes: Vec<u8> = family.iter().map(|e| e.code()).collect();
            assert!(codes.is_sorted(), "{codes:?}");
        }
    }

    #[test]
    fn every_error_kind_has_its_own_code() {
        let codes: HashSet<u8> = ErrorKind::VARIANTS
            .iter()
            .map(|c| Exit::Call(*c).code())
            .collect();
        assert_eq!(codes.len(), ErrorKind::VARIANTS.len());
        assert!(codes.iter().all(|c| *c >= 4));
        for failure in ClusterFailure::VARIANTS {
            assert!(
                Exit::CLUSTER.contains(&Exit::Cluster(*failure)),
                "{failure:?}"
            );
        }
    }

    /// The README's section starting with the line `heading`, up to the next `## `.
    fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
        let start = readme
            .find(&format!("\n{heading}\n"))
            .unwrap_or_else(|| panic!("README.md has no heading {heading:?}"));
        let rest = &readme[start + 1..];
        let end = rest[1..].find("\n## ").map_or(rest.len(), |i| i + 1);
        &rest[..end]
    }

    #[test]
    fn readme_lists_every_code_of_each_family() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        for (heading, exits) in [
            (
                "## `tagwatch tags`: list the tags of a UHub image",
                &Exit::TAGS[..],
            ),
            (
                "## Cluster commands: `tagwatch get`, `describe`, `reconcile`, `suspend`, `resume`, `events`",
                &Exit::CLUSTER[..],
            ),
        ] {
            let text = section(readme, heading);
            for exit in exits {
                let row = format!("| {} | {} |", exit.code(), exit.meaning());
                assert!(
                    text.contains(&row),
                    "README.md's {heading:?} lacks the row {row}"
                );
            }
            let rows = text
                .lines()
                .filter(|l| l.starts_with("| ") && l[2..].starts_with(|c: char| c.is_ascii_digit()))
                .count();
            assert_eq!(rows, exits.len(), "{heading:?} lists other codes too");
        }
    }

    #[test]
    fn help_lists_every_code() {
        for exits in [&Exit::TAGS[..], &Exit::CLUSTER[..]] {
            let help = help_text(exits);
            for exit in exits {
                assert!(
                    help.contains(&format!("{:>2}  {}", exit.code(), exit.meaning())),
                    "{help}"
                );
            }
        }
    }
}
