//! The container image `make image` builds from `deploy/Dockerfile`, and
//! podman configured the way these machines need it (`target/tools/containers.conf`).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The image `make image` tags (the Makefile's IMAGE default).
pub const IMAGE: &str = "localhost/tagwatch:dev";

fn repo_root() -> &'static Path {
    crate::paths::repo_root()
}

/// `podman` with the repository's containers.conf (runc, no default ulimits).
pub fn podman() -> Command {
    let mut podman = Command::new("podman");
    podman.env(
        "CONTAINERS_CONF",
        repo_root().join("target/tools/containers.conf"),
    );
    podman
}

/// Runs `podman args`, panics with its stderr when it fails, returns its stdout.
pub fn podman_stdout(args: &[&str]) -> String {
    let output = podman().args(args).output().expect("running podman");
    succeeded(output, &format!("podman {}", args.join(" ")))
}

/// The stdout of a finished command; panics with `what`, its status and output when
/// it failed.
pub fn succeeded(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what}: {}",
        crate::output_text(&output)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The image, built (or found current) by `make image`; the first caller builds it.
pub fn image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let installed = Command::new("podman").arg("--version").output();
        assert!(
            installed.is_ok_and(|o| o.status.success()),
            "podman is missing: run `make image-deps` (part of `make test-deps`)"
        );
        let mut make = crate::paths::make(&["image"]);
        make.env("IMAGE", IMAGE);
        succeeded(make.output().expect("running make"), "make image");
    });
    IMAGE
}

/// `podman run` of the image the way the chart runs it: read-only root filesystem,
/// no capabilities, no privilege escalation, host network (so it reaches servers on
/// 127.0.0.1), with further podman `options` and `env`; the image and its arguments
/// are left to add.
fn run_restricted(options: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = podman();
    command.args([
        "run",
        "--network",
        "host",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
    ]);
    command.args(options);
    for (name, value) in env {
        command.arg("--env").arg(format!("{name}={value}"));
    }
    command.arg(image());
    command
}

/// `podman run --rm` of the image as [`run_restricted`] describes, with `args` (empty
/// `args` runs the image's CMD); returns once the container exits.
pub fn run(options: &[&str], env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut options = options.to_vec();
    options.insert(0, "--rm");
    let mut command = run_restricted(&options, env);
    command.args(args);
    command.output().expect("running podman run")
}

/// A container of the image running in the background; removed (`podman rm -f`) when
/// dropped, its log printed first when the test panicked.
pub struct Container {
    name: String,
}

impl Container {
    /// Starts the image as [`run_restricted`] describes, with `args`, under a unique
    /// name.
    pub fn start(options: &[&str], env: &[(&str, &str)], args: &[&str]) -> Container {
        let name = format!("tagwatch-test-{}", uuid::Uuid::new_v4().simple());
        let mut options = options.to_vec();
        options.extend_from_slice(&["--detach", "--name", &name]);
        let mut command = run_restricted(&options, env);
        command.args(args);
        let output = command.output().expect("running podman run --detach");
        // Removed on drop even when starting failed half-way.
        let container = Container { name };
        succeeded(output, &format!("podman run --detach {}", args.join(" ")));
        container
    }

    /// What the container wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        let output = podman()
            .args(["logs", &self.name])
            .output()
            .expect("running podman logs");
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- container {} log ---\n{}--- end of log ---",
                self.name,
                self.logs()
            );
        }
        let _ = podman()
            .args(["rm", "--force", "--time", "0", &self.name])
            .output();
    }
}
