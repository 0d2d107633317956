//! The official UCloud Python SDK (`ucloud-sdk-python3`, pinned in the Makefile) as an
//! independent client of the emulator binary: paging through all tags, and the
//! RetCodes it raises for a wrong private key (171) and an unknown public key (172).
//!
//! Needs the venv that `make python-sdk` installs under target/tools/venv.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use testkit::Emulator;

/// Eight tags, a page of at most three, and a project the SDK must name.
const FIXTURE: &str = r#"
credentials:
  - {publicKey: pub-sdk, privateKey: pri-sdk}
maxLimit: 3
images:
  - repo: team
    image: web
    projectId: org-test
    tags:
      - {name: v1.0.0, updateTime: "2026-11-01 08:00:00", digest: "sha256:a"}
      - {name: v1.1.0, updateTime: "2026-11-02 08:00:00", digest: "sha256:b"}
      - {name: v1.2.0, updateTime: "2026-11-03 08:00:00", digest: "sha256:c"}
      - {name: v1.3.0, updateTime: "2026-11-04 08:00:00"}
      - {name: v2.0.0, updateTime: "2026-11-05 08:00:00"}
      - {name: v2.1.0, updateTime: "2026-11-06 08:00:00"}
      - {name: latest, updateTime: "2026-11-06 08:00:00"}
      - {name: old, updateTime: "2025-01-01 00:00:00"}
"#;

fn python() -> PathBuf {
    let python = testkit::paths::python();
    assert!(
        python.exists(),
        "the UCloud Python SDK is not installed at {}: run `make python-sdk` first",
        python.display()
    );
    python
}

/// Runs tests/python/uhub_sdk_client.py and returns the JSON it prints.
fn sdk(mode: &str, emu: &Emulator, public_key: &str, private_key: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/uhub_sdk_client.py");
    let output = Command::new(python())
        .arg(script)
        .arg(mode)
        .args(["--url", emu.url()])
        .args(["--public-key", public_key, "--private-key", private_key])
        .args([
            "--project-id",
            "org-test",
            "--repo",
            "team",
            "--image",
            "web",
        ])
        .args(["--page-size", "10"])
        .output()
        .expect("run the Python SDK client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the SDK client failed: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn sdk_lists_all_tags_through_several_pages() {
    let emu = Emulator::start_binary(FIXTURE);
    let result = sdk("list", &emu, "pub-sdk", "pri-sdk");
    let names: Vec<&str> = result["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("no tags: {result}"))
        .iter()
        .map(|t| t["TagName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "latest", "v2.1.0", "v2.0.0", "v1.3.0", "v1.2.0", "v1.1.0", "v1.0.0", "old"
        ]
    );
    assert_eq!(result["totalCount"], 8);
    assert_eq!(result["pages"], 3, "maxLimit 3 caps the SDK's Limit of 10");
    assert_eq!(
        result["tags"][6],
        json!({"TagName": "v1.0.0", "UpdateTime": "2026-11-01 08:00:00", "Digest": "sha256:a"})
    );
    let stats = emu.stats().await;
    assert_eq!(stats["byAction"], json!({"GetImageTag": 3}));
    assert_eq!(stats["byRetCode"], json!({"0": 3}));
}

#[tokio::test]
async fn sdk_with_a_wrong_private_key_gets_171() {
    let emu = Emulator::start_binary(FIXTURE);
    let result = sdk("once", &emu, "pub-sdk", "pri-wrong");
    assert_eq!(result["retCode"], 171, "{result}");
    assert_eq!(result["message"], "Signature VerifyAC Error");
    assert!(
        result["requestUuid"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{result}"
    );
    assert_eq!(emu.stats().await["byRetCode"], json!({"171": 1}));
}

#[tokio::test]
async fn sdk_with_an_unknown_public_key_gets_172() {
    let emu = Emulator::start_binary(FIXTURE);
    let result = sdk("once", &emu, "pub-stranger", "pri-sdk");
    assert_eq!(result["retCode"], 172, "{result}");
    assert_eq!(result["message"], "User Not Exists");
    assert_eq!(emu.stats().await["byRetCode"], json!({"172": 1}));
}
