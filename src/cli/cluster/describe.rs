//! `tagwatch describe NAME`: one TagWatch for a person: what it watches (spec in
//! short), where it stands (latest tag, image and digest, counts, last sync), its
//! conditions, the newest tags as an aligned TAG, UPDATED, DIGEST table (one row per
//! tag, unlike `kubectl describe`'s key dump), its notification targets and pending
//! notifications, and its latest events.

use clap::Args;
use jiff::Timestamp;
use k8s_openapi::api::events::v1::Event;

use super::format::age;
use super::{ClusterError, KubeArgs, connect, exit_help};
use crate::api::RECONCILE_REQUESTED_AT;
use crate::api::v1alpha1::{PolicySpec, SortOrder, TagWatch};
use crate::cli::exit::Exit;
use crate::cli::output::{aligned, cell, render_table};

/// How many tags and events are shown unless told otherwise.
pub const DEFAULT_ROWS: usize = 10;

/// Arguments of `tagwatch describe`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
#[command(after_help = exit_help())]
pub struct DescribeArgs {
    /// The TagWatch.
    pub name: String,

    /// Where the cluster is.
    #[command(flatten)]
    pub kube: KubeArgs,

    /// How many of the newest tags to show (0: every tag in status).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ROWS)]
    pub tags: usize,

    /// How many of the latest events to show (0: all).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ROWS)]
    pub events: usize,
}

/// Runs `tagwatch describe`.
pub async fn run(args: DescribeArgs) -> Exit {
    match describe(&args).await {
        Ok(text) => crate::cli::write_stdout(&text),
        Err(err) => err.report(),
    }
}

async fn describe(args: &DescribeArgs) -> Result<String, ClusterError> {
    let cluster = connect(&args.kube).await?;
    let tw = cluster.tagwatch(&args.name).await?;
    let events = super::events::of(&cluster.client, &tw).await?;
    Ok(text(&tw, &events, args.tags, args.events, Timestamp::now()))
}

/// Keys and values, the values lined up after the longest key.
fn fields(indent: &str, pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len() + 1).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(key, value)| format!("{indent}{:<width$}  {value}\n", format!("{key}:")))
        .collect()
}

/// `text` indented by `indent` on every line.
fn indented(indent: &str, text: &str) -> String {
    text.lines().map(|l| format!("{indent}{l}\n")).collect()
}

fn or_dash(value: Option<String>) -> String {
    value.map_or_else(|| "-".to_string(), |v| cell(&v))
}

/// When `time` was, with its age: `2026-11-30T10:00:00Z (5m ago)`.
fn when(time: Option<Timestamp>, now: Timestamp) -> String {
    match time {
        Some(t) => format!("{t} ({} ago)", age(Some(t), now)),
        None => "-".to_string(),
    }
}

fn policy(spec: Option<&PolicySpec>) -> String {
    let order = |o: SortOrder| match o {
        SortOrder::Asc => "asc",
        SortOrder::Desc => "desc",
    };
    match spec {
        Some(PolicySpec {
            semver: Some(s), ..
        }) => match &s.range {
            Some(range) => format!("semver {range}"),
            None => "semver (any release)".to_string(),
        },
        Some(PolicySpec {
            alphabetical: Some(a),
            ..
        }) => format!("alphabetical {}", order(a.order)),
        Some(PolicySpec {
            numerical: Some(n), ..
        }) => format!("numerical {}", order(n.order)),
        _ => "newest".to_string(),
    }
}

/// The description of `tw` with its `events` (oldest first), showing at most `tags`
/// tags and `latest_events` events (0: all).
pub fn text(
    tw: &TagWatch,
    events: &[Event],
    tags: usize,
    latest_events: usize,
    now: Timestamp,
) -> String {
    let meta = &tw.metadata;
    let spec = &tw.spec;
    let status = tw.status.clone().unwrap_or_default();
    let mut out = String::new();
    let labels = meta.labels.clone().unwrap_or_default();
    let labels = if labels.is_empty() {
        "<none>".to_string()
    } else {
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    out.push_str(&fields(
        "",
        &[
            ("Name", or_dash(meta.name.clone())),
            ("Namespace", or_dash(meta.namespace.clone())),
            ("Labels", cell(&labels)),
            (
                "Created",
                when(meta.creation_timestamp.as_ref().map(|t| t.0), now),
            ),
        ],
    ));

    out.push_str("Spec:\n");
    let filter = spec.filter.clone().unwrap_or_default();
    let notify: Vec<String> = spec
        .notify
        .iter()
        .map(|t| {
            let events: Vec<&str> = t.events.iter().map(|e| e.into()).collect();
            format!("{} ({})", t.secret_ref.name, events.join(", "))
        })
        .collect();
    out.push_str(&fields(
        "  ",
        &[
            (
                "Image",
                cell(&format!("{}/{}", spec.repo_name, spec.image_name)),
            ),
            (
                "Project",
                spec.project_id
                    .clone()
                    .map_or_else(|| "the account's default".to_string(), |p| cell(&p)),
            ),
            ("Only tag", or_dash(spec.tag_name.clone())),
            ("Interval", cell(&spec.interval)),
            (
                "Timeout",
                spec.timeout
                    .clone()
                    .map_or_else(|| "default".to_string(), |t| cell(&t)),
            ),
            (
                "Secret",
                spec.secret_ref.as_ref().map_or_else(
                    || "operator's default credentials".to_string(),
                    |s| cell(&s.name),
                ),
            ),
            ("Include", or_dash(filter.include.clone())),
            (
                "Exclude",
                if filter.exclude.is_empty() {
                    "-".to_string()
                } else {
                    cell(&filter.exclude.join(", "))
                },
            ),
            (
                "Signature tags",
                if filter.include_signatures {
                    "tracked"
                } else {
                    "not tracked"
                }
                .to_string(),
            ),
            ("Policy", cell(&policy(spec.policy.as_ref()))),
            ("History limit", spec.history_limit.to_string()),
            ("Suspended", spec.suspend.to_string()),
            (
                "Notify",
                if notify.is_empty() {
                    "-".to_string()
                } else {
                    cell(&notify.join("; "))
                },
            ),
        ],
    ));

    out.push_str("Status:\n");
    let counts = match (status.tag_count, status.upstream_tag_count) {
        (Some(tracked), Some(upstream)) => format!("{tracked} tracked of {upstream} in UHub"),
        (Some(tracked), None) => format!("{tracked} tracked"),
        _ => "-".to_string(),
    };
    let requested = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(RECONCILE_REQUESTED_AT).cloned());
    out.push_str(&fields(
        "  ",
        &[
            ("Latest tag", or_dash(status.latest_tag.clone())),
            ("Latest image", or_dash(status.latest_image.clone())),
            ("Latest digest", or_dash(status.latest_digest.clone())),
            ("Latest update", or_dash(status.latest_update_time.clone())),
            ("Tags", counts),
            ("Revision", or_dash(status.revision.clone())),
            (
                "Last sync",
                when(status.last_sync_time.as_ref().map(|t| t.0), now),
            ),
            (
                "Generation",
                format!(
                    "{} (observed {})",
                    or_dash(meta.generation.map(|g| g.to_string())),
                    or_dash(status.observed_generation.map(|g| g.to_string()))
                ),
            ),
            (
                "Poll requested",
                format!(
                    "{} (handled {})",
                    or_dash(requested),
                    or_dash(status.last_handled_reconcile_at.clone())
                ),
            ),
        ],
    ));
    if tw.status.is_none() {
        out.push_str("  No status yet: no operator has polled it (see docs/troubleshooting.md).\n");
    }

    out.push_str("Conditions:\n");
    if status.conditions.is_empty() {
        out.push_str("  <none>\n");
    } else {
        let mut rows = vec![
            ["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"]
                .map(String::from)
                .to_vec(),
        ];
        for c in &status.conditions {
            rows.push(vec![
                cell(&c.type_),
                cell(&c.status),
                cell(&c.reason),
                age(Some(c.last_transition_time.0), now),
                cell(&c.message),
            ]);
        }
        out.push_str(&indented("  ", &aligned(&rows, 3)));
    }

    let shown = if tags == 0 {
        status.tags.len()
    } else {
        tags.min(status.tags.len())
    };
    out.push_str(&format!(
        "Tags (newest {shown} of {}):\n",
        status.tag_count.unwrap_or(status.tags.len() as i64)
    ));
    if status.tags.is_empty() {
        out.push_str("  <none>\n");
    } else {
        let list: Vec<tags::Tag> = status.tags[..shown].iter().map(tags::Tag::from).collect();
        out.push_str(&indented("  ", &render_table(&list)));
    }

    out.push_str(&format!(
        "Pending notifications ({}):\n",
        status.pending_notifications.len()
    ));
    if status.pending_notifications.is_empty() {
        out.push_str("  <none>\n");
    } else {
        let mut rows = vec![
            [
                "ID",
                "TARGET",
                "TYPE",
                "ATTEMPTS",
                "AGE",
                "NEXT ATTEMPT",
                "LAST ERROR",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for p in &status.pending_notifications {
            rows.push(vec![
                cell(&p.id),
                cell(&format!("notify[{}] {}", p.target, p.secret_name)),
                p.type_.to_string(),
                p.attempts.to_string(),
                age(Some(p.created_at.0), now),
                p.next_attempt_at
                    .as_ref()
                    .map_or_else(|| "now".to_string(), |t| t.0.to_string()),
                p.last_error.as_ref().map_or_else(
                    || "-".to_string(),
                    |e| cell(&format!("{}: {}", e.reason, e.message)),
                ),
            ]);
        }
        out.push_str(&indented("  ", &aligned(&rows, 3)));
    }

    let skip = if latest_events == 0 {
        0
    } else {
        events.len().saturating_sub(latest_events)
    };
    out.push_str(&format!(
        "Events (latest {} of {}):\n",
        events.len() - skip,
        events.len()
    ));
    if events.is_empty() {
        out.push_str("  <none>\n");
    } else {
        out.push_str(&indented("  ", &super::events::table(&events[skip..], now)));
    }
    out
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};

    use super::*;
    use crate::api::v1alpha1::TagStatus;

    #[test]
    fn tags_are_one_aligned_row_each_and_events_the_latest() {
        let mut tw = TagWatch::test()
            .with_spec(serde_json::json!({"policy": {"semver": {"range": ">=1 <2"}}, "filter": {"exclude": ["-rc"]}}))
            .synced(1_000, true)
            .tag_count(Some(3));
        tw.metadata.creation_timestamp = Some(Time(Timestamp::from_second(400).unwrap()));
        let status = tw.status.as_mut().unwrap();
        status.latest_tag = Some("v1.3.0".into());
        status.latest_image = Some("uhub.service.ucloud.cn/demo/web:v1.3.0".into());
        status.tags = vec![
            TagStatus {
                name: "v2.0.0-rc.1".into(),
                update_time: "2026-11-03 10:00:00".into(),
                digest: Some("sha256:bb".into()),
            },
            TagStatus {
                name: "v1.3.0".into(),
                update_time: "2026-11-02 10:00:00".into(),
                digest: None,
            },
            TagStatus {
                name: "v1.2.0".into(),
                update_time: "2026-11-01 10:00:00".into(),
                digest: Some("sha256:aa".into()),
            },
        ];
        let events: Vec<Event> = (0..3)
            .map(|i| Event {
                reason: Some(format!("Reason{i}")),
                type_: Some("Normal".into()),
                note: Some(format!("note {i}")),
                event_time: Some(MicroTime(Timestamp::from_second(900 + i).unwrap())),
                ..Event::default()
            })
            .collect();
        let text = text(&tw, &events, 2, 2, Timestamp::from_second(1_000).unwrap());
        assert!(text.starts_with("Name:       web\nNamespace:  team\nLabels:     <none>\nCreated:    1970-01-01T00:06:40Z (10m ago)\n"), "{text}");
        assert!(
            text.contains("  Policy:          semver >=1 <2\n"),
            "{text}"
        );
        assert!(text.contains("  Exclude:         -rc\n"), "{text}");
        assert!(text.contains("  Signature tags:  not tracked\n"), "{text}");
        assert!(
            text.contains("  Latest image:    uhub.service.ucloud.cn/demo/web:v1.3.0\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "Tags (newest 2 of 3):\n  TAG          UPDATED              DIGEST\n  v2.0.0-rc.1  2026-11-03 10:00:00  sha256:bb\n  v1.3.0       2026-11-02 10:00:00  -\nPending notifications (0):\n  <none>\n"
            ),
            "{text}"
        );
        assert!(text.contains("Conditions:\n  TYPE    STATUS   REASON      AGE   MESSAGE\n  Ready   True     Succeeded   0s    ok\n"), "{text}");
        assert!(
            text.ends_with("Events (latest 2 of 3):\n  LAST SEEN   TYPE      REASON               MESSAGE\n  99s         Normal    Reason1              note 1\n  98s         Normal    Reason2              note 2\n"),
            "{text}"
        );
    }

    #[test]
    fn a_tagwatch_without_status_says_so() {
        let text = text(
            &TagWatch::test(),
            &[],
            10,
            10,
            Timestamp::from_second(0).unwrap(),
        );
        assert!(
            text.contains("No status yet: no operator has polled it"),
            "{text}"
        );
        assert!(text.contains("Tags (newest 0 of 0):\n  <none>\n"), "{text}");
        assert!(
            text.ends_with("Events (latest 0 of 0):\n  <none>\n"),
            "{text}"
        );
    }
}
