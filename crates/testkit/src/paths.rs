//! Where things are: the repository, the build's target directory, the binaries cargo
//! built, and the tools the Makefile builds or installs under `target/` (the control
//! plane, helm, the Python virtual environment).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The repository's root directory.
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A path inside the repository.
pub fn repo_file(relative: &str) -> PathBuf {
    repo_root().join(relative)
}

/// The directory the Makefile's tools live in (`target/tools`).
pub fn tools_dir() -> PathBuf {
    repo_file("target/tools")
}

/// A tool the Makefile built into `target/tools/bin`, e.g. `helm`; panics with the make
/// target to run when it is missing.
pub fn tool(name: &str, make_target: &str) -> PathBuf {
    tools_file(&format!("bin/{name}"), make_target)
}

/// A file the Makefile put under `target/tools`, e.g. `crds/...`; panics with the make
/// target to run when it is missing.
pub fn tools_file(relative: &str, make_target: &str) -> PathBuf {
    let path = tools_dir().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run `make {make_target}` (make test does)",
        path.display()
    );
    path
}

/// `make -C REPO --no-print-directory TARGETS` (e.g. `make image`), without the
/// variables cargo sets for the running test: those (CARGO_PKG_VERSION_MAJOR, ...) would
/// reach build scripts that watch them (ring's) and make a release build start over
/// whenever it alternates with a build from a shell.
pub fn make(targets: &[&str]) -> Command {
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(repo_root())
        .arg("--no-print-directory")
        .args(targets);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_") && !matches!(&*name, "CARGO_HOME" | "CARGO_TARGET_DIR") {
            make.env_remove(&*name);
        }
    }
    make
}

/// The Python interpreter of the virtual environment `make python-sdk` creates.
pub fn python() -> PathBuf {
    tools_dir().join("venv/bin/python")
}

/// The binary `name` of this workspace, as cargo built it for the running test's profile
/// (the directory above the test executable's `deps/`). When it is missing it is built
/// first with `cargo build --bin name`, so that a test of one package can run another
/// package's binary.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let exe = std::env::current_exe().expect("the test executable's path");
    let mut dir = exe.parent().expect("the test executable's directory");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("the profile directory");
    }
    let path = dir.join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !path.exists() && !built.iter().any(|b| b == name) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(repo_root())
            .args(["build", "--bin", name]);
        if dir.ends_with("release") {
            command.arg("--release");
        }
        let status = command.status().expect("running cargo build");
        assert!(status.success(), "cargo build --bin {name} failed");
        built.push(name.to_string());
    }
    assert!(path.exists(), "{} does not exist", path.display());
    path
}

/// The CRDs of Flux and Argo CD that `make gitops-crds` copies out of their Go modules
/// at pinned versions; panics with the make target when they are missing.
pub fn gitops_crds() -> PathBuf {
    let dir = tools_dir().join("gitops-crds");
    assert!(
        dir.join(".pinned").exists(),
        "{} is missing: run `make gitops-crds` (make test does)",
        dir.display()
    );
    dir
}
