//! `make release` (scripts/release.sh, docs/release.md) into a local OCI registry, and
//! the release pulled back and used the way docs/install.md says.
//!
//! One `make release` per run (it builds both architectures and pushes everything), so
//! the checks are steps of one test:
//! 1. the pushed index holds exactly linux/amd64 and linux/arm64;
//! 2. each platform, pulled back by digest, is a one-layer `FROM scratch` image of the
//!    binary alone, user 65532, under 15 MB; the arm64 binary prints its version under
//!    qemu user-mode emulation, the amd64 one natively;
//! 3. cosign verifies the index and the chart, and refuses the tag once it points at a
//!    tampered image; each platform's CycloneDX SBOM attestation verifies;
//! 4. `helm install` of the pushed chart renders the pushed image;
//! 5. `helm upgrade` from the previous chart version keeps every TagWatch and the new
//!    CRD accepts the newer field, following docs/install.md's upgrade steps. There is no
//!    earlier release yet: the previous version is simulated, built here from the
//!    current chart with a lower version and a CRD without `spec.triggers`. It runs on a
//!    control plane of its own, since the older CRD would disturb the other tests.
//!
//! Every tool runs with proxies pointing at a dead loopback port, so nothing reaches
//! beyond 127.0.0.1 (`make release` itself sets no such guard: real releases push to
//! remote registries).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use serde_json::{Value, json};
use tagwatch::api::v1alpha1::TagWatch;
use testkit::Registry;
use testkit::controlplane::{ControlPlane, TestNamespace, eventually};
use testkit::helm::helm;
use testkit::output_text as text;
use testkit::paths::{make, repo_file, tool};
use testkit::podman::{podman, podman_stdout, succeeded};

/// The release's version: Cargo's (make release refuses any other).
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The simulated previous chart version.
const PREVIOUS: &str = "0.0.1";
/// The size limit of one platform's image, as pulled (manifest, config and layer).
const MAX_IMAGE_BYTES: u64 = 15_000_000;
/// The password of the throwaway cosign key.
const COSIGN_PASSWORD: &str = "release-test";
/// The OCI index media type.
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Proxies at a dead loopback port: any request beyond 127.0.0.1 fails at once.
const OFFLINE: [(&str, &str); 7] = [
    ("HTTPS_PROXY", "http://127.0.0.1:1"),
    ("HTTP_PROXY", "http://127.0.0.1:1"),
    ("https_proxy", "http://127.0.0.1:1"),
    ("http_proxy", "http://127.0.0.1:1"),
    ("NO_PROXY", "127.0.0.1,localhost"),
    ("no_proxy", "127.0.0.1,localhost"),
    ("SYFT_CHECK_FOR_APP_UPDATE", "false"),
];

fn offline(mut command: Command) -> Command {
    command.envs(OFFLINE);
    command
}

/// `cosign args` (offline, the test key's password set).
fn cosign(args: &[&str]) -> Output {
    let mut cosign = offline(Command::new(tool("cosign", "release-tools")));
    cosign.env("COSIGN_PASSWORD", COSIGN_PASSWORD).args(args);
    cosign.output().expect("running cosign")
}

/// `cosign verify` (or `verify-attestation` with `extra`) of `reference` with `key`,
/// without the transparency log (the release signs with REKOR=0).
fn cosign_verify(command: &str, key: &Path, reference: &str, extra: &[&str]) -> Output {
    let key = key.to_str().expect("UTF-8 path");
    let mut args = vec![
        command,
        "--key",
        key,
        "--insecure-ignore-tlog=true",
        "--allow-http-registry",
    ];
    args.extend_from_slice(extra);
    args.push(reference);
    cosign(&args)
}

/// `helm args`, panicking with its output when it fails.
fn helm_ok(args: &[&str]) -> String {
    succeeded(helm(args), &format!("helm {}", args.join(" ")))
}

/// `helm install|upgrade RELEASE CHART --version VERSION` from the plain-HTTP registry,
/// in the namespace named like the release, on the cluster of `kubeconfig`, with `extra`
/// arguments.
fn helm_release(
    command: &str,
    release: &str,
    chart: &str,
    version: &str,
    kubeconfig: &str,
    extra: &[&str],
) {
    let mut args = vec![
        command,
        release,
        chart,
        "--version",
        version,
        "--plain-http",
        "--namespace",
        release,
        "--kubeconfig",
        kubeconfig,
    ];
    args.extend_from_slice(extra);
    helm_ok(&args);
}

/// The registry's HTTP API for the image repository.
struct RegistryApi {
    http: reqwest::Client,
    base: String,
}

impl RegistryApi {
    fn new(registry: &Registry, repository: &str) -> RegistryApi {
        RegistryApi {
            http: reqwest::Client::new(),
            base: format!("http://{}/v2/{repository}", registry.host()),
        }
    }

    async fn get(&self, path: &str, accept: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
        let url = format!("{}/{path}", self.base);
        let response = self
            .http
            .get(&url)
            .header("Accept", accept)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(
            response.status().is_success(),
            "GET {url}: {}",
            response.status()
        );
        let headers = response.headers().clone();
        (headers, response.bytes().await.expect("the body").to_vec())
    }

    async fn put_manifest(&self, reference: &str, media_type: &str, body: Vec<u8>) {
        let url = format!("{}/manifests/{reference}", self.base);
        let response = self
            .http
            .put(&url)
            .header("Content-Type", media_type)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT {url}: {e}"));
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "PUT {url}");
    }
}

#[tokio::test]
async fn release_pushes_a_signed_two_arch_image_and_a_chart_that_installs_and_upgrades() {
    let registry = Registry::start().await;
    let registry_path = format!("{}/tagwatch", registry.host());
    let image = format!("{registry_path}/tagwatch");
    let charts = format!("oci://{registry_path}/charts");
    let keys = tempfile::tempdir().unwrap();
    let generated = offline(Command::new(tool("cosign", "release-tools")))
        .current_dir(keys.path())
        .env("COSIGN_PASSWORD", COSIGN_PASSWORD)
        .arg("generate-key-pair")
        .output()
        .expect("running cosign generate-key-pair");
    succeeded(generated, "cosign generate-key-pair");
    let (private_key, public_key) = (
        keys.path().join("cosign.key"),
        keys.path().join("cosign.pub"),
    );

    // The release, as docs/release.md runs it (plus the offline guard).
    let started = Instant::now();
    let mut release = offline(make(&[
        "release",
        &format!("VERSION={VERSION}"),
        &format!("REGISTRY={registry_path}"),
        &format!("COSIGN_KEY={}", private_key.display()),
        "PLAIN_HTTP=1",
        "REKOR=0",
    ]));
    release.env("COSIGN_PASSWORD", COSIGN_PASSWORD);
    let output = release.output().expect("running make release");
    let log = succeeded(output, "make release");
    eprintln!("make release took {:?}:\n{log}", started.elapsed());
    let out = repo_file(&format!("target/release/{VERSION}"));
    for file in [
        "tagwatch-linux-amd64",
        "tagwatch-linux-arm64",
        &format!("tagwatch-{VERSION}.tgz"),
        "tagwatch.yaml",
        "sbom-amd64.cdx.json",
        "sbom-amd64.spdx.json",
        "sbom-arm64.cdx.json",
        "sbom-arm64.spdx.json",
        "digests.txt",
        "krew-tagwatch.yaml",
        &format!("kubectl-tagwatch_v{VERSION}_linux_amd64.tar.gz"),
        &format!("kubectl-tagwatch_v{VERSION}_linux_arm64.tar.gz"),
    ] {
        assert!(
            out.join(file).is_file(),
            "{file} is missing in {}",
            out.display()
        );
    }

    krew_manifest_names_the_archives_by_checksum(&out);

    // 1. The index: exactly linux/amd64 and linux/arm64.
    let api = RegistryApi::new(&registry, "tagwatch/tagwatch");
    let (headers, index_bytes) = api.get(&format!("manifests/{VERSION}"), OCI_INDEX).await;
    assert_eq!(headers["content-type"], OCI_INDEX);
    let index_digest = headers["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_string();
    let index: Value = serde_json::from_slice(&index_bytes).unwrap();
    let mut platforms: Vec<(String, String)> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            let platform = &m["platform"];
            (
                format!(
                    "{}/{}",
                    platform["os"].as_str().unwrap(),
                    platform["architecture"].as_str().unwrap()
                ),
                m["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    platforms.sort();
    let names: Vec<&str> = platforms.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["linux/amd64", "linux/arm64"], "{index}");
    let digests = std::fs::read_to_string(out.join("digests.txt")).unwrap();
    assert!(digests.contains(&index_digest), "{digests}");

    // 2. Each platform pulled back by digest.
    for (platform, digest) in &platforms {
        let arch = platform.trim_start_matches("linux/");
        let reference = format!("{image}@{digest}");
        podman_stdout(&["pull", "--quiet", "--tls-verify=false", &reference]);
        let inspected: Value =
            serde_json::from_str(&podman_stdout(&["image", "inspect", &reference])).unwrap();
        let inspected = &inspected[0];
        assert_eq!(inspected["Architecture"], arch, "{inspected}");
        assert_eq!(inspected["Os"], "linux");
        assert_eq!(inspected["Config"]["User"], "65532:65532");
        assert_eq!(inspected["Config"]["Entrypoint"], json!(["/tagwatch"]));
        assert_eq!(
            inspected["RootFS"]["Layers"].as_array().map(Vec::len),
            Some(1)
        );
        let _ = podman().args(["rmi", &reference]).output();

        let manifest_bytes = api
            .get(&format!("manifests/{digest}"), OCI_MANIFEST)
            .await
            .1;
        let manifest: Value = serde_json::from_slice(&manifest_bytes).unwrap();
        let layers = manifest["layers"].as_array().expect("layers");
        assert_eq!(layers.len(), 1, "{manifest}");
        let pulled_bytes = manifest_bytes.len() as u64
            + manifest["config"]["size"].as_u64().unwrap()
            + layers[0]["size"].as_u64().unwrap();
        eprintln!(
            "{platform}: {pulled_bytes} bytes to pull ({} B layer), {} bytes unpacked",
            layers[0]["size"], inspected["Size"]
        );
        assert!(
            pulled_bytes < MAX_IMAGE_BYTES,
            "{platform} image is {pulled_bytes} bytes"
        );

        // The layer holds the binary alone, and the binary runs.
        let dir = tempfile::tempdir().unwrap();
        let layer = dir.path().join("layer.tar.gz");
        let digest = layers[0]["digest"].as_str().unwrap();
        std::fs::write(&layer, api.get(&format!("blobs/{digest}"), "*/*").await.1).unwrap();
        let listing = Command::new("tar")
            .arg("-tzf")
            .arg(&layer)
            .output()
            .unwrap();
        assert_eq!(succeeded(listing, "tar -t"), "tagwatch\n");
        let unpacked = Command::new("tar")
            .arg("-xzf")
            .arg(&layer)
            .arg("-C")
            .arg(dir.path())
            .output()
            .unwrap();
        succeeded(unpacked, "tar -x");
        let binary = dir.path().join("tagwatch");
        let version = match arch {
            "arm64" => Command::new("qemu-aarch64-static")
                .arg(&binary)
                .arg("--version")
                .output(),
            _ => Command::new(&binary).arg("--version").output(),
        }
        .unwrap_or_else(|e| panic!("running the {platform} binary: {e}"));
        assert_eq!(
            succeeded(version, &format!("{platform} tagwatch --version")),
            format!("tagwatch {VERSION}\n")
        );
        let release_binary = std::fs::read(out.join(format!("tagwatch-linux-{arch}"))).unwrap();
        assert!(
            std::fs::read(&binary).unwrap() == release_binary,
            "{platform}: not the released binary"
        );
    }

    // 3. Signatures and SBOM attestations.
    let chart_digest = digests
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{charts}/tagwatch:{VERSION} ")))
        .unwrap_or_else(|| panic!("no chart digest in {digests}"))
        .to_string();
    let tag = format!("{image}:{VERSION}");
    for reference in [
        format!("{image}@{index_digest}"),
        tag.clone(),
        format!("{image}@{}", platforms[0].1),
        format!("{image}@{}", platforms[1].1),
        format!(
            "{}/tagwatch@{chart_digest}",
            charts.trim_start_matches("oci://")
        ),
    ] {
        let verified = cosign_verify("verify", &public_key, &reference, &[]);
        assert!(
            verified.status.success(),
            "cosign verify {reference}: {}",
            text(&verified)
        );
    }
    for (platform, digest) in &platforms {
        let reference = format!("{image}@{digest}");
        let attested = cosign_verify(
            "verify-attestation",
            &public_key,
            &reference,
            &["--type", "cyclonedx"],
        );
        assert!(
            attested.status.success(),
            "verify-attestation {reference}: {}",
            text(&attested)
        );
        let envelope: Value = serde_json::from_slice(
            attested
                .stdout
                .split(|b| *b == b'\n')
                .next()
                .expect("an attestation"),
        )
        .unwrap();
        let statement = base64_decode(envelope["payload"].as_str().expect("a payload"));
        let statement: Value = serde_json::from_slice(&statement).unwrap();
        assert_eq!(statement["predicateType"], "https://cyclonedx.org/bom");
        assert_eq!(
            statement["subject"][0]["digest"]["sha256"],
            digest.trim_start_matches("sha256:")
        );
        // The crates linked into the binary (cargo auditable) are in the SBOM.
        let components = statement["predicate"]["components"]
            .as_array()
            .expect("components");
        assert!(
            components.iter().any(|c| c["name"] == "kube-client")
                && components.iter().any(|c| c["name"] == "tokio"),
            "{platform}: {} components, no kube-client or tokio",
            components.len()
        );
    }
    // The tag re-pointed at a tampered image (the binary plus one byte) fails to verify;
    // the saved index put back verifies again.
    let tampered = tempfile::tempdir().unwrap();
    let mut binary = std::fs::read(out.join("tagwatch-linux-amd64")).unwrap();
    binary.push(0);
    let tampered_binary = tampered.path().join("tagwatch");
    std::fs::write(&tampered_binary, binary).unwrap();
    let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&tampered_binary, executable).unwrap();
    let local = format!(
        "localhost/tagwatch-tampered:{}",
        registry.host().replace(':', "-")
    );
    podman_stdout(&[
        "build",
        "--quiet",
        "-f",
        repo_file("deploy/Dockerfile").to_str().unwrap(),
        "-t",
        &local,
        tampered.path().to_str().unwrap(),
    ]);
    podman_stdout(&[
        "push",
        "--quiet",
        "--tls-verify=false",
        &local,
        &format!("docker://{tag}"),
    ]);
    let _ = podman().args(["rmi", &local]).output();
    let refused = cosign_verify("verify", &public_key, &tag, &[]);
    assert!(
        !refused.status.success(),
        "a tampered tag verified: {}",
        text(&refused)
    );
    eprintln!("tampered tag refused: {}", text(&refused).trim());
    api.put_manifest(VERSION, OCI_INDEX, index_bytes.clone())
        .await;
    let restored = cosign_verify("verify", &public_key, &tag, &[]);
    assert!(
        restored.status.success(),
        "restored tag: {}",
        text(&restored)
    );

    // 4. helm install of the pushed chart renders the pushed image.
    let chart = format!("{charts}/tagwatch");
    let expected_image = format!("{image}:{VERSION}");
    let control_plane = ControlPlane::shared();
    let kubeconfig = control_plane.kubeconfig_path().to_str().unwrap();
    let namespace = TestNamespace::new("tagwatch-release").await;
    let release = namespace.name();
    helm_release("install", release, &chart, VERSION, kubeconfig, &[]);
    let deployment = namespace.api::<Deployment>().get(release).await.unwrap();
    assert_eq!(container_image(&deployment), expected_image);
    helm_ok(&[
        "uninstall",
        release,
        "--namespace",
        release,
        "--kubeconfig",
        kubeconfig,
    ]);

    // 5. helm upgrade from the (simulated) previous chart version.
    upgrade_from_previous(&chart, &expected_image).await;
    drop(registry);
}

/// The operator container's image of `deployment`.
/// The release's krew manifest passes krew's own validation and names each archive of
/// this version with its sha256; each archive holds only `kubectl-tagwatch`, the
/// architecture's released binary.
fn krew_manifest_names_the_archives_by_checksum(out: &Path) {
    // krew wants the file named after the plugin, as in the krew index.
    let dir = tempfile::tempdir().unwrap();
    let manifest_path = dir.path().join("tagwatch.yaml");
    std::fs::copy(out.join("krew-tagwatch.yaml"), &manifest_path).unwrap();
    let output = Command::new(tool("validate-krew-manifest", "krew"))
        .arg("-manifest")
        .arg(&manifest_path)
        .arg("-skip-install")
        .output()
        .expect("running validate-krew-manifest");
    assert!(output.status.success(), "{}", text(&output));
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let manifest: Value = serde_norway::from_str(&manifest).unwrap();
    assert_eq!(manifest["spec"]["version"], format!("v{VERSION}"));
    let platforms = manifest["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 2, "{manifest}");
    for platform in platforms {
        let arch = platform["selector"]["matchLabels"]["arch"]
            .as_str()
            .unwrap();
        let archive = format!("kubectl-tagwatch_v{VERSION}_linux_{arch}.tar.gz");
        let uri = platform["uri"].as_str().unwrap();
        assert!(uri.ends_with(&format!("/v{VERSION}/{archive}")), "{uri}");
        let sum = Command::new("sha256sum")
            .arg(out.join(&archive))
            .output()
            .unwrap();
        let sum = String::from_utf8_lossy(&sum.stdout);
        assert_eq!(platform["sha256"], sum.split_whitespace().next().unwrap());
        let listing = Command::new("tar")
            .arg("-tzf")
            .arg(out.join(&archive))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&listing.stdout),
            "kubectl-tagwatch\n"
        );
    }
}

fn container_image(deployment: &Deployment) -> String {
    let spec = deployment.spec.as_ref().expect("spec");
    let pod = spec.template.spec.as_ref().expect("pod spec");
    pod.containers[0].image.clone().expect("an image")
}

/// Standard base64 (the DSSE payload).
fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// A TagWatch manifest named `name`, with `spec.triggers` when `triggers`.
fn tagwatch_manifest(name: &str, triggers: bool) -> String {
    let mut tagwatch = json!({
        "apiVersion": "tagwatch.dev/v1alpha1",
        "kind": "TagWatch",
        "metadata": {"name": name},
        "spec": {"repoName": "team", "imageName": name, "secretRef": {"name": "ucloud-keys"}},
    });
    if triggers {
        tagwatch["spec"]["triggers"] = json!([{"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository", "name": name}]);
    }
    tagwatch.to_string()
}

/// Pushes the previous chart (this chart at version PREVIOUS with a CRD without
/// `spec.triggers`) next to the release's, installs it on a control plane of its own with
/// TagWatches, then upgrades as docs/install.md says: the release's CRDs applied first
/// (`helm show crds ... | kubectl apply --server-side --force-conflicts -f -`), then
/// `helm upgrade ... --reset-then-reuse-values`.
async fn upgrade_from_previous(chart: &str, expected_image: &str) {
    // The previous chart.
    let work = tempfile::tempdir().unwrap();
    let previous = work.path().join("tagwatch");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(repo_file("charts/tagwatch"))
        .arg(&previous)
        .output()
        .unwrap();
    succeeded(copied, "cp -r charts/tagwatch");
    let values = std::fs::read_to_string(previous.join("values.yaml")).unwrap();
    let repository = expected_image.rsplit_once(':').unwrap().0;
    let values = values.replace(
        "  repository: uhub.service.ucloud.cn/tagwatch/tagwatch\n",
        &format!("  repository: {repository}\n"),
    );
    std::fs::write(previous.join("values.yaml"), values).unwrap();
    let crd_file = previous.join("crds/tagwatch.dev_tagwatches.yaml");
    let mut crd: Value =
        serde_norway::from_str(&std::fs::read_to_string(&crd_file).unwrap()).unwrap();
    let spec = &mut crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    assert!(
        spec["properties"]["triggers"].is_object(),
        "the CRD has spec.triggers"
    );
    spec["properties"]
        .as_object_mut()
        .unwrap()
        .remove("triggers");
    // JSON is YAML.
    std::fs::write(&crd_file, crd.to_string()).unwrap();
    helm_ok(&[
        "package",
        previous.to_str().unwrap(),
        "--version",
        PREVIOUS,
        "--app-version",
        PREVIOUS,
        "-d",
        work.path().to_str().unwrap(),
    ]);
    let package = work.path().join(format!("tagwatch-{PREVIOUS}.tgz"));
    let charts = chart.trim_end_matches("/tagwatch");
    helm_ok(&["push", package.to_str().unwrap(), charts, "--plain-http"]);

    // The previous version installed, with TagWatches.
    let cluster = ControlPlane::start();
    let kubeconfig = cluster.kubeconfig_path().to_str().unwrap();
    let namespace = TestNamespace::new_in(&cluster, "tagwatch-upgrade").await;
    let release = namespace.name();
    helm_release(
        "install",
        release,
        chart,
        PREVIOUS,
        kubeconfig,
        &["--set", "replicaCount=2"],
    );
    let tagwatches = namespace.api::<TagWatch>();
    let names = ["web", "api", "worker"];
    for name in names {
        let manifest = tagwatch_manifest(name, false);
        succeeded(
            cluster.kubectl_apply(release, &manifest),
            &format!("kubectl apply {name}"),
        );
    }
    let before = eventually(
        "the TagWatches are listed",
        Duration::from_secs(30),
        || async {
            let list = tagwatches
                .list(&Default::default())
                .await
                .map_err(|e| e.to_string())?;
            if list.items.len() == names.len() {
                Ok(list.items)
            } else {
                Err(format!("{} TagWatches", list.items.len()))
            }
        },
    )
    .await;
    let refused = cluster.kubectl_apply(release, &tagwatch_manifest("flux", true));
    assert!(
        !refused.status.success() && text(&refused).contains("spec.triggers"),
        "the previous CRD accepted spec.triggers: {}",
        text(&refused)
    );

    // docs/install.md, "Upgrading": the CRDs first, then the chart.
    let crds = helm_ok(&["show", "crds", chart, "--version", VERSION, "--plain-http"]);
    let applied = cluster.kubectl_with_input(
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        &crds,
    );
    succeeded(applied, "kubectl apply --server-side the release's CRDs");
    helm_release(
        "upgrade",
        release,
        chart,
        VERSION,
        kubeconfig,
        &["--reset-then-reuse-values"],
    );

    // Every TagWatch kept, unchanged; the new field accepted; the new image and the
    // user's value in the Deployment.
    for old in &before {
        let name = old.metadata.name.as_deref().unwrap();
        let now = tagwatches.get(name).await.unwrap();
        assert_eq!(now.metadata.uid, old.metadata.uid, "{name} was re-created");
        assert_eq!(
            serde_json::to_value(&now.spec).unwrap(),
            serde_json::to_value(&old.spec).unwrap()
        );
    }
    let manifest = tagwatch_manifest("flux", true);
    eventually(
        "the new CRD accepts spec.triggers",
        Duration::from_secs(30),
        || async {
            let applied = cluster.kubectl_apply(release, &manifest);
            if applied.status.success() {
                Ok(())
            } else {
                Err(text(&applied))
            }
        },
    )
    .await;
    let flux = tagwatches.get("flux").await.unwrap();
    assert_eq!(flux.spec.triggers.len(), 1, "{:?}", flux.spec);
    let deployment = Api::<Deployment>::namespaced(namespace.client(), release)
        .get(release)
        .await
        .unwrap();
    assert_eq!(container_image(&deployment), expected_image);
    assert_eq!(deployment.spec.as_ref().unwrap().replicas, Some(2));
    let history = helm_ok(&[
        "history",
        release,
        "--namespace",
        release,
        "--kubeconfig",
        kubeconfig,
        "-o",
        "json",
    ]);
    let history: Value = serde_json::from_str(&history).unwrap();
    let charts: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["chart"].as_str().unwrap())
        .collect();
    assert_eq!(
        charts,
        [
            format!("tagwatch-{PREVIOUS}"),
            format!("tagwatch-{VERSION}")
        ]
    );
}
