//! The forge workflows `.github/workflows/*.yml` pass actionlint (built from its Go
//! module by `make actionlint`) with its shellcheck rule on, and actionlint does fail a
//! workflow with an injected error, so a pass means something.

use std::path::Path;
use std::process::{Command, Output};

use testkit::paths::{repo_file, tool};

use crate::text;

const RELEASE: &str = ".github/workflows/release.yml";

/// `actionlint -verbose` in the git work tree `dir` (it lints `.github/workflows` of
/// the work tree it runs in), after checking that shellcheck is there: without it
/// actionlint skips every `run:` script and still passes.
fn actionlint(dir: &Path) -> Output {
    let shellcheck = Command::new("shellcheck").arg("--version").output();
    assert!(
        shellcheck.is_ok_and(|o| o.status.success()),
        "shellcheck is missing: run `make actionlint` (make test does), which installs it"
    );
    Command::new(tool("actionlint", "actionlint"))
        .arg("-verbose")
        .arg("-no-color")
        .current_dir(dir)
        .output()
        .expect("running actionlint")
}

#[test]
fn actionlint_passes_the_workflows_with_shellcheck() {
    let output = actionlint(&repo_file(""));
    let log = text(&output);
    assert!(output.status.success(), "{log}");
    for workflow in [".github/workflows/ci.yml", RELEASE] {
        assert!(log.contains(&format!("Linting {workflow}")), "{log}");
    }
    assert!(!log.contains(r#"Rule "shellcheck" was disabled"#), "{log}");
}

#[test]
fn actionlint_fails_a_workflow_with_an_injected_error() {
    let dir = tempfile::tempdir().unwrap();
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .output()
        .expect("running git init");
    assert!(git.status.success(), "{}", text(&git));
    // The release step reads the commit message straight into its script (expression
    // injection) and leaves a variable unquoted (shellcheck's SC2086).
    let good = r#"run: make release VERSION="${GITHUB_REF_NAME#v}" REGISTRY="$REGISTRY""#;
    let bad =
        "run: make release VERSION=${{ github.event.head_commit.message }} REGISTRY=$REGISTRY";
    let workflow = std::fs::read_to_string(repo_file(RELEASE)).unwrap();
    assert!(workflow.contains(good), "{RELEASE} has no line {good}");
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::write(workflows.join("release.yml"), workflow.replace(good, bad)).unwrap();

    let output = actionlint(dir.path());
    let log = text(&output);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains(r#""github.event.head_commit.message" is potentially untrusted"#),
        "{log}"
    );
    assert!(log.contains("SC2086"), "{log}");
}
