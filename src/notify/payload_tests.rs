use serde_json::{Value, json};
use tags::diff::{Changes, TagUpdate};
use tags::revision::revision;

use super::*;

fn tagwatch(notify: Value) -> TagWatch {
    TagWatch::test()
        .in_namespace("ns")
        .with_spec(json!({"repoName": "team", "notify": notify}))
}

/// A poll that saw `changes`, with `latest` picked now and `previous` before, over the
/// tracked tags of revision `revision`.
fn seen(
    changes: &Changes,
    previous: Option<&str>,
    latest: Option<&Tag>,
    revision: &str,
) -> Observation {
    Observation {
        tracked: Vec::new(),
        upstream_total: 0,
        changes: changes.clone(),
        latest: latest.cloned(),
        previous_latest: previous.map(str::to_string),
        revision: revision.to_string(),
    }
}

fn tag(name: &str, second: u32, digest: Option<&str>) -> Tag {
    Tag {
        name: name.into(),
        update_time: format!("2026-11-27 10:00:{second:02}"),
        digest: digest.map(str::to_string),
    }
}

fn now() -> Time {
    Time("2026-11-27T02:00:05Z".parse().unwrap())
}

fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("00000000-0000-4000-8000-{n:012}")
    }
}

fn schema() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/notification.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the documented schema compiles")
}

fn checked_bodies(out: &[PendingNotification]) -> Vec<Value> {
    let schema = schema();
    out.iter()
        .map(|n| {
            let body: Value = serde_json::from_str(&n.body).unwrap();
            let errors: Vec<String> = schema.iter_errors(&body).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{body}: {errors:?}");
            assert_eq!(body["deliveryId"], n.id.as_str());
            assert_eq!(body["type"], n.type_.to_string());
            body
        })
        .collect()
}

#[test]
fn one_notification_per_target_and_subscribed_kind() {
    let tw = tagwatch(json!([
        {"secretRef": {"name": "a"}},
        {"secretRef": {"name": "b"}, "events": ["TagRemoved", "NewTag", "TagUpdated"]},
    ]));
    let new = tag("v3", 3, Some("sha256:3"));
    let changes = Changes {
        added: vec![new.clone()],
        updated: vec![TagUpdate {
            old: tag("v2", 2, None),
            new: tag("v2", 4, None),
        }],
        removed: vec![tag("v1", 1, None)],
        initial: false,
    };
    let current = [new.clone(), tag("v2", 4, None)];
    let rev = revision(&current);
    let poll = seen(&changes, Some("v2"), Some(&new), &rev);
    let out = notifications(&tw, &poll, &now(), ids());
    let summary: Vec<(i32, &str, NotifyEvent)> = out
        .iter()
        .map(|n| (n.target, n.secret_name.as_str(), n.type_))
        .collect();
    use NotifyEvent::*;
    assert_eq!(
        summary,
        [
            (0, "a", NewTag),
            (0, "a", LatestTagChanged),
            (1, "b", NewTag),
            (1, "b", TagUpdated),
            (1, "b", TagRemoved),
        ]
    );
    assert!(out.iter().all(|n| n.attempts == 0 && n.created_at == now()));
    let bodies = checked_bodies(&out);
    assert_eq!(
        bodies[0],
        json!({
            "type": "NewTag",
            "deliveryId": "00000000-0000-4000-8000-000000000001",
            "timestamp": "2026-11-27T02:00:05Z",
            "tagWatch": {"namespace": "ns", "name": "web", "uid": "uid-1"},
            "repo": "team",
            "image": "web",
            "tags": [{"name": "v3", "updateTime": "2026-11-27 10:00:03", "digest": "sha256:3"}],
            "latestTag": "v3",
            "revision": rev,
        })
    );
    assert_eq!(bodies[1]["previousLatestTag"], "v2");
    assert_eq!(
        bodies[1]["tags"],
        json!([{"name": "v3", "updateTime": "2026-11-27 10:00:03", "digest": "sha256:3"}])
    );
    assert_eq!(bodies[3]["tags"][0]["updateTime"], "2026-11-27 10:00:04");
    assert_eq!(bodies[4]["tags"][0]["name"], "v1");
    // Every notification has its own id.
    let mut ids: Vec<&str> = out.iter().map(|n| n.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), out.len());
}

#[test]
fn nothing_on_the_first_sync_or_without_targets_or_changes() {
    let rev = revision(&[]);
    let initial = Changes {
        initial: true,
        ..Changes::default()
    };
    let poll = |changes| seen(changes, None, None, &rev);
    let with_target = tagwatch(json!([{"secretRef": {"name": "a"}}]));
    assert!(notifications(&with_target, &poll(&initial), &now(), ids()).is_empty());
    let unchanged = Changes::default();
    assert!(notifications(&with_target, &poll(&unchanged), &now(), ids()).is_empty());
    let changes = Changes {
        added: vec![tag("v1", 1, None)],
        ..Changes::default()
    };
    assert!(notifications(&tagwatch(json!([])), &poll(&changes), &now(), ids()).is_empty());
}

#[test]
fn latest_tag_cleared_and_long_lists_are_capped() {
    let tw = tagwatch(
        json!([{"secretRef": {"name": "a"}, "events": ["LatestTagChanged", "TagRemoved"]}]),
    );
    let removed: Vec<Tag> = (0..60)
        .map(|i| tag(&format!("v{i}"), i % 60, None))
        .collect();
    let changes = Changes {
        removed: removed.clone(),
        ..Changes::default()
    };
    let rev = revision(&[]);
    let poll = seen(&changes, Some("v0"), None, &rev);
    let out = notifications(&tw, &poll, &now(), ids());
    let bodies = checked_bodies(&out);
    assert_eq!(bodies[0]["type"], "TagRemoved");
    assert_eq!(bodies[0]["tags"].as_array().unwrap().len(), MAX_TAGS);
    assert_eq!(bodies[0]["tagsOmitted"], 10);
    assert_eq!(bodies[0]["latestTag"], Value::Null);
    assert_eq!(bodies[1]["type"], "LatestTagChanged");
    assert_eq!(bodies[1]["tags"], json!([]));
    assert_eq!(bodies[1]["previousLatestTag"], "v0");

    // From no latest tag to one: previousLatestTag is null, not absent.
    let first = tag("v9", 9, None);
    let poll = seen(&Changes::default(), None, Some(&first), &rev);
    let out = notifications(&tw, &poll, &now(), ids());
    let bodies = checked_bodies(&out);
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0]
            .as_object()
            .unwrap()
            .contains_key("previousLatestTag")
    );
    assert_eq!(bodies[0]["previousLatestTag"], Value::Null);
}

#[test]
fn the_schema_rejects_what_is_not_sent() {
    let schema = schema();
    let good = json!({
        "type": "NewTag", "deliveryId": "00000000-0000-4000-8000-000000000001",
        "timestamp": "2026-11-27T02:00:05Z",
        "tagWatch": {"namespace": "ns", "name": "web", "uid": "u"},
        "repo": "team", "image": "web",
        "tags": [{"name": "v1", "updateTime": "1"}],
        "latestTag": "v1", "revision": format!("sha256:{}", "0".repeat(64)),
    });
    assert!(schema.is_valid(&good));
    let mut missing_tags = good.clone();
    missing_tags["tags"] = json!([]);
    let mut stray_previous = good.clone();
    stray_previous["previousLatestTag"] = json!("v0");
    let mut bad_type = good.clone();
    bad_type["type"] = json!("InitialSync");
    let mut unknown = good.clone();
    unknown["url"] = json!("https://example");
    for bad in [missing_tags, stray_previous, bad_type, unknown] {
        assert!(!schema.is_valid(&bad), "{bad}");
    }
}
