//! The reconciler's exact Kubernetes requests, checked with the tower-test API server
//! ([`crate::testing::fixtures`]), with the UHub emulator in-process as UCloud.

use http::Method;
use serde_json::{Value, json};
use uhub_emulator::Emulator;

use super::*;
use crate::controller::context::Settings;
use crate::testing::fixtures::{ApiServerVerifier, status as api_status};

const FIXTURE: &str = "
credentials: [{publicKey: pub-fx, privateKey: pri-fx}]
images:
  - repo: demo
    image: web
    tags:
      - {name: v1.0.0, updateTime: '2026-11-01 10:00:00'}
      - {name: v1.1.0, updateTime: '2026-11-02 10:00:00'}
";

/// [`TagWatch::test`] with `status` (JSON) and a requested poll `annotation`.
fn tagwatch(status: Option<Value>, annotation: Option<&str>) -> Arc<TagWatch> {
    let mut tw = TagWatch::test();
    if let Some(status) = status {
        tw = tw.with_status(serde_json::from_value(status).unwrap());
    }
    if let Some(value) = annotation {
        tw = tw.requesting_poll(value);
    }
    Arc::new(tw)
}

fn context(emulator: &Emulator) -> (Arc<Context>, ApiServerVerifier) {
    Context::test(&emulator.url(), Settings::default())
}

fn secret() -> Value {
    // base64 of pub-fx and pri-fx
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "keys", "namespace": "team"},
           "data": {"publicKey": "cHViLWZ4", "privateKey": "cHJpLWZ4"}})
}

/// What the API server answers a status patch with: the stored object.
fn stored() -> Value {
    serde_json::to_value(&*tagwatch(None, None)).unwrap()
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .fixture_yaml(FIXTURE)
        .unwrap()
        .spawn()
        .await
        .unwrap()
}

/// Answers the reconciler's read of the `keys` Secret.
async fn expect_secret_read(api: &mut ApiServerVerifier) {
    let path = "/api/v1/namespaces/team/secrets/keys";
    api.expect(Method::GET, path, 200, secret()).await;
}

/// Answers the `Reconciling=True` write before the first poll of a new generation.
async fn expect_reconciling(api: &mut ApiServerVerifier) {
    let patch = api.expect(Method::PATCH, STATUS, 200, stored()).await;
    let condition = &patch.body["status"]["conditions"][0];
    assert_eq!(
        (condition["type"].as_str(), condition["status"].as_str()),
        (Some("Reconciling"), Some("True"))
    );
    assert_eq!(condition["message"], "polling generation 1");
}

/// Answers an event create as the API server does and returns the event.
async fn expect_event(api: &mut ApiServerVerifier) -> Value {
    api.expect(Method::POST, EVENTS, 201, Value::Null)
        .await
        .body
}

const EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/team/events";
const STATUS: &str = "/apis/tagwatch.dev/v1alpha1/namespaces/team/tagwatches/web/status";

#[tokio::test]
async fn first_poll_reads_the_secret_announces_initial_sync_and_applies_status() {
    let emulator = emulator().await;
    let (ctx, mut handle) = context(&emulator);
    let server = tokio::spawn(async move {
        expect_reconciling(&mut handle).await;
        expect_secret_read(&mut handle).await;
        let event = expect_event(&mut handle).await;
        assert_eq!(
            (event["reason"].as_str(), event["type"].as_str()),
            (Some("InitialSync"), Some("Normal"))
        );
        assert_eq!(event["note"], "found 2 tags, latest v1.1.0");
        assert_eq!(event["regarding"]["uid"], "uid-1");
        let patch = handle.expect(Method::PATCH, STATUS, 200, stored()).await;
        let query = patch.query.as_str();
        assert!(
            query.contains("fieldManager=tagwatch") && query.contains("force=true"),
            "{query}"
        );
        let status = &patch.body["status"];
        assert_eq!(patch.body["kind"], "TagWatch");
        assert_eq!(
            status["tags"][0],
            json!({"name": "v1.1.0", "updateTime": "2026-11-02 10:00:00"})
        );
        assert_eq!(
            (status["tagCount"].as_i64(), status["latestTag"].as_str()),
            (Some(2), Some("v1.1.0"))
        );
        assert_eq!(status["conditions"][0]["type"], "Ready");
        assert_eq!(status["conditions"][0]["status"], "True");
        assert_eq!(status["observedGeneration"], 1);
        handle
    });
    let action = reconcile(tagwatch(None, None), ctx)
        .await
        .expect("reconciled");
    let handle = server.await.unwrap();
    assert!(
        format!("{action:?}").contains("requeue_after: Some("),
        "{action:?}"
    );
    drop(handle);
}

#[tokio::test]
async fn a_missing_secret_is_reported_once_and_polls_nothing() {
    let emulator = emulator().await;
    let (ctx, mut handle) = context(&emulator);
    let not_found = api_status(404, "NotFound", "secrets \"keys\" not found");
    let server = tokio::spawn(async move {
        expect_reconciling(&mut handle).await;
        handle
            .expect(
                Method::GET,
                "/api/v1/namespaces/team/secrets/keys",
                404,
                not_found,
            )
            .await;
        let event = expect_event(&mut handle).await;
        assert_eq!(
            (event["reason"].as_str(), event["type"].as_str()),
            (Some("SyncFailed"), Some("Warning"))
        );
        let status = handle
            .expect(Method::PATCH, STATUS, 200, stored())
            .await
            .body["status"]
            .clone();
        assert_eq!(status["conditions"][0]["reason"], "CredentialsNotFound");
        assert_eq!(
            status["conditions"][0]["message"],
            "Secret team/keys not found: create it with the keys publicKey and privateKey"
        );
        assert!(status.get("tags").is_none());
        handle
    });
    reconcile(tagwatch(None, None), ctx)
        .await
        .expect("reconciled");
    server.await.unwrap();
    assert_eq!(
        emulator.state().stats().snapshot().total,
        0,
        "no UCloud request without credentials"
    );
}

/// The status of a sync that found v1.0.0 only.
fn synced_at_v1_0_0() -> Value {
    json!({
        "observedGeneration": 1, "lastSyncTime": "2026-11-27T10:00:00Z", "tagCount": 1, "latestTag": "v1.0.0",
        "tags": [{"name": "v1.0.0", "updateTime": "2026-11-01 10:00:00"}],
        "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "m",
                         "lastTransitionTime": "2026-11-27T10:00:00Z", "observedGeneration": 1}],
    })
}

#[tokio::test]
async fn a_requested_poll_announces_the_new_tag_and_the_new_latest() {
    let emulator = emulator().await;
    let (ctx, mut handle) = context(&emulator);
    let previous = synced_at_v1_0_0();
    let server = tokio::spawn(async move {
        expect_secret_read(&mut handle).await;
        let new_tag = expect_event(&mut handle).await;
        assert_eq!(new_tag["reason"], "NewTag");
        assert!(new_tag["note"].as_str().unwrap().contains("v1.1.0"));
        let latest = expect_event(&mut handle).await;
        assert_eq!(latest["reason"], "LatestTagChanged");
        assert_eq!(latest["note"], "v1.0.0 -> v1.1.0");
        let status = handle
            .expect(Method::PATCH, STATUS, 200, stored())
            .await
            .body["status"]
            .clone();
        assert_eq!(status["lastHandledReconcileAt"], "now");
        assert_eq!(
            status["conditions"][0]["lastTransitionTime"],
            "2026-11-27T10:00:00Z"
        );
        handle
    });
    reconcile(tagwatch(Some(previous), Some("now")), ctx)
        .await
        .expect("reconciled");
    server.await.unwrap();
}

/// The status a first poll of the fixture writes.
async fn first_status(emulator: &Emulator) -> Value {
    let (ctx, mut handle) = context(emulator);
    let server = tokio::spawn(async move {
        expect_reconciling(&mut handle).await;
        expect_secret_read(&mut handle).await;
        expect_event(&mut handle).await;
        handle
            .expect(Method::PATCH, STATUS, 200, stored())
            .await
            .body["status"]
            .clone()
    });
    reconcile(tagwatch(None, None), ctx)
        .await
        .expect("reconciled");
    server.await.unwrap()
}

/// The requests after the Secret read of a poll that finds what `status` says, synced
/// two minutes ago (due at the interval of 1m), with `--last-sync-refresh` `refresh`.
async fn writes_of_a_quiet_poll(
    emulator: &Emulator,
    mut status: Value,
    refresh: std::time::Duration,
) -> Vec<String> {
    let two_minutes_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(120);
    status["lastSyncTime"] = json!(two_minutes_ago.to_string());
    let settings = Settings {
        last_sync_refresh: refresh,
        ..Settings::default()
    };
    let (ctx, mut handle) = Context::test(&emulator.url(), settings);
    let server = tokio::spawn(async move {
        expect_secret_read(&mut handle).await;
        // Answer (and note) anything else until the reconciler's client is gone.
        handle.answer_all(stored()).await
    });
    reconcile(tagwatch(Some(status), None), ctx)
        .await
        .expect("reconciled");
    server.await.unwrap()
}

#[tokio::test]
async fn a_poll_that_finds_nothing_new_writes_nothing() {
    let emulator = emulator().await;
    let status = first_status(&emulator).await;
    let ten_minutes = std::time::Duration::from_secs(600);
    let writes = writes_of_a_quiet_poll(&emulator, status.clone(), ten_minutes).await;
    assert!(
        writes.is_empty(),
        "a poll that found nothing new wrote {writes:?}"
    );
    // With a zero refresh every poll writes lastSyncTime (and nothing else).
    let writes = writes_of_a_quiet_poll(&emulator, status, std::time::Duration::ZERO).await;
    assert_eq!(writes, [format!("PATCH {STATUS}")]);
    let polls = emulator.state().stats().snapshot().total;
    assert_eq!(polls, 3, "every poll asked UCloud");
}

const TAGWATCH: &str = "/apis/tagwatch.dev/v1alpha1/namespaces/team/tagwatches/web";

/// `tw` as the API server stores it at `resource_version`.
fn at_version(tw: &TagWatch, resource_version: &str) -> Value {
    serde_json::to_value(tw.clone().at_version(resource_version)).unwrap()
}

#[tokio::test]
async fn a_cache_behind_the_last_status_write_is_read_again_so_no_tag_is_announced_twice() {
    // The watch has stalled (as after an apiserver restart): every reconcile is handed
    // the TagWatch as it was before the operator's own last status write.
    let emulator = emulator().await;
    let (ctx, mut handle) = context(&emulator);
    let stale: Arc<TagWatch> = Arc::new(
        serde_json::from_value(at_version(
            &tagwatch(Some(synced_at_v1_0_0()), Some("now")),
            "1",
        ))
        .unwrap(),
    );
    let server = tokio::spawn(async move {
        expect_secret_read(&mut handle).await;
        let new_tag = expect_event(&mut handle).await;
        assert!(new_tag["note"].as_str().unwrap().contains("v1.1.0"));
        expect_event(&mut handle).await; // LatestTagChanged
        let written = handle
            .expect(Method::PATCH, STATUS, 200, {
                at_version(&tagwatch(None, Some("now")), "2")
            })
            .await
            .body["status"]
            .clone();

        // Meanwhile another poll was requested: the stored TagWatch asks for it.
        let mut fresh = at_version(&tagwatch(None, Some("again")), "2");
        fresh["status"] = written;
        handle.expect(Method::GET, TAGWATCH, 200, fresh).await;
        let listing = expect_event(&mut handle).await;
        let note = listing["note"].as_str().unwrap();
        assert_eq!(listing["reason"], "NewTag");
        assert!(note.starts_with("6 new tags: "), "{note}");
        assert!(!note.contains("v1.1.0"), "announced again: {note}");
        let latest = expect_event(&mut handle).await;
        assert_eq!(latest["note"], "v1.1.0 -> n6");
        let status = handle
            .expect(Method::PATCH, STATUS, 200, {
                at_version(&tagwatch(None, Some("again")), "3")
            })
            .await
            .body["status"]
            .clone();
        assert_eq!(status["lastHandledReconcileAt"], "again");
        handle
    });
    reconcile(stale.clone(), ctx.clone())
        .await
        .expect("reconciled");
    for n in 1..=6 {
        let at = 1_794_000_000 + n;
        let store = emulator.state().store();
        store.upsert_tag("demo", "web", &format!("n{n}"), at, None);
    }
    reconcile(stale, ctx).await.expect("reconciled");
    server.await.unwrap();
}

/// `status` as the controller's cache holds it: without `status.tags`.
fn cached(mut status: Value) -> Value {
    status.as_object_mut().unwrap().remove("tags");
    status
}

/// `status`, synced two minutes ago (due at the interval of 1m).
fn two_minutes_old(mut status: Value) -> Value {
    let two_minutes_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(120);
    status["lastSyncTime"] = json!(two_minutes_ago.to_string());
    status
}

#[tokio::test]
async fn a_probe_that_finds_the_recorded_page_asks_one_request_and_reads_nothing_more() {
    let emulator = emulator().await;
    let status = first_status(&emulator).await;
    assert_eq!(status["listing"]["order"], "NewestFirst");
    assert_eq!(status["listing"]["totalCount"], 2);
    assert_eq!(status["listing"]["newestPage"]["offset"], 0);
    let before = emulator.state().stats().snapshot().total;
    // The cached TagWatch holds no tags: a probe needs none.
    let writes = writes_of_a_quiet_poll(
        &emulator,
        cached(status),
        std::time::Duration::from_secs(600),
    )
    .await;
    assert!(writes.is_empty(), "{writes:?}");
    assert_eq!(emulator.state().stats().snapshot().total - before, 1);
}

#[tokio::test]
async fn a_write_keeping_the_recorded_tags_reads_them_first() {
    let emulator = emulator().await;
    let status = first_status(&emulator).await;
    let full = two_minutes_old(status.clone());
    let (ctx, mut handle) = Context::test(
        &emulator.url(),
        Settings {
            last_sync_refresh: std::time::Duration::ZERO,
            ..Settings::default()
        },
    );
    let stored_full = at_version(&tagwatch(Some(full.clone()), None), "5");
    let server = tokio::spawn(async move {
        expect_secret_read(&mut handle).await;
        handle.expect(Method::GET, TAGWATCH, 200, stored_full).await;
        let written = handle.expect(Method::PATCH, STATUS, 200, stored()).await;
        (
            written.body["status"].clone(),
            handle.answer_all(stored()).await,
        )
    });
    let cached_tw: Arc<TagWatch> =
        serde_json::from_value(at_version(&tagwatch(Some(cached(full.clone())), None), "5"))
            .map(Arc::new)
            .unwrap();
    reconcile(cached_tw, ctx).await.expect("reconciled");
    let (written, more) = server.await.unwrap();
    assert_eq!(written["tags"], full["tags"], "the recorded tags are kept");
    assert!(more.is_empty(), "{more:?}");
}

#[tokio::test]
async fn a_changed_tag_list_is_diffed_with_the_stored_window() {
    let emulator = emulator().await;
    let status = two_minutes_old(first_status(&emulator).await);
    emulator
        .state()
        .store()
        .upsert_tag("demo", "web", "v1.2.0", 1_794_000_000, None);
    let (ctx, mut handle) = context(&emulator);
    let stored_full = at_version(&tagwatch(Some(status.clone()), None), "5");
    let server = tokio::spawn(async move {
        expect_secret_read(&mut handle).await;
        handle.expect(Method::GET, TAGWATCH, 200, stored_full).await;
        let new_tag = expect_event(&mut handle).await;
        let latest = expect_event(&mut handle).await;
        let written = handle.expect(Method::PATCH, STATUS, 200, stored()).await;
        (new_tag, latest, written.body["status"].clone())
    });
    let cached_tw: Arc<TagWatch> =
        serde_json::from_value(at_version(&tagwatch(Some(cached(status)), None), "5"))
            .map(Arc::new)
            .unwrap();
    let before = emulator.state().stats().snapshot().total;
    reconcile(cached_tw, ctx).await.expect("reconciled");
    let (new_tag, latest, written) = server.await.unwrap();
    assert_eq!(
        new_tag["note"], "new tag v1.2.0 (updateTime 2026-11-07 05:20:00)",
        "only the new tag, not the recorded ones"
    );
    assert_eq!(latest["note"], "v1.1.0 -> v1.2.0");
    assert_eq!(written["tagCount"], 3);
    assert_eq!(written["listing"]["totalCount"], 3);
    assert_eq!(
        emulator.state().stats().snapshot().total - before,
        1,
        "the probe was the whole (one-page) listing"
    );
}

#[tokio::test]
async fn a_stored_tagwatch_of_another_version_stops_the_reconcile_before_any_write() {
    let emulator = emulator().await;
    let status = two_minutes_old(first_status(&emulator).await);
    emulator
        .state()
        .store()
        .upsert_tag("demo", "web", "v1.2.0", 1_794_000_000, None);
    let (ctx, mut handle) = context(&emulator);
    let newer = at_version(&tagwatch(Some(status.clone()), None), "6");
    let server = tokio::spawn(async move {
        expect_secret_read(&mut handle).await;
        handle.expect(Method::GET, TAGWATCH, 200, newer).await;
        handle.answer_all(stored()).await
    });
    let cached_tw: Arc<TagWatch> =
        serde_json::from_value(at_version(&tagwatch(Some(cached(status)), None), "5"))
            .map(Arc::new)
            .unwrap();
    let error = reconcile(cached_tw.clone(), ctx.clone()).await.unwrap_err();
    assert!(matches!(error, Error::Stale(_)), "{error}");
    assert_eq!(
        format!("{:?}", error_policy(cached_tw.clone(), &error, ctx.clone())),
        format!("{:?}", Action::requeue(CONFLICT_RETRY))
    );
    assert!(
        ctx.written.cache_lags(
            &ObjectRef::from_obj(&*cached_tw),
            cached_tw.resource_version().as_deref()
        ),
        "the next reconcile reads the TagWatch afresh"
    );
    drop(ctx);
    let more = server.await.unwrap();
    assert!(more.is_empty(), "no event and no status write: {more:?}");
}
