//! Exit codes of the `tagwatch` command line: one distinct code per error kind, listed
//! in `--help` and the README from the single table below.

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
}

impl Exit {
    /// Every exit, by code.
    pub const ALL: [Exit; 11] = [
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
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// The exit code table for `--help`.
pub fn help_text() -> String {
    let mut text = String::from("Exit codes:\n");
    for exit in Exit::ALL {
        text.push_str(&format!("  {:>2}  {}\n", exit.code(), exit.meaning()));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use strum::VariantArray;

    use super::*;

    #[test]
    fn codes_are_distinct_and_in_order() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, (0..=10).collect::<Vec<u8>>());
    }

    #[test]
    fn every_error_kind_has_its_own_code() {
        let codes: HashSet<u8> = ErrorKind::VARIANTS
            .iter()
            .map(|c| Exit::Call(*c).code())
            .collect();
        assert_eq!(codes.len(), ErrorKind::VARIANTS.len());
        assert!(codes.iter().all(|c| *c >= 4));
    }

    #[test]
    fn readme_lists_every_code() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        for exit in Exit::ALL {
            let row = format!("| {} | {} |", exit.code(), exit.meaning());
            assert!(readme.contains(&row), "README.md lacks the row {row}");
        }
    }

    #[test]
    fn help_lists_every_code() {
        let help = help_text();
        for exit in Exit::ALL {
            assert!(
                help.contains(&format!("{:>2}  {}", exit.code(), exit.meaning())),
                "{help}"
            );
        }
    }
}
