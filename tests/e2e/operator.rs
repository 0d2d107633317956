//! End to end: the real operator against a real apiserver and uhub-emulator. A
//! TagWatch becomes Ready with the image's tags; pushed, removed and updated tags
//! are announced once each; a restarted operator neither repeats nor misses
//! announcements; a reconcile request polls at once; suspend stops requests; and
//! a user's kubectl session (apply, wait, get) works.

use std::time::{Duration, Instant};

use serde_json::json;
use tagwatch::testing::env::{
    Env, FIXTURE_TAGS, INTERVAL, NEXT_POLL, PROMPTLY, newest_tag_is, ready, table_cells, tag_names,
};

/// Most time from a push to the tag in status: the interval (10 s) plus 2 s.
const PUSH_TO_STATUS: Duration = Duration::from_secs(12);

/// The fixture's tag names, newest first.
fn fixture_names() -> Vec<String> {
    FIXTURE_TAGS
        .iter()
        .map(|(name, _)| name.to_string())
        .collect()
}

#[tokio::test]
async fn tagwatch_becomes_ready_with_the_emulator_tags() {
    let stack = Env::start("ready").await;
    let tw = stack.ready_tagwatch("web", json!({})).await;

    let status = tw.status.as_ref().expect("status");
    assert_eq!(tag_names(&tw), fixture_names());
    let times: Vec<&str> = status.tags.iter().map(|t| t.update_time.as_str()).collect();
    let fixture_times: Vec<&str> = FIXTURE_TAGS.iter().map(|(_, time)| *time).collect();
    assert_eq!(
        times, fixture_times,
        "updateTime is kept exactly as received"
    );
    assert_eq!(
        status.tags[0].digest.as_deref(),
        Some(&*format!("sha256:{:064x}", 1))
    );
    assert_eq!(status.tag_count, Some(3));
    assert_eq!(status.upstream_tag_count, Some(3));
    assert_eq!(status.latest_tag.as_deref(), Some("v1.2.0"));
    assert_eq!(
        status.latest_image.as_deref(),
        Some("uhub.service.ucloud.cn/team/web:v1.2.0")
    );
    assert_eq!(
        status.latest_digest.as_deref(),
        Some(&*format!("sha256:{:064x}", 1))
    );
    assert_eq!(
        status.latest_update_time.as_deref(),
        Some("2026-11-01 10:00:00")
    );
    assert!(
        status
            .revision
            .as_deref()
            .is_some_and(|r| r.starts_with("sha256:")),
        "{:?}",
        status.revision
    );
    assert!(status.last_sync_time.is_some());
    assert_eq!(status.observed_generation, tw.metadata.generation);
    let condition = ready(&tw).unwrap();
    assert_eq!(condition.message, "found 3 tags, latest v1.2.0");
    assert_eq!(condition.observed_generation, tw.metadata.generation);

    // Another poll finds nothing new: still one InitialSync and nothing else.
    let again = stack.request_poll("web").await;
    assert_eq!(again.status.as_ref().unwrap().revision, status.revision);
    let events = stack.events("web").await;
    let reasons: Vec<_> = events
        .iter()
        .map(|e| e.reason.clone().unwrap_or_default())
        .collect();
    assert_eq!(reasons, ["InitialSync"]);
    assert_eq!(
        events[0].note.as_deref(),
        Some("found 3 tags, latest v1.2.0")
    );
    assert_eq!(events[0].type_.as_deref(), Some("Normal"));
}

#[tokio::test]
async fn pushed_tag_is_announced_once_within_the_interval() {
    let stack = Env::start("push").await;
    stack.ready_tagwatch("web", json!({})).await;

    stack.push("v1.3.0", None).await;
    let pushed = Instant::now();
    let tw = stack
        .wait_until(
            "web",
            "v1.3.0 in status",
            NEXT_POLL,
            newest_tag_is("v1.3.0"),
        )
        .await;
    let took = pushed.elapsed();
    assert!(
        took <= PUSH_TO_STATUS,
        "the pushed tag took {took:?} to reach status (interval {INTERVAL})"
    );
    let status = tw.status.as_ref().unwrap();
    assert_eq!(status.tag_count, Some(4));
    assert_eq!(status.latest_tag.as_deref(), Some("v1.3.0"));

    // One more poll must not announce it again.
    stack.request_poll("web").await;
    let new_tags = stack.notes("web", "NewTag").await;
    assert_eq!(new_tags.len(), 1, "{new_tags:?}");
    assert!(new_tags[0].contains("v1.3.0"), "{new_tags:?}");
    assert_eq!(
        stack.notes("web", "LatestTagChanged").await,
        ["v1.2.0 -> v1.3.0"]
    );
}

#[tokio::test]
async fn a_pushed_signature_tag_is_not_tracked_by_default() {
    let stack = Env::builder("signature")
        .operator_args(&["--registry-host", "registry.example:5000"])
        .start()
        .await;
    stack.ready_tagwatch("web", json!({})).await;

    // cosign's signature of the newest image, pushed after it.
    let signature = format!("sha256-{:064x}.sig", 1);
    stack.push(&signature, None).await;
    let tw = stack.request_poll("web").await;
    let status = tw.status.as_ref().unwrap();
    assert_eq!(status.latest_tag.as_deref(), Some("v1.2.0"));
    assert_eq!(
        status.latest_image.as_deref(),
        Some("registry.example:5000/team/web:v1.2.0"),
        "the host of --registry-host"
    );
    assert_eq!(tag_names(&tw), fixture_names());
    assert_eq!(
        (status.tag_count, status.upstream_tag_count),
        (Some(3), Some(4))
    );
    assert!(stack.notes("web", "NewTag").await.is_empty());
    assert!(stack.notes("web", "LatestTagChanged").await.is_empty());

    // filter.includeSignatures tracks it: a new tag, and the newest.
    stack
        .patch(
            "web",
            json!({"spec": {"filter": {"includeSignatures": true}}}),
        )
        .await;
    let tw = stack
        .wait_until(
            "web",
            "the signature tracked",
            PROMPTLY,
            newest_tag_is(&signature),
        )
        .await;
    assert_eq!(
        tw.status.as_ref().unwrap().latest_tag.as_deref(),
        Some(signature.as_str())
    );
    let new_tags = stack.notes("web", "NewTag").await;
    assert_eq!(new_tags.len(), 1, "{new_tags:?}");
    assert!(new_tags[0].contains(&signature), "{new_tags:?}");
}

#[tokio::test]
async fn removed_and_updated_tags_are_announced_once() {
    let stack = Env::start("change").await;
    stack.ready_tagwatch("web", json!({})).await;

    assert!(
        stack
            .emulator
            .delete_tag(
                tagwatch::testing::env::REPO,
                tagwatch::testing::env::IMAGE,
                "v1.0.0"
            )
            .await
    );
    stack.push("v1.1.0", Some("2026-12-01 10:00:00")).await;
    let tw = stack.request_poll("web").await;
    assert_eq!(tag_names(&tw), ["v1.1.0", "v1.2.0"]);
    let status = tw.status.as_ref().unwrap();
    assert_eq!(status.tags[0].update_time, "2026-12-01 10:00:00");
    assert_eq!(status.latest_tag.as_deref(), Some("v1.1.0"));

    stack.request_poll("web").await;
    let removed = stack.notes("web", "TagRemoved").await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(removed[0].contains("v1.0.0"), "{removed:?}");
    let updated = stack.notes("web", "TagUpdated").await;
    assert_eq!(updated.len(), 1, "{updated:?}");
    assert!(updated[0].contains("v1.1.0"), "{updated:?}");
    assert!(stack.notes("web", "NewTag").await.is_empty());
    assert_eq!(
        stack.notes("web", "LatestTagChanged").await,
        ["v1.2.0 -> v1.1.0"]
    );
}

#[tokio::test]
async fn restarted_operator_neither_repeats_nor_misses_announcements() {
    let mut stack = Env::start("restart").await;
    stack.ready_tagwatch("web", json!({})).await;

    let stopped = stack.operator().stop();
    assert!(
        stopped.success(),
        "tagwatch run exited with {stopped} on SIGTERM"
    );
    stack.push("v2.0.0", Some("2026-12-01 10:00:00")).await;
    stack.push("v2.1.0", Some("2026-12-02 10:00:00")).await;
    stack.operator().start_again();

    stack
        .wait_until(
            "web",
            "both tags pushed while down in status",
            NEXT_POLL,
            |tw| {
                let names = tag_names(tw);
                (names[..2] == ["v2.1.0", "v2.0.0"])
                    .then_some(())
                    .ok_or_else(|| format!("tags {names:?}"))
            },
        )
        .await;
    stack.request_poll("web").await;

    let mut events: Vec<(String, String)> = stack
        .events("web")
        .await
        .into_iter()
        .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
        .collect();
    events.sort();
    let reasons: Vec<&str> = events.iter().map(|(reason, _)| reason.as_str()).collect();
    assert_eq!(
        reasons,
        ["InitialSync", "LatestTagChanged", "NewTag", "NewTag"],
        "{events:?}"
    );
    assert!(events[2].1.contains("v2.0.0"), "{events:?}");
    assert!(events[3].1.contains("v2.1.0"), "{events:?}");
    assert_eq!(events[1].1, "v1.2.0 -> v2.1.0");
}

#[tokio::test]
async fn reconcile_request_polls_at_once() {
    let stack = Env::start("request").await;
    // An interval no test waits for: only the request can explain a poll.
    stack.ready_tagwatch("web", json!({"interval": "1h"})).await;
    stack.push("v1.3.0", None).await;
    let before = stack.requests().await;

    let requested = Instant::now();
    let tw = stack.request_poll("web").await;
    let took = requested.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "the requested poll took {took:?}"
    );
    assert_eq!(tag_names(&tw)[0], "v1.3.0");
    assert_eq!(
        stack.requests().await,
        before + 1,
        "one request (one page) for one requested poll"
    );
}

#[tokio::test]
async fn suspend_stops_requests_and_resume_polls_again() {
    let stack = Env::start("suspend").await;
    stack.ready_tagwatch("web", json!({})).await;
    // Right after a poll, the next one is a whole interval away: suspending now
    // cannot race with one in flight.
    let polled = stack.request_poll("web").await;
    let suspended = stack.patch("web", json!({"spec": {"suspend": true}})).await;
    let flat = stack.requests().await;

    // More than one interval (10 s, plus up to 10% jitter) without a request.
    stack
        .no_requests_throughout(flat, Duration::from_secs(15))
        .await;
    let kept = stack.tagwatches().get("web").await.unwrap();
    assert_eq!(kept.status, polled.status, "status is kept while suspended");

    let resumed = stack
        .patch("web", json!({"spec": {"suspend": false}}))
        .await;
    assert!(resumed.metadata.generation > suspended.metadata.generation);
    let tw = stack
        .wait_observed("web", resumed.metadata.generation)
        .await;
    assert!(stack.requests().await > flat);
    assert_eq!(ready(&tw).unwrap().status, "True");
}

#[tokio::test]
async fn kubectl_user_session() {
    let stack = Env::start("kubectl").await;
    let control_plane = tagwatch::testing::env::shared_control_plane();
    let namespace = stack.namespace.name();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("web.yaml");
    std::fs::write(
        &manifest,
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: keys\nstringData:\n  publicKey: {}\n  privateKey: {}\n\
             ---\napiVersion: tagwatch.dev/v1alpha1\nkind: TagWatch\nmetadata:\n  name: web\n\
             spec:\n  repoName: {}\n  imageName: {}\n  interval: {INTERVAL}\n  secretRef:\n    name: keys\n",
            stack.public_key,
            stack.private_key,
            tagwatch::testing::env::REPO,
            tagwatch::testing::env::IMAGE
        ),
    )
    .unwrap();
    let kubectl = |args: &[&str]| {
        let mut all = vec!["-n", namespace];
        all.extend_from_slice(args);
        control_plane.kubectl_stdout(&all)
    };

    let applied = kubectl(&["apply", "-f", manifest.to_str().unwrap()]);
    assert_eq!(
        applied,
        "secret/keys created\ntagwatch.tagwatch.dev/web created\n"
    );
    let waited = kubectl(&["wait", "--for=condition=Ready", "tw/web", "--timeout=60s"]);
    assert_eq!(waited, "tagwatch.tagwatch.dev/web condition met\n");
    let latest = kubectl(&[
        "get",
        "tagwatch",
        "web",
        "-o",
        "jsonpath={.status.latestTag} {.status.tagCount} {.status.tags[*].name}",
    ]);
    assert_eq!(latest, "v1.2.0 3 v1.2.0 v1.1.0 v1.0.0");

    let table = kubectl(&["get", "tw"]);
    let rows = table_cells(&table);
    assert_eq!(
        rows[0],
        [
            "NAME",
            "REPO",
            "IMAGE",
            "LATEST",
            "TAGS",
            "READY",
            "REASON",
            "LAST SYNC",
            "AGE"
        ],
        "{table}"
    );
    assert_eq!(
        rows[1][..7],
        ["web", "team", "web", "v1.2.0", "3", "True", "Succeeded"],
        "{table}"
    );
    assert_eq!(rows.len(), 2, "{table}");
    // -o wide adds the latest image and the Ready message.
    let wide = table_cells(&kubectl(&["get", "tw", "-o", "wide"]));
    assert_eq!(wide[0][9..], ["LATEST IMAGE", "MESSAGE"], "{wide:?}");
    assert_eq!(
        wide[1][9..],
        [
            "uhub.service.ucloud.cn/team/web:v1.2.0",
            "found 3 tags, latest v1.2.0"
        ],
        "{wide:?}"
    );

    // Requesting a poll as docs/api.md shows it, and waiting for its echo.
    kubectl(&[
        "annotate",
        "--overwrite",
        "tw/web",
        "tagwatch.dev/reconcile-requested-at=by-kubectl",
    ]);
    kubectl(&[
        "wait",
        "--for=jsonpath={.status.lastHandledReconcileAt}=by-kubectl",
        "tw/web",
        "--timeout=20s",
    ]);
    let events = kubectl(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=web,reason=InitialSync",
        "-o",
        "jsonpath={.items[*].message}",
    ]);
    assert_eq!(events, "found 3 tags, latest v1.2.0");
}
