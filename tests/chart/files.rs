//! Files that must agree with each other: the chart's CRD with `crds/`, and
//! `deploy/manifests/` with the chart (the chart's version and metadata: metadata.rs).

use std::process::Command;
use testkit::helm;

use testkit::helm::{Rendered, repo_root};

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

#[test]
fn chart_crd_is_identical_to_the_committed_crd() {
    let committed = read("crds/tagwatch.dev_tagwatches.yaml");
    let in_chart = read("charts/tagwatch/crds/tagwatch.dev_tagwatches.yaml");
    assert!(
        in_chart == committed,
        "charts/tagwatch/crds/tagwatch.dev_tagwatches.yaml differs from crds/: \
         cp crds/tagwatch.dev_tagwatches.yaml charts/tagwatch/crds/"
    );
}

#[test]
fn plain_manifests_are_the_chart_rendered_with_defaults() {
    let output = Command::new(repo_root().join("deploy/render-manifests.sh"))
        .env("HELM", helm::helm_bin())
        .output()
        .expect("running deploy/render-manifests.sh");
    assert!(
        output.status.success(),
        "deploy/render-manifests.sh: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rendered = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        read("deploy/manifests/tagwatch.yaml") == rendered,
        "deploy/manifests/tagwatch.yaml is out of date: run `make manifests` and commit it"
    );
    // What kubectl gets: the namespace first, then the CRD, then the release.
    let kinds: Vec<_> = Rendered::parse(&rendered)
        .objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "CustomResourceDefinition",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Service",
            "Deployment"
        ]
    );
}
