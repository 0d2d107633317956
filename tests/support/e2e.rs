//! One end-to-end test's world, and the reads and waits the end-to-end tests share.
//!
//! Include it with `#[path = "support/e2e.rs"] mod e2e;` next to
//! `support/controlplane.rs`, `support/emulator.rs` and `support/operator.rs` (as
//! `mod controlplane`, `mod emulator` and `mod operator`).
//!
//! A [`Stack`] is a namespace of its own on the test binary's control plane (or a
//! private one), a `uhub-emulator` of its own serving [`REPO`]/[`IMAGE`] with
//! credentials no other test knows, and a `tagwatch run` of its own serving only
//! that namespace. Dropping it stops both processes and deletes the namespace; when
//! the test panicked, the operator's and the emulator's logs are printed with the
//! failure.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tagwatch::api::RECONCILE_REQUESTED_AT;
use tagwatch::api::v1alpha1::TagWatch;

use crate::controlplane::{ControlPlane, TestNamespace, eventually};
use crate::emulator::EmulatorProcess;
use crate::operator::{Operator, shared_control_plane};

/// The UHub repository every emulator serves.
pub const REPO: &str = "team";
/// The image in [`REPO`] every emulator serves.
pub const IMAGE: &str = "web";
/// The Secret holding a stack's credentials.
pub const SECRET: &str = "ucloud-keys";
/// The fixture's tags `(name, updateTime)`, newest first.
pub const FIXTURE_TAGS: [(&str, &str); 3] = [
    ("v1.2.0", "2026-11-01 10:00:00"),
    ("v1.1.0", "2026-10-01 10:00:00"),
    ("v1.0.0", "2026-09-01 10:00:00"),
];
/// The shortest interval the CRD allows; every test polls at it unless it needs the
/// interval to be out of the way.
pub const INTERVAL: &str = "10s";
/// Deadline for what the operator does at once (a first poll, a requested poll).
pub const PROMPTLY: Duration = Duration::from_secs(20);
/// Deadline for what happens at the next scheduled poll (interval, jitter, backoff),
/// generous for a loaded machine.
pub const NEXT_POLL: Duration = Duration::from_secs(40);
/// Reporting controller of the operator's events.
pub const REPORTING_CONTROLLER: &str = "tagwatch.dev/controller";

/// A namespace, an emulator and an operator for one test.
pub struct Stack {
    // Field order is drop order: stop the operator before its namespace goes.
    pub operator: Operator,
    pub emulator: EmulatorProcess,
    pub namespace: TestNamespace,
    /// The public key the emulator accepts (with [`Stack::private_key`]).
    pub public_key: String,
    /// The private key matching [`Stack::public_key`].
    pub private_key: String,
}

impl Stack {
    /// A stack on this test binary's shared control plane (CRD installed).
    pub async fn start(prefix: &str) -> Stack {
        Self::start_on(shared_control_plane(), prefix).await
    }

    /// A stack on `control_plane`, whose CRD must be installed.
    pub async fn start_on(control_plane: &ControlPlane, prefix: &str) -> Stack {
        let namespace = TestNamespace::new_in(control_plane, prefix).await;
        let public_key = format!("pub-{}", uuid::Uuid::new_v4().simple());
        let private_key = format!("pri-{}", uuid::Uuid::new_v4().simple());
        let emulator = EmulatorProcess::start(&fixture(&public_key, &private_key));
        let operator = Operator::start(
            control_plane.kubeconfig_path(),
            namespace.name(),
            emulator.url(),
        );
        Stack {
            operator,
            emulator,
            namespace,
            public_key,
            private_key,
        }
    }

    pub fn tagwatches(&self) -> Api<TagWatch> {
        self.namespace.api()
    }

    /// Creates or replaces the Secret `name` with these keys.
    pub async fn apply_secret(&self, name: &str, public_key: &str, private_key: &str) {
        apply_secret(&self.namespace, name, public_key, private_key).await;
    }

    /// The Secret [`SECRET`] with this stack's valid keys.
    pub async fn apply_valid_secret(&self) {
        self.apply_secret(SECRET, &self.public_key, &self.private_key)
            .await;
    }

    /// Creates TagWatch `name` with `spec` (JSON as a user writes it in YAML).
    pub async fn create_tagwatch(&self, name: &str, spec: Value) -> TagWatch {
        create_tagwatch(&self.tagwatches(), name, spec).await
    }

    /// A valid Secret and a TagWatch on [`REPO`]/[`IMAGE`] polled every [`INTERVAL`],
    /// with `extra` merged into its spec; returns it once it is Ready.
    pub async fn ready_tagwatch(&self, name: &str, extra: Value) -> TagWatch {
        self.apply_valid_secret().await;
        self.create_tagwatch(name, spec(extra)).await;
        self.wait_for_ready(name, "True", "Succeeded", PROMPTLY)
            .await
    }

    /// Merge-patches TagWatch `name` with `patch`.
    pub async fn patch(&self, name: &str, patch: Value) -> TagWatch {
        self.tagwatches()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap_or_else(|e| panic!("patching TagWatch {name} with {patch}: {e}"))
    }

    /// Waits until TagWatch `name` satisfies `check` (which says what is missing).
    pub async fn wait_until(
        &self,
        name: &str,
        what: &str,
        timeout: Duration,
        check: impl Fn(&TagWatch) -> Result<(), String>,
    ) -> TagWatch {
        wait_until(&self.tagwatches(), name, what, timeout, check).await
    }

    /// Waits until `Ready` has this status and reason.
    pub async fn wait_for_ready(
        &self,
        name: &str,
        status: &str,
        reason: &str,
        timeout: Duration,
    ) -> TagWatch {
        wait_for_ready(&self.tagwatches(), name, status, reason, timeout).await
    }

    /// Requests a poll through the `reconcile-requested-at` annotation and returns the
    /// TagWatch once its status echoes the request (the poll is then done).
    pub async fn request_poll(&self, name: &str) -> TagWatch {
        let token = uuid::Uuid::new_v4().to_string();
        self.patch(
            name,
            json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: token}}}),
        )
        .await;
        self.wait_until(name, "requested poll handled", PROMPTLY, |tw| {
            let handled = tw
                .status
                .as_ref()
                .and_then(|s| s.last_handled_reconcile_at.as_deref());
            (handled == Some(token.as_str()))
                .then_some(())
                .ok_or_else(|| format!("lastHandledReconcileAt is {handled:?}"))
        })
        .await
    }

    /// The operator's events about TagWatch `name`, oldest first.
    pub async fn events(&self, name: &str) -> Vec<Event> {
        let mut events: Vec<Event> = self
            .namespace
            .api::<Event>()
            .list(&ListParams::default())
            .await
            .expect("listing events")
            .items
            .into_iter()
            .filter(|e| {
                e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                    && e.reporting_controller.as_deref() == Some(REPORTING_CONTROLLER)
            })
            .collect();
        events.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
        events
    }

    /// The notes of the operator's `reason` events about TagWatch `name`, oldest first.
    pub async fn notes(&self, name: &str, reason: &str) -> Vec<String> {
        self.events(name)
            .await
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some(reason))
            .map(|e| e.note.unwrap_or_default())
            .collect()
    }

    /// How many UCloud API requests the emulator has answered.
    pub async fn requests(&self) -> u64 {
        self.emulator.stats().await["total"]
            .as_u64()
            .expect("stats.total is a number")
    }

    /// Pushes tag `name` of [`REPO`]/[`IMAGE`] with `update_time` (now when `None`).
    pub async fn push(&self, name: &str, update_time: Option<&str>) {
        self.emulator.push_tag(REPO, IMAGE, name, update_time).await;
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- uhub-emulator log ---\n{}--- end of log ---",
                self.emulator.stderr()
            );
        }
    }
}

/// Creates or replaces the Secret `name` in `namespace` with these keys.
pub async fn apply_secret(
    namespace: &TestNamespace,
    name: &str,
    public_key: &str,
    private_key: &str,
) {
    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "stringData": {"publicKey": public_key, "privateKey": private_key},
    }))
    .expect("a Secret");
    namespace
        .api::<Secret>()
        .patch(
            name,
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(&secret),
        )
        .await
        .unwrap_or_else(|e| panic!("applying Secret {name}: {e}"));
}

/// Creates TagWatch `name` with `spec` through `api`.
pub async fn create_tagwatch(api: &Api<TagWatch>, name: &str, spec: Value) -> TagWatch {
    let tw: TagWatch = serde_json::from_value(json!({
        "apiVersion": "tagwatch.dev/v1alpha1",
        "kind": "TagWatch",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap_or_else(|e| panic!("TagWatch {name}: {e}"));
    api.create(&PostParams::default(), &tw)
        .await
        .unwrap_or_else(|e| panic!("creating TagWatch {name}: {e}"))
}

/// Waits until TagWatch `name` of `api` satisfies `check` (which says what is missing).
pub async fn wait_until(
    api: &Api<TagWatch>,
    name: &str,
    what: &str,
    timeout: Duration,
    check: impl Fn(&TagWatch) -> Result<(), String>,
) -> TagWatch {
    let check = &check;
    eventually(&format!("TagWatch {name}: {what}"), timeout, || {
        let api = api.clone();
        async move {
            let tw = api.get(name).await.map_err(|e| e.to_string())?;
            check(&tw).map_err(|problem| format!("{problem}; status: {}", status_json(&tw)))?;
            Ok(tw)
        }
    })
    .await
}

/// Waits until `Ready` of TagWatch `name` of `api` has this status and reason.
pub async fn wait_for_ready(
    api: &Api<TagWatch>,
    name: &str,
    status: &str,
    reason: &str,
    timeout: Duration,
) -> TagWatch {
    let what = format!("Ready={status} ({reason})");
    wait_until(api, name, &what, timeout, |tw| match ready(tw) {
        Some(c) if c.status == status && c.reason == reason => Ok(()),
        Some(c) => Err(format!("Ready={} ({})", c.status, c.reason)),
        None => Err("no Ready condition".to_string()),
    })
    .await
}

/// Checks that `value` stays true for the whole of `window`, reading it every
/// 200 ms, and fails at the first reading that is not. This is the one kind of
/// bounded wait in the suite: it proves that something does *not* happen (e.g. no
/// request while suspended), which no event can signal; `window` must span the
/// period in which it would otherwise have happened.
pub async fn holds_throughout<F, Fut>(what: &str, window: Duration, mut value: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let end = Instant::now() + window;
    loop {
        if let Err(problem) = value().await {
            panic!(
                "{what}: stopped holding after {:?}: {problem}",
                end.elapsed()
            );
        }
        if Instant::now() >= end {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A TagWatch spec for [`REPO`]/[`IMAGE`] with the Secret [`SECRET`], polled every
/// [`INTERVAL`], with `extra` merged in.
pub fn spec(extra: Value) -> Value {
    let mut spec = json!({
        "repoName": REPO,
        "imageName": IMAGE,
        "interval": INTERVAL,
        "secretRef": {"name": SECRET},
    });
    merge(&mut spec, extra);
    spec
}

/// The emulator fixture: [`FIXTURE_TAGS`] of [`REPO`]/[`IMAGE`], one credential.
pub fn fixture(public_key: &str, private_key: &str) -> String {
    let tags: String = FIXTURE_TAGS
        .iter()
        .enumerate()
        .map(|(i, (name, time))| {
            format!(
                "      - name: {name}\n        updateTime: \"{time}\"\n        digest: \"sha256:{:064x}\"\n",
                i + 1
            )
        })
        .collect();
    format!(
        "credentials:\n  - publicKey: {public_key}\n    privateKey: {private_key}\n\
         images:\n  - repo: {REPO}\n    image: {IMAGE}\n    tags:\n{tags}"
    )
}

/// Merges the object `extra` into the object `base`, key by key (recursively).
fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, extra) => *base = extra,
    }
}

/// The `Ready` condition.
pub fn ready(tw: &TagWatch) -> Option<&Condition> {
    tw.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// The names in `status.tags`, in order.
pub fn tag_names(tw: &TagWatch) -> Vec<String> {
    tw.status
        .iter()
        .flat_map(|s| &s.tags)
        .map(|t| t.name.clone())
        .collect()
}

/// The status as JSON text, for failure messages.
pub fn status_json(tw: &TagWatch) -> String {
    serde_json::to_string(&tw.status).unwrap_or_default()
}

/// A [`Stack::wait_until`] check: the newest tag in status is `expected`.
pub fn newest_tag_is(expected: &str) -> impl Fn(&TagWatch) -> Result<(), String> + '_ {
    move |tw| {
        let names = tag_names(tw);
        (names.first().map(String::as_str) == Some(expected))
            .then_some(())
            .ok_or_else(|| format!("tags {names:?}"))
    }
}
