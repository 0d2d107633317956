//! The container image from `deploy/Dockerfile` (`make image`): one layer holding only
//! the static binary, a numeric non-root user, `/tagwatch` as entrypoint with `run` as
//! command, a small size, and a binary that works in it (version, TLS roots, a UCloud
//! request to an IP endpoint) under the restrictions the chart sets.

use std::process::Command;

use serde_json::Value;
use testkit::Emulator;
use testkit::podman::{image, podman_stdout, run, succeeded};

/// Upper bound of the image size; the binary alone is about 11 MB.
const MAX_IMAGE_BYTES: u64 = 40 * 1024 * 1024;

fn inspect() -> Value {
    let json = podman_stdout(&["image", "inspect", image()]);
    let mut images: Vec<Value> = serde_json::from_str(&json).expect("podman prints JSON");
    assert_eq!(images.len(), 1, "{json}");
    images.remove(0)
}

#[test]
fn image_runs_the_binary_as_a_numeric_non_root_user() {
    let image = inspect();
    let config = &image["Config"];
    assert_eq!(config["User"], "65532:65532");
    assert_eq!(config["Entrypoint"], serde_json::json!(["/tagwatch"]));
    assert_eq!(config["Cmd"], serde_json::json!(["run"]));
    assert!(
        config["ExposedPorts"].is_null() && config["Volumes"].is_null(),
        "{config}"
    );
    let size = image["Size"].as_u64().expect("image size");
    assert!(
        size < MAX_IMAGE_BYTES,
        "image is {size} bytes, more than {MAX_IMAGE_BYTES}"
    );
    assert_eq!(
        image["RootFS"]["Layers"].as_array().map(Vec::len),
        Some(1),
        "{}",
        image["RootFS"]
    );
}

#[test]
fn image_holds_nothing_but_the_binary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = dir.path().join("image.tar");
    podman_stdout(&[
        "save",
        "--format",
        "docker-archive",
        "--output",
        archive.to_str().unwrap(),
        image(),
    ]);
    let unpacked = dir.path().join("image");
    std::fs::create_dir(&unpacked).unwrap();
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .expect("running tar");
    assert!(status.success());
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(unpacked.join("manifest.json")).expect("manifest.json"),
    )
    .unwrap();
    let layers = manifest[0]["Layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "{manifest}");
    let listing = Command::new("tar")
        .arg("-tvf")
        .arg(unpacked.join(layers[0].as_str().unwrap()))
        .output()
        .expect("running tar");
    let listing = String::from_utf8(listing.stdout).unwrap();
    let entries: Vec<_> = listing
        .lines()
        .map(|line| line.split_whitespace().last().unwrap_or_default())
        .collect();
    assert_eq!(entries, ["tagwatch"], "{listing}");
    assert!(listing.starts_with("-rwx"), "not executable: {listing}");
}

#[test]
fn version_runs_in_the_image() {
    let output = run(&[], &[], &["--version"]);
    assert_eq!(
        succeeded(output, "tagwatch --version"),
        format!("tagwatch {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Lists the tags of the emulator's one image with `tagwatch tags` in the image,
/// reaching the emulator as `host`, with further podman `options`.
fn list_tags_in_image(options: &[&str], host: &str) {
    let emulator = Emulator::start(
        "credentials: [{publicKey: pub-image, privateKey: pri-image}]\n\
         images: [{repo: team, image: web, tags: [{name: v1.0.0, updateTime: '2026-11-01 08:00:00'}]}]\n",
    );
    let endpoint = format!("http://{host}:{}", emulator.addr().port());
    let output = run(
        options,
        &[
            ("UCLOUD_PUBLIC_KEY", "pub-image"),
            ("UCLOUD_PRIVATE_KEY", "pri-image"),
        ],
        &[
            "tags",
            "--repo",
            "team",
            "--image",
            "web",
            "--output",
            "json",
            "--endpoint",
            &endpoint,
        ],
    );
    let stdout = succeeded(output, &format!("tagwatch tags --endpoint {endpoint}"));
    let listing: Value = serde_json::from_str(&stdout).expect("JSON output");
    assert_eq!(listing["tagCount"], 1);
    assert_eq!(listing["tags"][0]["name"], "v1.0.0");
}

/// A signed UCloud request to an IP endpoint from inside the image: the TLS roots load
/// (the client refuses to start without them) and no name is looked up.
#[test]
fn image_lists_tags_from_an_ip_endpoint() {
    list_tags_in_image(&[], "127.0.0.1");
}

/// A host name in the image: the static binary resolves it without NSS libraries
/// (here from the /etc/hosts podman writes, as Kubernetes does for a pod).
#[test]
fn image_resolves_a_host_name() {
    list_tags_in_image(
        &["--add-host", "uhub.example.test:127.0.0.1"],
        "uhub.example.test",
    );
}
