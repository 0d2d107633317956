//! `charts/tagwatch/Chart.yaml` as a registry and Artifact Hub read it: one version for
//! the chart, the image and the crate, each `artifacthub.io/*` annotation in the shape
//! Artifact Hub documents and true to what it describes (CHANGELOG.md, the default
//! image, the CRD and its example, the repository's files).

use serde::Deserialize;
use serde_json::Value;
use tagwatch::testing::env::shared_control_plane;
use testkit::controlplane::TestNamespace;
use testkit::paths::{repo_file, repo_root};

/// Where the links of Chart.yaml point: files of this repository's main branch.
const REPOSITORY: &str = "https://github.com/tagwatch/tagwatch";

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn yaml<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> T {
    serde_norway::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chart {
    version: String,
    app_version: String,
    home: String,
    icon: String,
    sources: Vec<String>,
    maintainers: Vec<Value>,
    annotations: std::collections::BTreeMap<String, String>,
}

impl Chart {
    fn load() -> Chart {
        yaml("Chart.yaml", &read("charts/tagwatch/Chart.yaml"))
    }

    /// The annotation `artifacthub.io/<name>`, parsed as the YAML Artifact Hub reads.
    fn annotation<T: serde::de::DeserializeOwned>(&self, name: &str) -> T {
        let key = format!("artifacthub.io/{name}");
        let text = self
            .annotations
            .get(&key)
            .unwrap_or_else(|| panic!("Chart.yaml has no annotation {key}"));
        yaml(&key, text)
    }
}

/// Artifact Hub's kinds of change.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ChangeKind {
    Added,
    Changed,
    Deprecated,
    Removed,
    Fixed,
    Security,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    kind: ChangeKind,
    description: String,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    name: String,
    url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Image {
    name: String,
    image: String,
    #[serde(default)]
    whitelisted: bool,
    platforms: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Crd {
    kind: String,
    version: String,
    name: String,
    display_name: String,
    description: String,
}

/// Whitespace runs as one space, as YAML folds a `>-` block.
fn folded(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The entries of CHANGELOG.md's section `## [version] - date`: (kind, text) for each
/// bullet under a `### Kind` heading.
fn changelog_entries(version: &str) -> Vec<(ChangeKind, String)> {
    let changelog = read("CHANGELOG.md");
    let heading = format!("## [{version}] - ");
    let section = changelog
        .split("\n## ")
        .map(|s| format!("## {s}"))
        .find(|s| s.starts_with(&heading))
        .unwrap_or_else(|| panic!("CHANGELOG.md has no section {heading}YYYY-MM-DD"));
    let mut entries: Vec<(ChangeKind, String)> = Vec::new();
    let mut kind = None;
    for line in section.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            let parsed = serde_json::from_value(Value::from(name.to_lowercase()));
            kind = Some(parsed.unwrap_or_else(|_| panic!("CHANGELOG.md: unknown kind {name}")));
        } else if let Some(text) = line.strip_prefix("- ") {
            let kind = kind.expect("CHANGELOG.md: a bullet outside a ### heading");
            entries.push((kind, text.into()));
        } else if let (Some(continued), Some(last)) = (line.strip_prefix("  "), entries.last_mut())
        {
            last.1 = format!("{} {}", last.1, continued.trim());
        } else if line.starts_with('[') {
            break; // the link definitions at the end
        }
    }
    entries
}

#[test]
fn chart_version_and_app_version_are_the_crate_version() {
    let chart = Chart::load();
    let crate_version = env!("CARGO_PKG_VERSION");
    assert_eq!(chart.version, crate_version, "Chart.yaml version");
    assert_eq!(chart.app_version, crate_version, "Chart.yaml appVersion");
}

#[test]
fn changes_are_the_changelog_entries_of_the_chart_version() {
    let chart = Chart::load();
    let changes: Vec<Change> = chart.annotation("changes");
    let entries = changelog_entries(&chart.version);
    assert!(
        !entries.is_empty(),
        "CHANGELOG.md: {} has no entries",
        chart.version
    );
    let annotated: Vec<(ChangeKind, String)> = changes
        .iter()
        .map(|c| (c.kind, folded(&c.description)))
        .collect();
    let logged: Vec<(ChangeKind, String)> =
        entries.iter().map(|(k, text)| (*k, folded(text))).collect();
    assert_eq!(annotated, logged, "artifacthub.io/changes vs CHANGELOG.md");
    for link in changes.iter().flat_map(|c| &c.links) {
        assert!(link.url.starts_with("https://"), "{link:?}");
    }
}

#[test]
fn images_name_the_default_image_at_app_version_for_both_platforms() {
    let chart = Chart::load();
    let values: Value = yaml("values.yaml", &read("charts/tagwatch/values.yaml"));
    let repository = values["image"]["repository"].as_str().unwrap();
    let images: Vec<Image> = chart.annotation("images");
    assert_eq!(images.len(), 1, "{images:?}");
    let image = &images[0];
    assert_eq!(image.name, "tagwatch");
    assert_eq!(image.image, format!("{repository}:{}", chart.app_version));
    assert!(!image.whitelisted, "the image is scanned");
    assert_eq!(image.platforms, ["linux/amd64", "linux/arm64"]);
}

#[test]
fn license_is_the_crate_license_and_the_license_file_is_there() {
    let chart = Chart::load();
    let license: String = chart.annotation("license");
    assert_eq!(license, env!("CARGO_PKG_LICENSE"));
    assert!(
        read("LICENSE").contains("Apache License\n                           Version 2.0"),
        "LICENSE is not the Apache License 2.0"
    );
}

/// The repository file a URL of its main branch names (`blob/main/PATH`,
/// `tree/main/PATH`, raw.githubusercontent.com's `main/PATH`).
fn file_of(url: &str) -> Option<std::path::PathBuf> {
    let raw = "https://raw.githubusercontent.com/tagwatch/tagwatch/main/";
    let path = url.strip_prefix(raw).or_else(|| {
        let rest = url.strip_prefix(REPOSITORY)?;
        rest.strip_prefix("/blob/main/")
            .or_else(|| rest.strip_prefix("/tree/main/"))
    })?;
    Some(repo_root().join(path))
}

#[test]
fn links_home_icon_and_sources_point_at_the_repository() {
    let chart = Chart::load();
    assert_eq!(chart.home, REPOSITORY);
    assert_eq!(chart.sources, [REPOSITORY]);
    assert!(!chart.maintainers.is_empty());
    let icon = file_of(&chart.icon).unwrap_or_else(|| panic!("icon {}", chart.icon));
    let svg = std::fs::read_to_string(&icon).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("viewBox"),
        "{}",
        icon.display()
    );

    let links: Vec<Link> = chart.annotation("links");
    for link in &links {
        if link.name == "support" {
            assert_eq!(link.url, format!("{REPOSITORY}/issues"));
            continue;
        }
        let file = file_of(&link.url).unwrap_or_else(|| panic!("{link:?} is not a file here"));
        assert!(file.exists(), "{link:?}: {} does not exist", file.display());
    }
    let names: Vec<&str> = links.iter().map(|l| l.name.as_str()).collect();
    assert!(names.contains(&"support"), "{names:?}");
}

#[tokio::test]
async fn crd_examples_are_the_shipped_example_and_pass_server_side_dry_run() {
    let chart = Chart::load();
    let crds: Vec<Crd> = chart.annotation("crds");
    let committed: Value = yaml("CRD", &read("crds/tagwatch.dev_tagwatches.yaml"));
    let storage = committed["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["storage"] == true)
        .unwrap();
    assert_eq!(crds.len(), 1, "{crds:?}");
    assert_eq!(crds[0].name, committed["metadata"]["name"]);
    assert_eq!(crds[0].kind, committed["spec"]["names"]["kind"]);
    assert_eq!(crds[0].version, storage["name"]);
    assert!(!crds[0].display_name.is_empty() && !crds[0].description.is_empty());

    let examples: Vec<Value> = chart.annotation("crdsExamples");
    let shipped: Value = yaml("example", &read("deploy/examples/tagwatch-semver.yaml"));
    assert_eq!(examples, [shipped], "crdsExamples vs deploy/examples");

    let namespace = TestNamespace::new("chart-crds-example").await;
    let create = |object: &Value| {
        let args = [
            "create",
            "--dry-run=server",
            "-n",
            namespace.name(),
            "-f",
            "-",
        ];
        let output = shared_control_plane().kubectl_with_input(&args, &object.to_string());
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (
            output.status.success(),
            stdout,
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    };
    let (created, stdout, stderr) = create(&examples[0]);
    assert!(created, "{stderr}");
    assert!(!stderr.contains("Warning"), "{stderr}");
    assert_eq!(
        stdout,
        "tagwatch.tagwatch.dev/web-releases created (server dry run)"
    );

    // The dry run does apply the CRD's validation: an interval below its minimum is refused.
    let mut invalid = examples[0].clone();
    invalid["spec"]["interval"] = Value::from("1s");
    let (created, _, stderr) = create(&invalid);
    assert!(!created, "an interval of 1s was accepted");
    assert!(stderr.contains("interval must be at least 10s"), "{stderr}");
}
