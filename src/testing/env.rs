//! One test's world on a control plane, and the reads and waits tests share.
//!
//! An [`Env`] is a namespace of its own (on the test binary's shared control plane, or a
//! private one), a UHub emulator of its own serving images of [`REPO`] (by default
//! [`IMAGE`] with [`FIXTURE_TAGS`]) with credentials no other test knows (in the Secret
//! [`SECRET`]), and, unless a test starts its own, a `tagwatch run` serving only that
//! namespace. Dropping it stops both and deletes the namespace; when the test panicked,
//! the operator's log is printed with the failure.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use testkit::{ControlPlane, Emulator, Operator, TestNamespace, eventually};

use crate::api::RECONCILE_REQUESTED_AT;
use crate::api::v1alpha1::TagWatch;
use crate::controller::events::REPORTING_CONTROLLER;

/// The UHub repository every emulator serves.
pub const REPO: &str = "team";
/// The image of [`REPO`] an emulator serves unless the test names others.
pub const IMAGE: &str = "web";
/// The Secret holding the env's UCloud keys.
pub const SECRET: &str = "ucloud-keys";
/// Each image's tags `(name, updateTime)`, newest first, unless the test says otherwise.
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
/// Deadline for what takes a few attempts (deliveries with backoff).
pub const A_FEW_ATTEMPTS: Duration = Duration::from_secs(90);

/// The committed CRD, as a user installs it.
pub fn crd_path() -> PathBuf {
    testkit::paths::repo_file("crds/tagwatch.dev_tagwatches.yaml")
}

/// Applies the committed CRD to `control_plane` (server-side, as `kubectl apply
/// --server-side` does) once per control plane and test process, and waits until the
/// apiserver reports it Established.
pub fn install_crd(control_plane: &ControlPlane) {
    static INSTALLED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    let kubeconfig = control_plane.kubeconfig_path().to_path_buf();
    if installed.contains(&kubeconfig) {
        return;
    }
    control_plane.apply_crd(&crd_path());
    installed.push(kubeconfig);
}

/// The control plane shared by this test binary, with the CRD installed.
pub fn shared_control_plane() -> &'static ControlPlane {
    let control_plane = ControlPlane::shared();
    install_crd(control_plane);
    control_plane
}

/// The `tagwatch` binary cargo built for this test.
pub fn tagwatch_binary() -> PathBuf {
    testkit::paths::binary("tagwatch")
}

/// What an [`Env`] is made of.
pub struct EnvBuilder<'a> {
    prefix: String,
    control_plane: Option<&'a ControlPlane>,
    namespace: Option<TestNamespace>,
    operator_kubeconfig: Option<PathBuf>,
    images: Vec<String>,
    tags: Vec<(String, String)>,
    order: Option<String>,
    operator: Option<Vec<String>>,
}

impl<'a> EnvBuilder<'a> {
    /// On `control_plane` (a private one) instead of the shared one.
    pub fn on(mut self, control_plane: &'a ControlPlane) -> Self {
        self.control_plane = Some(control_plane);
        self
    }

    /// In `namespace` (of the shared control plane, or the one given to
    /// [`EnvBuilder::on`]) instead of a new one.
    pub fn namespace(mut self, namespace: TestNamespace) -> Self {
        self.namespace = Some(namespace);
        self
    }

    /// Run the operator with the identity of `kubeconfig` instead of the admin's.
    pub fn operator_kubeconfig(mut self, kubeconfig: &std::path::Path) -> Self {
        self.operator_kubeconfig = Some(kubeconfig.to_path_buf());
        self
    }

    /// Serve these images of [`REPO`] instead of [`IMAGE`].
    pub fn images(mut self, images: &[&str]) -> Self {
        self.images = images.iter().map(|i| i.to_string()).collect();
        self
    }

    /// Give each image these tags `(name, updateTime)` instead of [`FIXTURE_TAGS`].
    pub fn tags(mut self, tags: &[(&str, &str)]) -> Self {
        self.tags = tags
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        self
    }

    /// Serve `GetImageTag` pages in `order` (`newest`, `oldest` or `name`) instead of
    /// newest first.
    pub fn order(mut self, order: &str) -> Self {
        self.order = Some(order.to_string());
        self
    }

    /// Start no operator: the test starts its own ([`Env::operator_process`]).
    pub fn without_operator(mut self) -> Self {
        self.operator = None;
        self
    }

    /// Start the operator with these extra arguments.
    pub fn operator_args(mut self, args: &[&str]) -> Self {
        self.operator = Some(args.iter().map(|a| a.to_string()).collect());
        self
    }

    /// Creates the namespace (with the keys Secret), the emulator and the operator.
    pub async fn start(self) -> Env {
        let control_plane = match self.control_plane {
            Some(control_plane) => {
                install_crd(control_plane);
                control_plane
            }
            None => shared_control_plane(),
        };
        let namespace = match self.namespace {
            Some(namespace) => namespace,
            None => TestNamespace::new_in(control_plane, &self.prefix).await,
        };
        let public_key = format!("pub-{}", uuid::Uuid::new_v4().simple());
        let private_key = format!("pri-{}", uuid::Uuid::new_v4().simple());
        let mut fixture = fixture(&public_key, &private_key, &self.images, &self.tags);
        if let Some(order) = &self.order {
            fixture.push_str(&format!("order: {order}\n"));
        }
        let emulator = Emulator::start(&fixture);
        let kubeconfig = control_plane.kubeconfig_path().to_path_buf();
        let mut env = Env {
            operator: None,
            emulator,
            namespace,
            operator_kubeconfig: self.operator_kubeconfig.unwrap_or(kubeconfig.clone()),
            kubeconfig,
            public_key,
            private_key,
        };
        if let Some(args) = self.operator {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.operator = Some(env.operator_process(&args));
        }
        env
    }
}

/// A namespace, an emulator and an operator for one test.
pub struct Env {
    // Field order is drop order: stop the operator before its namespace goes.
    /// The operator the env started (see [`Env::operator`]).
    pub operator: Option<Operator>,
    /// The env's UHub.
    pub emulator: Emulator,
    /// The env's namespace.
    pub namespace: TestNamespace,
    kubeconfig: PathBuf,
    operator_kubeconfig: PathBuf,
    /// The public key the emulator accepts (with [`Env::private_key`]).
    pub public_key: String,
    /// The private key matching [`Env::public_key`].
    pub private_key: String,
}

impl Env {
    /// An env with the defaults: the shared control plane, [`IMAGE`] with
    /// [`FIXTURE_TAGS`], and an operator.
    pub async fn start(prefix: &str) -> Env {
        Env::builder(prefix).start().await
    }

    /// An env to set up otherwise than [`Env::start`] does.
    pub fn builder(prefix: &str) -> EnvBuilder<'static> {
        EnvBuilder {
            prefix: prefix.to_string(),
            control_plane: None,
            namespace: None,
            operator_kubeconfig: None,
            images: vec![IMAGE.to_string()],
            tags: FIXTURE_TAGS
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
            order: None,
            operator: Some(Vec::new()),
        }
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        self.namespace.name()
    }

    /// The kubeconfig of the env's control plane.
    pub fn kubeconfig(&self) -> &std::path::Path {
        &self.kubeconfig
    }

    /// The operator the env started.
    pub fn operator(&mut self) -> &mut Operator {
        self.operator.as_mut().expect("the env started an operator")
    }

    /// Starts another `tagwatch run` serving this namespace, polling this env's
    /// emulator, with `extra` arguments; named `e2e` unless they name an `--instance`.
    pub fn operator_process(&self, extra: &[&str]) -> Operator {
        let mut args = vec![
            "--endpoint",
            self.emulator.url(),
            "--namespaces",
            self.name(),
        ];
        if !extra.contains(&"--instance") {
            args.extend(["--instance", "e2e"]);
        }
        args.extend_from_slice(extra);
        Operator::start(&tagwatch_binary(), &self.operator_kubeconfig, &args)
    }

    /// The env's TagWatches.
    pub fn tagwatches(&self) -> Api<TagWatch> {
        self.namespace.api()
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
                    .collect(),
            ),
            ..Secret::default()
        };
        let params = PatchParams::apply("tagwatch-tests").force();
        self.namespace
            .api::<Secret>()
            .patch(name, &params, &Patch::Apply(&secret))
            .await
            .unwrap_or_else(|e| panic!("applying Secret {name}: {e}"));
    }

    /// Creates or replaces the UCloud keys Secret `name`.
    pub async fn apply_secret(&self, name: &str, public_key: &str, private_key: &str) {
        let keys = [
            ("publicKey", public_key.as_bytes()),
            ("privateKey", private_key.as_bytes()),
        ];
        self.secret(name, &keys).await;
    }

    /// The Secret [`SECRET`] with this env's valid keys.
    pub async fn apply_valid_secret(&self) {
        self.apply_secret(SECRET, &self.public_key, &self.private_key)
            .await;
    }

    /// A notification Secret for `url`, signed with `token` when given.
    pub async fn hook_secret(&self, name: &str, url: &str, token: Option<&str>) {
        let mut data: Vec<(&str, &[u8])> = vec![("url", url.as_bytes())];
        if let Some(token) = token {
            data.push(("token", token.as_bytes()));
        }
        self.secret(name, &data).await;
    }

    /// Creates TagWatch `name` with `spec` (JSON as a user writes it in YAML).
    pub async fn create_tagwatch(&self, name: &str, spec: Value) -> TagWatch {
        create_tagwatch(&self.tagwatches(), name, spec).await
    }

    /// Creates TagWatch `name` on [`REPO`]/`image` with [`spec`]'s defaults and `extra`.
    pub async fn tagwatch_of(&self, name: &str, image: &str, extra: Value) -> TagWatch {
        let mut spec = spec(json!({"imageName": image}));
        crate::testing::merge(&mut spec, extra);
        self.create_tagwatch(name, spec).await
    }

    /// Creates TagWatch `name` on [`REPO`]/`image` notifying the targets `notify`.
    pub async fn tagwatch_notifying(&self, name: &str, image: &str, notify: Value) -> TagWatch {
        self.tagwatch_of(name, image, json!({"notify": notify}))
            .await
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

    /// Waits until `check` accepts TagWatch `name` (saying what is missing otherwise),
    /// and returns what it returned.
    pub async fn wait_for<T>(
        &self,
        name: &str,
        what: &str,
        timeout: Duration,
        check: impl Fn(&TagWatch) -> Result<T, String>,
    ) -> T {
        wait_for(&self.tagwatches(), name, what, timeout, check).await
    }

    /// Waits until TagWatch `name` satisfies `check` and returns it.
    pub async fn wait_until(
        &self,
        name: &str,
        what: &str,
        timeout: Duration,
        check: impl Fn(&TagWatch) -> Result<(), String>,
    ) -> TagWatch {
        let check = |tw: &TagWatch| check(tw).map(|()| tw.clone());
        self.wait_for(name, what, timeout, check).await
    }

    /// Waits until `status.observedGeneration` of `name` is `generation` (the
    /// operator handled that spec), e.g. a poll after resuming.
    pub async fn wait_observed(&self, name: &str, generation: Option<i64>) -> TagWatch {
        let what = format!("{name} observed generation {generation:?}");
        self.wait_until(name, &what, PROMPTLY, |tw| {
            let observed = tw.status.as_ref().and_then(|s| s.observed_generation);
            (observed == generation)
                .then_some(())
                .ok_or_else(|| format!("observedGeneration {observed:?}"))
        })
        .await
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

    /// Waits until `name` has synced (Ready=True) and has no notification pending.
    pub async fn wait_idle(&self, name: &str) {
        let what = format!("{name} ready, nothing pending");
        self.wait_until(name, &what, A_FEW_ATTEMPTS, |tw| {
            let ready = condition(tw, "Ready").is_some_and(|c| c.status == "True");
            let notified = condition(tw, "Notified").is_none_or(|c| c.status == "True");
            let pending = pending_count(tw);
            (ready && notified && pending == 0)
                .then_some(())
                .ok_or_else(|| format!("status {}", status_json(tw)))
        })
        .await;
    }

    /// Asks for a poll through the `reconcile-requested-at` annotation; returns the token.
    pub async fn annotate_poll(&self, name: &str) -> String {
        let token = uuid::Uuid::new_v4().to_string();
        let annotations = json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: token}}});
        self.patch(name, annotations).await;
        token
    }

    /// Requests a poll and returns the TagWatch once its status echoes the request (the
    /// poll is then done).
    pub async fn request_poll(&self, name: &str) -> TagWatch {
        let token = self.annotate_poll(name).await;
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

    /// Checks that the emulator answers no request beyond `since` (a count from
    /// [`Env::requests`]) for the whole of `window` ([`holds_throughout`]): nothing
    /// polls, e.g. while the TagWatches are suspended.
    pub async fn no_requests_throughout(&self, since: u64, window: Duration) {
        holds_throughout("no request", window, || async {
            let now = self.requests().await;
            (now == since)
                .then_some(())
                .ok_or_else(|| format!("{} requests since {since}", now - since))
        })
        .await;
    }

    /// Pushes tag `name` of [`REPO`]/[`IMAGE`] with `update_time` (now when `None`).
    pub async fn push(&self, name: &str, update_time: Option<&str>) {
        self.push_to(IMAGE, name, update_time).await;
    }

    /// Pushes tag `name` of [`REPO`]/`image` with `update_time` (now when `None`).
    pub async fn push_to(&self, image: &str, name: &str, update_time: Option<&str>) {
        self.emulator.push_tag(REPO, image, name, update_time).await;
    }
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

/// Waits until `check` accepts TagWatch `name` of `api`, and returns what it returned.
pub async fn wait_for<T>(
    api: &Api<TagWatch>,
    name: &str,
    what: &str,
    timeout: Duration,
    check: impl Fn(&TagWatch) -> Result<T, String>,
) -> T {
    let check = &check;
    eventually(&format!("TagWatch {name}: {what}"), timeout, || {
        let api = api.clone();
        async move {
            let tw = api.get(name).await.map_err(|e| e.to_string())?;
            check(&tw).map_err(|problem| format!("{problem}; status: {}", status_json(&tw)))
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
    wait_for(api, name, &what, timeout, |tw| match ready(tw) {
        Some(c) if c.status == status && c.reason == reason => Ok(tw.clone()),
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

/// The cells of each line of a table as kubectl (and `tagwatch get`) aligns it:
/// columns are at least two spaces apart, so a cell must not hold two spaces.
pub fn table_cells(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect()
        })
        .collect()
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
    crate::testing::merge(&mut spec, extra);
    spec
}

/// The emulator fixture: `images` of [`REPO`], each with `tags` (digests numbered),
/// and one credential.
pub fn fixture(
    public_key: &str,
    private_key: &str,
    images: &[String],
    tags: &[(String, String)],
) -> String {
    let tags: String = tags
        .iter()
        .enumerate()
        .map(|(i, (name, time))| {
            format!(
                "      - name: {name}\n        updateTime: \"{time}\"\n        digest: \"sha256:{:064x}\"\n",
                i + 1
            )
        })
        .collect();
    let images: String = images
        .iter()
        .map(|image| format!("  - repo: {REPO}\n    image: {image}\n    tags:\n{tags}"))
        .collect();
    format!(
        "credentials:\n  - publicKey: {public_key}\n    privateKey: {private_key}\n\
         images:\n{images}"
    )
}

/// The condition of type `type_`, if set.
pub fn condition<'a>(tw: &'a TagWatch, type_: &str) -> Option<&'a Condition> {
    tw.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

/// The `Ready` condition.
pub fn ready(tw: &TagWatch) -> Option<&Condition> {
    condition(tw, "Ready")
}

/// How many notifications `tw` has pending.
pub fn pending_count(tw: &TagWatch) -> usize {
    tw.status
        .as_ref()
        .map_or(0, |s| s.pending_notifications.len())
}

/// Whether `tw` tracks tag `tag`.
pub fn has_tag(tw: &TagWatch, tag: &str) -> bool {
    tag_names(tw).iter().any(|t| t == tag)
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

/// A [`Env::wait_until`] check: the newest tag in status is `expected`.
pub fn newest_tag_is(expected: &str) -> impl Fn(&TagWatch) -> Result<(), String> + '_ {
    move |tw| {
        let names = tag_names(tw);
        (names.first().map(String::as_str) == Some(expected))
            .then_some(())
            .ok_or_else(|| format!("tags {names:?}"))
    }
}
