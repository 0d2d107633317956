//! Runs the helm built by `make helm` on `charts/tagwatch` and parses what it renders
//! into JSON values, one per Kubernetes object.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::Value;

/// The release name and namespace the tests render with.
pub const RELEASE: &str = "tagwatch";
pub const NAMESPACE: &str = "tagwatch";

/// The repository root.
pub fn repo_root() -> &'static Path {
    crate::paths::repo_root()
}

/// The chart directory.
pub fn chart_dir() -> PathBuf {
    repo_root().join("charts/tagwatch")
}

/// The helm binary `make helm` installs.
pub fn helm_bin() -> PathBuf {
    let helm = repo_root().join("target/tools/bin/helm");
    assert!(
        helm.exists(),
        "{} is missing: run `make helm` (or `make test-deps`)",
        helm.display()
    );
    helm
}

/// The Kubernetes version tests/controlplane/go.mod pins, without the "v":
/// what helm renders and lints for.
pub fn kube_version() -> String {
    include_str!("../../../tests/controlplane/go.mod")
        .lines()
        .find_map(|line| line.trim().strip_prefix("k8s.io/kubernetes v"))
        .expect("tests/controlplane/go.mod requires k8s.io/kubernetes")
        .trim()
        .to_string()
}

/// `helm` with `args`, its HOME-like directories kept out of the user's home.
pub fn helm(args: &[&str]) -> Output {
    let scratch = tempfile::tempdir().expect("a directory for helm's caches");
    Command::new(helm_bin())
        .args(args)
        .env("HELM_CACHE_HOME", scratch.path().join("cache"))
        .env("HELM_CONFIG_HOME", scratch.path().join("config"))
        .env("HELM_DATA_HOME", scratch.path().join("data"))
        .output()
        .expect("running helm")
}

/// Writes `values` to a temporary file for `--values`.
pub fn values_file(values: &Value) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("a values file");
    // JSON is YAML.
    std::fs::write(file.path(), values.to_string()).expect("writing the values file");
    file
}

/// `helm template` of the chart with `values` (release and namespace "tagwatch"),
/// plus `extra` arguments. Ok(stdout) or Err(stderr).
pub fn template(values: &Value, extra: &[&str]) -> Result<String, String> {
    template_release(RELEASE, NAMESPACE, values, extra)
}

/// `helm template` of the chart as `release` in `namespace`.
pub fn template_release(
    release: &str,
    namespace: &str,
    values: &Value,
    extra: &[&str],
) -> Result<String, String> {
    let kube_version = kube_version();
    let mut args = vec!["template", "--kube-version", &kube_version];
    args.extend_from_slice(extra);
    chart_command(&args, release, namespace, values)
}

/// `helm <args> RELEASE CHART --namespace NAMESPACE --values VALUES`: template, or
/// install/upgrade when `args` name a `--kubeconfig`. Ok(stdout) or Err(stderr).
pub fn chart_command(
    args: &[&str],
    release: &str,
    namespace: &str,
    values: &Value,
) -> Result<String, String> {
    let values = values_file(values);
    let chart = chart_dir();
    let mut args = args.to_vec();
    args.extend_from_slice(&[
        release,
        chart.to_str().expect("UTF-8 path"),
        "--namespace",
        namespace,
        "--values",
        values.path().to_str().expect("UTF-8 path"),
    ]);
    let output = helm(&args);
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).expect("helm prints UTF-8"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// `helm install|upgrade` (`command`) of the chart as `release` in `namespace` on the
/// cluster `kubeconfig` names; panics with helm's error.
pub fn apply(kubeconfig: &Path, command: &str, release: &str, namespace: &str, values: &Value) {
    let kubeconfig = kubeconfig.to_str().expect("UTF-8 path");
    chart_command(
        &[command, "--kubeconfig", kubeconfig],
        release,
        namespace,
        values,
    )
    .unwrap_or_else(|e| panic!("helm {command} {release} with {values}: {e}"));
}

/// `helm uninstall` of `release` in `namespace` on the cluster `kubeconfig` names;
/// panics with helm's error.
pub fn uninstall(kubeconfig: &Path, release: &str, namespace: &str) {
    let output = helm(&[
        "uninstall",
        release,
        "--namespace",
        namespace,
        "--kubeconfig",
        kubeconfig.to_str().expect("UTF-8 path"),
    ]);
    assert!(
        output.status.success(),
        "helm uninstall {release}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The objects of `helm template` with `values`; panics with helm's error.
pub fn render(values: &Value) -> Rendered {
    let yaml = template(values, &[]).unwrap_or_else(|e| panic!("helm template {values}: {e}"));
    Rendered::parse(&yaml)
}

/// The objects of a multi-document YAML stream.
pub struct Rendered {
    pub objects: Vec<Value>,
}

impl Rendered {
    /// Parses every non-empty document of `yaml`.
    pub fn parse(yaml: &str) -> Rendered {
        let objects = serde_norway::Deserializer::from_str(yaml)
            .map(|document| Value::deserialize(document).expect("helm renders valid YAML"))
            .filter(|object| !object.is_null())
            .collect();
        Rendered { objects }
    }

    /// All objects of `kind`.
    pub fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }

    /// The one object of `kind`; panics when there is not exactly one.
    pub fn one(&self, kind: &str) -> &Value {
        match self.of_kind(kind).as_slice() {
            [object] => object,
            other => panic!("expected one {kind}, found {}", other.len()),
        }
    }

    /// `(kind, namespace, name)` of every object, sorted.
    pub fn ids(&self) -> Vec<(String, String, String)> {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let mut ids: Vec<_> = self
            .objects
            .iter()
            .map(|o| {
                (
                    text(&o["kind"]),
                    text(&o["metadata"]["namespace"]),
                    text(&o["metadata"]["name"]),
                )
            })
            .collect();
        ids.sort();
        ids
    }

    /// The Deployment's operator container.
    pub fn container(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    }

    /// The operator container's environment as (name, value) with `valueFrom`
    /// shown as its JSON.
    pub fn env(&self) -> Vec<(String, String)> {
        self.container()["env"]
            .as_array()
            .expect("the container has env")
            .iter()
            .map(|var| {
                let value = match &var["value"] {
                    Value::String(text) => text.clone(),
                    Value::Null => var["valueFrom"].to_string(),
                    other => panic!("env {var}: value {other} is not a string"),
                };
                (var["name"].as_str().expect("env name").to_string(), value)
            })
            .collect()
    }

    /// The value of the environment variable `name`, if set.
    pub fn env_var(&self, name: &str) -> Option<String> {
        self.env()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}
