//! `tagwatch.dev/v1alpha1`: the `TagWatch` kind, its spec (what to watch, how often, with
//! which credentials, which tags count and which is the latest) and its status.
//!
//! Everything a schema can check is checked at admission: required fields, lengths,
//! ranges, duration patterns and CEL rules. The field docs become the CRD's descriptions
//! (`kubectl explain tagwatch.spec`).

// Several `printcolumn(...)` entries repeat `type_ = ...`, which clippy mistakes for
// duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Go-style duration text as accepted by `interval` and `timeout`, e.g. `30s`, `5m`, `1h30m`.
pub const DURATION_PATTERN: &str = "^([0-9]+(ms|s|m|h))+$";

/// Watches the tags of one UCloud UHub image and records them in status.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "tagwatch.dev",
    version = "v1alpha1",
    kind = "TagWatch",
    plural = "tagwatches",
    shortname = "tw",
    category = "tagwatch",
    namespaced,
    status = "TagWatchStatus",
    doc = "TagWatch watches the tags of one UCloud UHub image and records them in status.",
    printcolumn(name = "Repo", type_ = "string", json_path = ".spec.repoName"),
    printcolumn(name = "Image", type_ = "string", json_path = ".spec.imageName"),
    printcolumn(name = "Latest", type_ = "string", json_path = ".status.latestTag"),
    printcolumn(name = "Tags", type_ = "integer", json_path = ".status.tagCount"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(name = "Last Sync", type_ = "date", json_path = ".status.lastSyncTime"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Latest Image",
        type_ = "string",
        priority = 1,
        json_path = ".status.latestImage"
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        priority = 1,
        json_path = ".status.conditions[?(@.type==\"Ready\")].message"
    )
)]
#[x_kube(validation = Rule::new(
    "!has(self.timeout) || duration(self.timeout) <= duration(self.interval)"
).message("timeout must not be longer than interval"))]
#[serde(rename_all = "camelCase")]
pub struct TagWatchSpec {
    /// The UHub repository (namespace) name, e.g. `team`.
    #[schemars(length(min = 1, max = 128))]
    pub repo_name: String,

    /// The image name inside the repository, e.g. `web`.
    #[schemars(length(min = 1, max = 256))]
    pub image_name: String,

    /// The UCloud project ID. Empty means the account's default project; sub-accounts
    /// must set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub project_id: Option<String>,

    /// Watch only this one tag (GetImageTag's `TagName`), e.g. `latest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub tag_name: Option<String>,

    /// How often to poll UHub, as a duration such as `30s`, `5m` or `1h30m`; at least `10s`.
    #[serde(default = "default_interval")]
    #[schemars(regex(pattern = DURATION_PATTERN), length(max = 32))]
    #[x_kube(validation = Rule::new("duration(self) >= duration('10s')")
        .message("interval must be at least 10s"))]
    pub interval: String,

    /// How long one poll may take before it is abandoned; defaults to the smaller of
    /// `interval` and `60s`. At least `1s` and not longer than `interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN), length(max = 32))]
    #[x_kube(validation = Rule::new("duration(self) >= duration('1s')")
        .message("timeout must be at least 1s"))]
    pub timeout: Option<String>,

    /// The Secret, in the TagWatch's own namespace, holding the UCloud API keys:
    /// `publicKey`, `privateKey` and optionally `securityToken` (STS). When unset, the
    /// operator's default credentials are used if the operator was started with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretReference>,

    /// Which tags are tracked. Tags that do not match are not counted, recorded or announced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<TagFilterSpec>,

    /// How `status.latestTag` is chosen among the tracked tags. Default: `newest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicySpec>,

    /// How many tags `status.tags` keeps, newest first (1 to 1000).
    #[serde(default = "default_history_limit")]
    #[schemars(range(min = 1, max = 1000))]
    pub history_limit: i32,

    /// Stop polling while true; the status is kept as it is. Notifications already
    /// pending are still delivered.
    #[serde(default)]
    pub suspend: bool,

    /// Webhooks called when tags change (at most 10 targets). Each target's URL and
    /// signing token come from a Secret; see docs/notifications.md.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub notify: Vec<NotifyTarget>,

    /// Objects in the TagWatch's namespace whose controllers are asked to reconcile now
    /// when a change is found (at most 10): Flux kinds get
    /// `reconcile.fluxcd.io/requestedAt`, Argo CD Applications
    /// `argocd.argoproj.io/refresh: normal`, other kinds the named `annotation`. See
    /// docs/gitops.md.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub triggers: Vec<TriggerTarget>,
}

/// One object of `spec.triggers`, in the TagWatch's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(
    validation = Rule::new("!has(self.__namespace__)").message(
        "triggers[].namespace is not supported: the object must be in the TagWatch's namespace"
    ),
    validation = Rule::new(
        "has(self.annotation) || self.apiVersion.matches('^[a-z0-9.-]+[.]toolkit[.]fluxcd[.]io/') || (self.apiVersion.startsWith('argoproj.io/') && self.kind == 'Application')"
    ).message(
        "triggers[].annotation is required for kinds other than Flux kinds (*.toolkit.fluxcd.io) and Argo CD Applications (argoproj.io)"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct TriggerTarget {
    /// The object's API version, e.g. `image.toolkit.fluxcd.io/v1` or `argoproj.io/v1alpha1`.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = "^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?$")
    )]
    pub api_version: String,

    /// The object's kind, e.g. `ImageRepository`, `Kustomization` or `Application`.
    #[schemars(length(min = 1, max = 63), regex(pattern = "^[A-Z][A-Za-z0-9]*$"))]
    pub kind: String,

    /// The object's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// Not supported: the object must be in the TagWatch's namespace. The field exists
    /// so that admission can reject it with a clear message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,

    /// The annotation set to the current time, for kinds that are neither Flux kinds nor
    /// Argo CD Applications (for those it replaces the built-in annotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 316),
        regex(
            pattern = "^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
        )
    )]
    pub annotation: Option<String>,

    /// Which changes trigger. Default: `NewTag` and `LatestTagChanged`.
    #[serde(default = "default_notify_events")]
    #[schemars(length(min = 1, max = 4), extend("x-kubernetes-list-type" = "set"))]
    pub events: Vec<NotifyEvent>,
}

/// A reference to a Secret in the TagWatch's namespace.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[x_kube(validation = Rule::new("!has(self.__namespace__)").message(
    "secretRef.namespace is not supported: the Secret must be in the TagWatch's namespace"
))]
pub struct SecretReference {
    /// The Secret's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// Not supported: a TagWatch may only use Secrets of its own namespace. The field
    /// exists so that admission can reject it with a clear message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// One webhook target of `spec.notify`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new(
    "!has(self.cloudEventsMode) || (has(self.format) && self.format == 'cloudevents')"
).message("cloudEventsMode is only valid with format: cloudevents"))]
#[serde(rename_all = "camelCase")]
pub struct NotifyTarget {
    /// The Secret, in the TagWatch's namespace, holding the target's `url` (http:// or
    /// https://) and optionally a `token` (each body is signed with HMAC-SHA256 in the
    /// header `X-Signature: sha256=<hex>`), a `secret` (the signing secret of a Feishu
    /// or DingTalk robot) and a `ca.crt` (PEM certificates trusted for this target in
    /// addition to the public roots).
    pub secret_ref: SecretReference,

    /// Which changes are sent. Default: `NewTag` and `LatestTagChanged`.
    #[serde(default = "default_notify_events")]
    #[schemars(length(min = 1, max = 4), extend("x-kubernetes-list-type" = "set"))]
    pub events: Vec<NotifyEvent>,

    /// The body format: `json` (default), `cloudevents`, or a chat robot's message:
    /// `slack` (also Mattermost and Rocket.Chat), `teams`, `feishu`, `dingtalk`, `wecom`.
    #[serde(default)]
    pub format: NotifyFormat,

    /// With `format: cloudevents`, the HTTP content mode: `structured` (default; the
    /// whole event is the `application/cloudevents+json` body) or `binary` (the body is
    /// the event's data, the attributes are `ce-` headers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_events_mode: Option<CloudEventsMode>,
}

/// A kind of change a notification reports.
#[derive(
    JsonSchema,
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
pub enum NotifyEvent {
    /// Tags appeared.
    NewTag,
    /// Tags' `updateTime` or digest changed.
    TagUpdated,
    /// Tags disappeared.
    TagRemoved,
    /// `status.latestTag` changed.
    LatestTagChanged,
}

/// The body format of a notification (docs/notifications.md shows each).
#[derive(
    JsonSchema,
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Default,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum NotifyFormat {
    /// The JSON document of docs/notification.schema.json.
    #[default]
    Json,
    /// A CloudEvents 1.0 event whose data is the `json` document.
    CloudEvents,
    /// A Slack incoming webhook message (also accepted by Mattermost and Rocket.Chat).
    Slack,
    /// An Adaptive Card for a Microsoft Teams Workflows webhook.
    Teams,
    /// A Feishu (Lark) custom bot message, signed when the Secret has a `secret`.
    Feishu,
    /// A DingTalk custom robot message, signed when the Secret has a `secret`.
    DingTalk,
    /// A WeCom group robot markdown message.
    WeCom,
}

/// How a CloudEvent travels over HTTP (the CloudEvents HTTP protocol binding's modes).
#[derive(
    JsonSchema,
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Default,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum CloudEventsMode {
    /// The whole event is the body (`Content-Type: application/cloudevents+json`).
    #[default]
    Structured,
    /// The body is the event's data (`application/json`); attributes are `ce-` headers.
    Binary,
}

/// Tag name filter: `include` and `exclude` are regular expressions (RE2-like syntax,
/// unanchored: use `^` and `$` to match whole names). Signature tags are left out
/// unless `includeSignatures` is true.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TagFilterSpec {
    /// Only tags whose name matches this expression are tracked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub include: Option<String>,

    /// Tags whose name matches any of these expressions are not tracked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(length(min = 1, max = 1024)))]
    pub exclude: Vec<String>,

    /// Track cosign's signature, attestation and SBOM tags
    /// (`sha256-<64 hex digits>.sig`, `.att`, `.sbom`) too. Off by default: they are not
    /// images, and one pushed after an image would become the newest tag.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_signatures: bool,
}

/// Picks `status.latestTag`. Set exactly one of the fields.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[x_kube(validation = Rule::new(
    "(has(self.newest) ? 1 : 0) + (has(self.semver) ? 1 : 0) + (has(self.alphabetical) ? 1 : 0) + (has(self.numerical) ? 1 : 0) == 1"
).message("policy must set exactly one of newest, semver, alphabetical or numerical"))]
pub struct PolicySpec {
    /// The tag with the newest UpdateTime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<NewestPolicy>,

    /// The highest semantic version (a leading `v` is allowed), optionally within a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<SemverPolicy>,

    /// By tag name in lexical order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alphabetical: Option<OrderPolicy>,

    /// By tag name read as a number; tags that are not numbers are skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerical: Option<OrderPolicy>,
}

/// The `newest` policy has no settings.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct NewestPolicy {}

/// Settings of the `semver` policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct SemverPolicy {
    /// A version range such as `>=1.2 <2`, `^1.4` or `1.x`. Pre-releases are only
    /// considered when the range names one. Empty: any release version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub range: Option<String>,
}

/// Settings of the `alphabetical` and `numerical` policies.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct OrderPolicy {
    /// `asc` picks the last tag in ascending order (the greatest), `desc` the first
    /// (the smallest), as Flux's ImagePolicy does.
    #[serde(default)]
    pub order: SortOrder,
}

/// Sort order of the `alphabetical` and `numerical` policies.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Ascending: the greatest tag is the latest.
    #[default]
    Asc,
    /// Descending: the smallest tag is the latest.
    Desc,
}

/// The observed state of a TagWatch.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TagWatchStatus {
    /// The `metadata.generation` the status reflects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready` (the last poll succeeded) and `Stalled` (only a spec change can help).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// The newest tracked tags, newest first, at most `spec.historyLimit`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagStatus>,

    /// How many tags are tracked (after the filter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_count: Option<i64>,

    /// How many tags UHub reports for the image (`TotalCount`), before the filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_tag_count: Option<i64>,

    /// The latest tag according to `spec.policy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_tag: Option<String>,

    /// The latest tag as an image reference to pull or deploy:
    /// `<registry host>/<repoName>/<imageName>:<latestTag>`, the host being the
    /// operator's `--registry-host` (`uhub.service.ucloud.cn` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_image: Option<String>,

    /// The digest UHub reported for the latest tag, when it reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_digest: Option<String>,

    /// The newest `UpdateTime` among the tracked tags, exactly as UHub sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_update_time: Option<String>,

    /// A digest of the full tracked tag set: changes whenever any tracked tag is added,
    /// removed or updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,

    /// When a successful poll last wrote status. Polls that find nothing new refresh it
    /// only once it is the operator's --last-sync-refresh old (10m by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<Time>,

    /// The last value of the `tagwatch.dev/reconcile-requested-at` annotation acted upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,

    /// Notifications not delivered yet, oldest first (at most 100). They are recorded
    /// before the first attempt, so a restarted operator still delivers them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_notifications: Vec<PendingNotification>,

    /// Reconcile requests of `spec.triggers` not made yet. They are recorded with the
    /// poll that found the change, so a restarted operator still makes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub pending_triggers: Vec<PendingTrigger>,

    /// What the last full listing of the image's tags showed of how UHub pages them:
    /// what a poll's probe compares with (docs/api.md, "Probes").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<ListingStatus>,
}

/// A reconcile request waiting to be made, in `status.pendingTriggers`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PendingTrigger {
    /// The object's API version.
    pub api_version: String,
    /// The object's kind.
    pub kind: String,
    /// The object's name.
    pub name: String,
    /// The annotation to set.
    pub annotation: String,
    /// Its value.
    pub value: String,
    /// When the change was found; the request is given up an hour later.
    pub created_at: Time,
    /// Attempts made so far.
    pub attempts: i32,
}

/// `status.listing`: the last full listing recorded in status.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ListingStatus {
    /// How UHub ordered the tags by UpdateTime: NewestFirst (as UHub does), OldestFirst
    /// or Unordered.
    pub order: ListingOrder,
    /// UHub's TotalCount for the image then.
    pub total_count: i64,
    /// The page holding the newest tags, which a probe fetches; absent when no page is
    /// known to hold them (several pages in no known order, a listing that changed while
    /// it was paged through, or no TotalCount): every poll then lists every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_page: Option<NewestPageStatus>,
    /// The metadata.generation the listing was made for: another spec lists every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// When the listing ran. Written with the next status write only: a full listing that
    /// finds nothing new writes nothing.
    pub time: Time,
}

/// How UHub ordered an image's tags, by UpdateTime.
#[derive(
    JsonSchema,
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
pub enum ListingOrder {
    /// The newest tags on the first page.
    NewestFirst,
    /// The newest tags on the last page.
    OldestFirst,
    /// In no known order (or too few distinct times to tell).
    Unordered,
}

/// `status.listing.newestPage`: where the newest tags were, and a digest of that page.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NewestPageStatus {
    /// GetImageTag's Offset of the page.
    pub offset: i64,
    /// `sha256:...` of the page's tags (names, UpdateTimes and digests, in any order).
    pub digest: String,
}

/// A notification waiting for delivery, in `status.pendingNotifications`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PendingNotification {
    /// The delivery id: the body's `deliveryId` and the `X-Tagwatch-Delivery` header,
    /// the same on every attempt, so receivers can drop duplicates.
    pub id: String,
    /// The index in `spec.notify` of the target when the notification was created.
    pub target: i32,
    /// The target's Secret, which identifies the target.
    pub secret_name: String,
    /// The kind of change.
    #[serde(rename = "type")]
    pub type_: NotifyEvent,
    /// The body's format (`spec.notify[].format` when the notification was created).
    #[serde(default)]
    pub format: NotifyFormat,
    /// With `format: cloudevents`, the content mode it was created for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_events_mode: Option<CloudEventsMode>,
    /// The request body, sent unchanged on every attempt (a Feishu signature is added
    /// to it at each attempt, when the Secret has a `secret`).
    pub body: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the change was noticed; the notification is dropped once it is older than
    /// the operator's `--notify-max-age`.
    pub created_at: Time,
    /// Not sent again before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Time>,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<DeliveryError>,
}

/// Why a delivery attempt failed. Never contains the target's URL or token.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryError {
    /// `DeliveryFailed` (the target could not be reached or did not answer 2xx) or
    /// `InvalidTarget` (the Secret is missing or unusable).
    pub reason: String,
    /// What went wrong.
    pub message: String,
    /// When the attempt ended.
    pub time: Time,
}

/// One tag in `status.tags`.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TagStatus {
    /// The tag name.
    pub name: String,
    /// UHub's `UpdateTime`, exactly as received.
    pub update_time: String,
    /// The image digest, when UHub reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

fn default_interval() -> String {
    "5m".to_string()
}

fn default_notify_events() -> Vec<NotifyEvent> {
    vec![NotifyEvent::NewTag, NotifyEvent::LatestTagChanged]
}

fn default_history_limit() -> i32 {
    100
}
