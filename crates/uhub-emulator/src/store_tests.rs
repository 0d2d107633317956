//! Unit tests of the tag store: ordering, rendering, paging and changes.

use super::*;
use crate::fixture::{ImageFixture, TagFixture, TimeValue};

const NOW: i64 = 1_795_773_600; // 2026-11-27 18:00:00 +08:00

fn fixture(format: UpdateTimeFormat) -> Fixture {
    let tag = |name: &str, time: Option<&str>| TagFixture {
        name: name.into(),
        update_time: time.map(|t| TimeValue::Text(t.into())),
        digest: Some(format!("sha256:{name}")),
    };
    Fixture {
        update_time_format: format,
        images: vec![ImageFixture {
            repo: "team".into(),
            image: "web".into(),
            project_id: None,
            tags: vec![
                tag("old", Some("2026-01-01 00:00:00")),
                tag("default-time", None),
                tag("mid", Some("2026-06-01T00:00:00Z")),
            ],
        }],
        ..Fixture::default()
    }
}

fn names(image: &Image) -> Vec<&str> {
    image.tags().iter().map(|t| t.tag.name.as_str()).collect()
}

#[test]
fn fixture_tags_are_newest_first_with_load_time_default() {
    let store = Store::from_fixture(&fixture(UpdateTimeFormat::Datetime), NOW);
    let catalog = store.snapshot();
    let image = catalog.image("team", "web").unwrap();
    assert_eq!(names(image), ["default-time", "mid", "old"]);
    assert_eq!(image.tags()[0].tag.update_time, "2026-11-27 18:00:00");
    assert_eq!(image.tags()[0].unix_seconds, NOW);
    assert_eq!(image.updated(), NOW);
    assert_eq!(image.newest().unwrap().tag.name, "default-time");
}

#[test]
fn datetime_and_unix_render_differently() {
    let datetime = Store::from_fixture(&fixture(UpdateTimeFormat::Datetime), NOW);
    let tag = datetime.snapshot().image("team", "web").unwrap().tags()[2].clone();
    let entry: Value = serde_json::from_str(tag.json()).unwrap();
    assert_eq!(
        entry,
        json!({"TagName": "old", "UpdateTime": "2026-01-01 00:00:00", "Digest": "sha256:old"})
    );

    let unix = Store::from_fixture(&fixture(UpdateTimeFormat::Unix), NOW);
    let tag = unix.snapshot().image("team", "web").unwrap().tags()[0].clone();
    let entry: Value = serde_json::from_str(tag.json()).unwrap();
    assert_eq!(entry["UpdateTime"], json!(NOW));
    assert_eq!(tag.tag.update_time, NOW.to_string());
}

#[test]
fn upsert_creates_images_and_keeps_order() {
    let store = Store::from_fixture(&fixture(UpdateTimeFormat::Datetime), NOW);
    let before = store.snapshot();
    let up = store.upsert_tag("team", "web", "newest", NOW + 60, None);
    assert!(up.created);
    let up = store.upsert_tag("team", "web", "old", NOW + 120, Some("sha256:new".into()));
    assert!(!up.created);
    let catalog = store.snapshot();
    let image = catalog.image("team", "web").unwrap();
    assert_eq!(names(image), ["old", "newest", "default-time", "mid"]);
    assert_eq!(
        image.tag("old").unwrap().tag.digest.as_deref(),
        Some("sha256:new")
    );
    // Earlier snapshots do not change.
    assert_eq!(
        names(before.image("team", "web").unwrap()),
        ["default-time", "mid", "old"]
    );

    store.upsert_tag("other", "api", "v1", NOW, None);
    let catalog = store.snapshot();
    assert_eq!(catalog.image("other", "api").unwrap().created, NOW);
    let repos: Vec<_> = catalog.images().map(|i| i.repo.as_str()).collect();
    assert_eq!(repos, ["other", "team"]);
}

#[test]
fn remove_reports_whether_the_tag_existed() {
    let store = Store::from_fixture(&fixture(UpdateTimeFormat::Datetime), NOW);
    assert!(store.remove_tag("team", "web", "mid"));
    assert!(!store.remove_tag("team", "web", "mid"));
    assert!(!store.remove_tag("team", "nope", "mid"));
    assert!(store.snapshot().image("team", "nope").is_none());
    assert_eq!(
        names(store.snapshot().image("team", "web").unwrap()),
        ["default-time", "old"]
    );
}

#[test]
fn many_tags_sort_like_the_crate_ordering() {
    let store = Store::new(UpdateTimeFormat::Unix);
    for i in 0..200 {
        store.upsert_tag("r", "i", &format!("t{i:03}"), NOW - (i * 7919) % 1000, None);
    }
    let catalog = store.snapshot();
    let tags: Vec<Tag> = catalog
        .image("r", "i")
        .unwrap()
        .tags()
        .iter()
        .map(|t| t.tag.clone())
        .collect();
    let mut sorted = tags.clone();
    sort_newest_first(&mut sorted);
    assert_eq!(tags, sorted);
    assert_eq!(tags.len(), 200);
}

#[test]
fn generated_images_hold_synthetic_tags_newest_first() {
    let fixture = Fixture::from_yaml(
        "credentials: [{publicKey: p, privateKey: s}]\n\
         generated: [{repo: bench, imagePrefix: img-, count: 3, tags: 4}]\n",
    )
    .unwrap();
    let store = Store::from_fixture(&fixture, NOW);
    let catalog = store.snapshot();
    assert_eq!(catalog.images_of("bench").count(), 3);
    let image = catalog.image("bench", "img-2").unwrap();
    assert_eq!(names(image), ["v1.0.3", "v1.0.2", "v1.0.1", "v1.0.0"]);
    let times: Vec<i64> = image.tags().iter().map(|t| t.unix_seconds).collect();
    assert_eq!(times, [NOW - 60, NOW - 120, NOW - 180, NOW - 240]);
    let digest = image.tags()[0].tag.digest.as_deref().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    let other = catalog.image("bench", "img-0").unwrap();
    assert_ne!(other.tags()[0].tag.digest.as_deref(), Some(digest));
}

#[test]
fn generated_names_must_not_clash_with_listed_images() {
    let error = Fixture::from_yaml(
        "credentials: [{publicKey: p, privateKey: s}]\n\
         images: [{repo: bench, image: img-7}]\n\
         generated: [{repo: bench, imagePrefix: img-, count: 3, tags: 4}]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("generated[0]") && error.contains("bench/img-7"),
        "{error}"
    );
}

#[test]
fn pages_are_served_in_the_store_s_order() {
    let mut fixture = fixture(UpdateTimeFormat::Datetime);
    fixture.images[0].tags.push(TagFixture {
        name: "alpha".into(),
        update_time: Some(TimeValue::Text("2025-01-01 00:00:00".into())),
        digest: None,
    });
    let store = Store::from_fixture(&fixture, NOW);
    let page = |offset, limit| -> Vec<String> {
        let catalog = store.snapshot();
        let image = catalog.image("team", "web").unwrap();
        image
            .page_in(store.order(), offset, limit)
            .iter()
            .map(|t| t.tag.name.clone())
            .collect()
    };
    assert_eq!(store.order(), TagOrder::Newest);
    assert_eq!(page(0, 10), ["default-time", "mid", "old", "alpha"]);
    assert_eq!(page(1, 2), ["mid", "old"]);
    store.set_order(TagOrder::Oldest);
    assert_eq!(page(0, 10), ["alpha", "old", "mid", "default-time"]);
    assert_eq!(page(1, 2), ["old", "mid"]);
    assert_eq!(page(3, 5), ["default-time"]);
    assert!(page(4, 5).is_empty());
    store.set_order(TagOrder::Name);
    assert_eq!(page(0, 10), ["alpha", "default-time", "mid", "old"]);
    assert_eq!(page(2, 1), ["mid"]);
    let mut oldest = fixture.clone();
    oldest.order = TagOrder::Oldest;
    assert_eq!(Store::from_fixture(&oldest, NOW).order(), TagOrder::Oldest);
}
