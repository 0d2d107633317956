//! The krew plugin manifest `deploy/krew/tagwatch.yaml`: krew's `Plugin` v1alpha2 shape,
//! named as its file, at the crate's version, one linux platform per released
//! architecture whose archive URL follows the release layout and whose `bin` is
//! `kubectl-tagwatch`, the name that makes the binary the kubectl plugin.

use serde::Deserialize;

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
fn krew_manifest_installs_the_binary_as_kubectl_tagwatch() {
    let path = testkit::paths::repo_file("deploy/krew/tagwatch.yaml");
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
