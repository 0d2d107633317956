//! The krew plugin manifest `deploy/krew/tagwatch.yaml`: krew's own
//! validate-krew-manifest accepts it; krew itself, run by the real kubectl as the plugin
//! `kubectl krew`, installs it from an archive of the built binary, after which
//! `kubectl tagwatch` runs that binary; and it is at the crate's version, with one linux
//! platform per released architecture whose archive URL follows the release layout and
//! whose `bin` is `kubectl-tagwatch`, the name that makes the binary the kubectl plugin.
//! (`make krew` builds krew's binaries.)

use std::path::Path;
use std::process::Command;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use testkit::paths::{repo_file, tool};

use crate::text;

const MANIFEST: &str = "deploy/krew/tagwatch.yaml";

#[test]
fn krew_validates_the_manifest() {
    let output = Command::new(tool("validate-krew-manifest", "krew"))
        .arg("-manifest")
        .arg(repo_file(MANIFEST))
        .arg("-skip-install")
        .output()
        .expect("running validate-krew-manifest");
    assert!(output.status.success(), "{}", text(&output));
    let log = String::from_utf8_lossy(&output.stderr);
    for check in [
        "structural validation OK",
        "all spec.platform[] items are used",
        "no overlapping spec.platform[].selector",
    ] {
        assert!(log.contains(check), "{}", text(&output));
    }
}

/// krew's name of this machine's architecture.
fn krew_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no released archive for {other}"),
    }
}

#[test]
fn kubectl_krew_installs_it_and_kubectl_tagwatch_runs_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("krew");
    // The release archive's layout: one file, kubectl-tagwatch.
    let content = dir.path().join("content");
    std::fs::create_dir(&content).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_tagwatch"),
        content.join(tagwatch::cli::KUBECTL_PLUGIN),
    )
    .unwrap();
    let archive = dir.path().join("kubectl-tagwatch.tar.gz");
    let status = Command::new("tar")
        .arg("--use-compress-program=gzip -1")
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(&content)
        .arg(tagwatch::cli::KUBECTL_PLUGIN)
        .status()
        .expect("running tar");
    assert!(status.success());
    // The manifest as released: the archive's sha256 in place of the placeholders.
    let sha256 = format!("{:x}", Sha256::digest(std::fs::read(&archive).unwrap()));
    let manifest = std::fs::read_to_string(repo_file(MANIFEST))
        .unwrap()
        .replace(&"0".repeat(64), &sha256);
    let manifest_path = dir.path().join("tagwatch.yaml");
    std::fs::write(&manifest_path, manifest).unwrap();
    // krew is a kubectl plugin itself.
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::os::unix::fs::symlink(tool("krew", "krew"), plugins.join("kubectl-krew")).unwrap();
    let path = |first: &Path| {
        let mut dirs = vec![first.to_path_buf(), root.join("bin")];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    };
    let kubectl = || {
        let mut command = Command::new(testkit::controlplane::bin_dir().join("kubectl"));
        command
            .env("HOME", dir.path())
            .env("KREW_ROOT", &root)
            .env("KREW_NO_UPGRADE_CHECK", "1")
            .env("KREW_OS", "linux")
            .env("KREW_ARCH", krew_arch())
            .env_remove("KUBECONFIG");
        command
    };

    let output = kubectl()
        .env("PATH", path(&plugins))
        .arg("krew")
        .arg("install")
        .arg(format!("--manifest={}", manifest_path.display()))
        .arg(format!("--archive={}", archive.display()))
        .output()
        .expect("running kubectl krew install");
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("Installed plugin: tagwatch"),
        "{}",
        text(&output)
    );
    let installed = root.join("bin").join(tagwatch::cli::KUBECTL_PLUGIN);
    assert!(installed.exists(), "{}", text(&output));

    // kubectl finds the installed plugin on PATH and runs the binary as itself.
    let output = kubectl()
        .env("PATH", path(&plugins))
        .args(["tagwatch", "get", "--help"])
        .output()
        .expect("running kubectl tagwatch");
    assert!(output.status.success(), "{}", text(&output));
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("Usage: kubectl tagwatch get [OPTIONS] [NAME]"),
        "{}",
        text(&output)
    );
    // krew's record of the installation (`krew list` would need its index, from git).
    let receipt = std::fs::read_to_string(root.join("receipts/tagwatch.yaml"))
        .expect("krew's receipt of tagwatch");
    assert!(receipt.contains("name: tagwatch"), "{receipt}");
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Plugin {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Spec {
    version: String,
    homepage: String,
    short_description: String,
    description: String,
    caveats: String,
    platforms: Vec<Platform>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Platform {
    selector: Selector,
    uri: String,
    sha256: String,
    files: Vec<FileOperation>,
    bin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Selector {
    match_labels: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOperation {
    from: String,
    to: String,
}

#[test]
fn krew_manifest_names_the_release_archives_and_the_plugin_binary() {
    let path = repo_file(MANIFEST);
    let text = std::fs::read_to_string(&path).expect("deploy/krew/tagwatch.yaml");
    let plugin: Plugin = serde_norway::from_str(&text).expect("a krew Plugin manifest");
    assert_eq!(
        plugin.api_version,
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(plugin.kind, "Plugin");
    // krew requires the file to be named after the plugin, and the plugin's name is
    // what follows `kubectl `.
    assert_eq!(plugin.metadata.name, "tagwatch");
    assert_eq!(
        path.file_stem().and_then(|s| s.to_str()),
        Some(plugin.metadata.name.as_str())
    );
    assert_eq!(
        format!("kubectl-{}", plugin.metadata.name),
        tagwatch::cli::KUBECTL_PLUGIN
    );
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        plugin.spec.version, version,
        "the crate's version, v-prefixed"
    );
    assert!(plugin.spec.homepage.starts_with("https://"));
    assert!(!plugin.spec.short_description.is_empty() && plugin.spec.short_description.len() <= 80);
    assert!(!plugin.spec.description.trim().is_empty());
    assert!(!plugin.spec.caveats.trim().is_empty());

    let mut arches = Vec::new();
    for platform in &plugin.spec.platforms {
        let labels = &platform.selector.match_labels;
        assert_eq!(labels.get("os").map(String::as_str), Some("linux"));
        let arch = labels.get("arch").expect("an arch label").clone();
        assert_eq!(labels.len(), 2, "{labels:?}");
        assert_eq!(
            platform.uri,
            format!(
                "https://github.com/tagwatch/tagwatch/releases/download/{version}/kubectl-tagwatch_{version}_linux_{arch}.tar.gz"
            )
        );
        assert!(
            platform.sha256.len() == 64
                && platform
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "sha256 {:?} is not 64 lowercase hex digits",
            platform.sha256
        );
        assert_eq!(platform.bin, tagwatch::cli::KUBECTL_PLUGIN);
        assert_eq!(platform.files.len(), 1);
        assert_eq!(platform.files[0].from, tagwatch::cli::KUBECTL_PLUGIN);
        assert_eq!(platform.files[0].to, ".");
        arches.push(arch);
    }
    assert_eq!(arches, ["amd64", "arm64"], "the architectures released");
}
