//! `make demo` keeps working: the demo script, run in its non-interactive mode, brings up
//! its own control plane, emulator and operator, and shows the pushed tag's events.

use std::path::Path;
use std::process::Command;

#[test]
fn demo_shows_the_pushed_tag_and_stops_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let state = tempfile::Builder::new()
        .prefix("demo-")
        .tempdir_in(root.join("target"))
        .expect("state dir");
    let output = Command::new(root.join("scripts/demo.sh"))
        .arg("--check")
        .env("TAGWATCH_BIN", env!("CARGO_BIN_EXE_tagwatch"))
        .env("EMULATOR_BIN", testkit::paths::binary("uhub-emulator"))
        .env("DEMO_STATE", state.path())
        .env_remove("KUBECONFIG")
        .output()
        .expect("run scripts/demo.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "demo failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for expected in [
        "InitialSync",
        "NewTag",
        "new tag v1.3.0",
        "LatestTagChanged",
        "==> stopped",
    ] {
        assert!(
            stdout.contains(expected),
            "demo output lacks {expected:?}:\n{stdout}"
        );
    }
    assert!(
        !state.path().exists() || std::fs::read_dir(state.path()).unwrap().next().is_none(),
        "demo left state behind"
    );
}
