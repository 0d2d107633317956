//! Set-up shared by the notification tests: a namespace on the shared control plane, a
//! UHub emulator with the images the test names (repository `team`, one old tag `v1`
//! each), the UCloud keys Secret, notification Secrets, TagWatches, the operator, and
//! waits on TagWatch status. Include it with
//! `#[path = "support/notify_env.rs"] mod notify_env;`: it brings the support modules
//! it builds on.
#![allow(dead_code)]

#[path = "controlplane.rs"]
pub mod controlplane;
#[path = "emulator.rs"]
pub mod emulator;
#[path = "operator_process.rs"]
pub mod operator_process;
#[path = "receiver.rs"]
pub mod receiver;
#[path = "signal.rs"]
pub mod signal;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tagwatch::api::v1alpha1::{TagWatch, TagWatchSpec};

use controlplane::{ControlPlane, TestNamespace, eventually};
use emulator::EmulatorProcess;
use operator_process::{OperatorProcess, install_crd};

/// The UHub repository of every image.
pub const REPO: &str = "team";
/// Poll interval of every TagWatch (the shortest allowed).
pub const INTERVAL: Duration = Duration::from_secs(10);
/// How long a test waits for something that should happen within a few attempts.
pub const DEADLINE: Duration = Duration::from_secs(90);
const PUBLIC_KEY: &str = "pub-notify-tests";
const PRIVATE_KEY: &str = "pri-notify-tests";
const KEYS_SECRET: &str = "ucloud-keys";

/// One test's namespace and emulator.
pub struct NotifyEnv {
    pub namespace: TestNamespace,
    pub emulator: EmulatorProcess,
}

impl NotifyEnv {
    /// A namespace `<prefix>-*` with the UCloud keys, and an emulator serving `images`.
    pub async fn new(prefix: &str, images: &[&str]) -> NotifyEnv {
        install_crd(|| ControlPlane::shared().kubectl());
        let namespace = TestNamespace::new(prefix).await;
        let emulator = EmulatorProcess::start(&fixture(images));
        let env = NotifyEnv {
            namespace,
            emulator,
        };
        env.secret(
            KEYS_SECRET,
            &[
                ("publicKey", PUBLIC_KEY.as_bytes()),
                ("privateKey", PRIVATE_KEY.as_bytes()),
            ],
        )
        .await;
        env
    }

    pub fn name(&self) -> &str {
        self.namespace.name()
    }

    /// Starts the operator for this namespace with `extra` arguments.
    pub fn operator(&self, extra: &[&str]) -> OperatorProcess {
        OperatorProcess::start(
            ControlPlane::shared().kubeconfig_path(),
            self.emulator.url(),
            self.name(),
            extra,
        )
    }

    /// Creates or replaces the Secret `name` holding `data`.
    pub async fn secret(&self, name: &str, data: &[(&str, &[u8])]) {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Secret::default()
        };
        let params = PatchParams::apply("notify-tests").force();
        self.namespace
            .api::<Secret>()
            .patch(name, &params, &Patch::Apply(&secret))
            .await
            .unwrap_or_else(|e| panic!("applying Secret {name}: {e}"));
    }

    /// A notification Secret for `url`, signed with `token` when given.
    pub async fn hook_secret(&self, name: &str, url: &str, token: Option<&str>) {
        let mut data: Vec<(&str, &[u8])> = vec![("url", url.as_bytes())];
        if let Some(token) = token {
            data.push(("token", token.as_bytes()));
        }
        self.secret(name, &data).await;
    }

    /// Creates a TagWatch `name` of image `image` with `spec.notify` = `notify`.
    pub async fn tagwatch(&self, name: &str, image: &str, notify: Value) {
        let spec: TagWatchSpec = serde_json::from_value(json!({
            "repoName": REPO, "imageName": image, "interval": "10s",
            "secretRef": {"name": KEYS_SECRET}, "notify": notify,
        }))
        .unwrap();
        self.api()
            .create(&PostParams::default(), &TagWatch::new(name, spec))
            .await
            .unwrap_or_else(|e| panic!("creating TagWatch {name}: {e}"));
    }

    pub fn api(&self) -> Api<TagWatch> {
        self.namespace.api::<TagWatch>()
    }

    /// Pushes tag `tag` of `image`, newer than every tag before it.
    pub async fn push(&self, image: &str, tag: &str, update_time: &str) {
        self.emulator
            .push_tag(REPO, image, tag, Some(update_time))
            .await;
    }

    /// Asks for an immediate poll of `name`.
    pub async fn request_poll(&self, name: &str) {
        let value = uuid::Uuid::new_v4().to_string();
        let patch =
            json!({"metadata": {"annotations": {"tagwatch.dev/reconcile-requested-at": value}}});
        self.api()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap_or_else(|e| panic!("annotating {name}: {e}"));
    }

    /// Waits until `check` accepts TagWatch `name`, and returns what it returned.
    pub async fn wait_for<T>(
        &self,
        name: &str,
        what: &str,
        timeout: Duration,
        check: impl Fn(&TagWatch) -> Result<T, String>,
    ) -> T {
        let api = self.api();
        eventually(what, timeout, || {
            let api = api.clone();
            let check = &check;
            async move {
                let tw = api.get(name).await.map_err(|e| e.to_string())?;
                check(&tw)
            }
        })
        .await
    }

    /// Waits until `name` has synced (Ready=True) and has nothing pending.
    pub async fn wait_idle(&self, name: &str) {
        self.wait_for(
            name,
            &format!("{name} ready, nothing pending"),
            DEADLINE,
            |tw| {
                let ready = condition(tw, "Ready").is_some_and(|c| c.status == "True");
                let notified = condition(tw, "Notified").is_none_or(|c| c.status == "True");
                let pending = pending_count(tw);
                (ready && notified && pending == 0)
                    .then_some(())
                    .ok_or_else(|| format!("status {:?}", tw.status))
            },
        )
        .await
    }
}

/// The condition of type `type_`, if set.
pub fn condition(tw: &TagWatch, type_: &str) -> Option<Condition> {
    tw.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .cloned()
}

/// How many notifications `tw` has pending.
pub fn pending_count(tw: &TagWatch) -> usize {
    tw.status
        .as_ref()
        .map_or(0, |s| s.pending_notifications.len())
}

/// Whether `tw` tracks tag `tag`.
pub fn has_tag(tw: &TagWatch, tag: &str) -> bool {
    tw.status
        .as_ref()
        .is_some_and(|s| s.tags.iter().any(|t| t.name == tag))
}

/// An emulator fixture with `images` in repository `team`, each with tag `v1`.
fn fixture(images: &[&str]) -> String {
    let mut yaml = format!(
        "credentials:\n  - publicKey: {PUBLIC_KEY}\n    privateKey: {PRIVATE_KEY}\n\
         updateTimeFormat: datetime\nimages:\n"
    );
    for image in images {
        yaml.push_str(&format!(
            "  - repo: {REPO}\n    image: {image}\n    tags:\n      - name: v1\n        \
             updateTime: \"2020-01-01 00:00:00\"\n        digest: \"sha256:{}\"\n",
            "1".repeat(64)
        ));
    }
    yaml
}
