//! The reliability suite's truth: the tags UHub (the emulator) serves, read through
//! GetImageTag as the operator reads them, and the check that a TagWatch's status
//! records exactly them.

use std::collections::BTreeMap;

use tags::revision::revision;
use tags::{Tag, sort_newest_first};
use tagwatch::api::v1alpha1::TagWatch;

use tagwatch::testing::env::{Env, REPO, ready};
use testkit::emulator::{post_form, signed};

/// Tags per GetImageTag page.
const PAGE: usize = 100;

/// Every tag of each of `images`, newest first.
pub async fn tags_per_image(stack: &Env, images: &[String]) -> BTreeMap<String, Vec<Tag>> {
    let mut all = BTreeMap::new();
    for image in images {
        all.insert(image.clone(), tags_of(stack, image).await);
    }
    all
}

async fn tags_of(stack: &Env, image: &str) -> Vec<Tag> {
    let mut tags = Vec::new();
    loop {
        let offset = tags.len().to_string();
        let limit = PAGE.to_string();
        let params = [
            ("Action", "GetImageTag"),
            ("RepoName", REPO),
            ("ImageName", image),
            ("Offset", offset.as_str()),
            ("Limit", limit.as_str()),
        ];
        let answer = post_form(
            stack.emulator.url(),
            &signed(&params, &stack.public_key, &stack.private_key),
        )
        .await;
        let body = answer.body;
        assert_eq!(body["RetCode"], 0, "GetImageTag {image}: {body}");
        let page = body["TagSet"]
            .as_array()
            .unwrap_or_else(|| panic!("GetImageTag {image}: no TagSet in {body}"));
        tags.extend(page.iter().map(|wire| Tag {
            name: wire["TagName"].as_str().expect("TagName").to_string(),
            update_time: match &wire["UpdateTime"] {
                serde_json::Value::String(text) => text.clone(),
                number => number.to_string(),
            },
            digest: wire["Digest"].as_str().map(str::to_string),
        }));
        let total = body["TotalCount"].as_u64().expect("TotalCount") as usize;
        if page.is_empty() || tags.len() >= total {
            sort_newest_first(&mut tags);
            return tags;
        }
    }
}

/// Panics unless every one of `names` is among `tags`.
pub fn includes(tags: &[Tag], names: &[String]) {
    let absent: Vec<&String> = names
        .iter()
        .filter(|name| !tags.iter().any(|t| &t.name == *name))
        .collect();
    assert!(absent.is_empty(), "pushed but not served: {absent:?}");
}

/// Whether `tw`'s status records exactly `truth` (newest first, status keeping all of
/// them): Ready, the tags, their count, the latest tag and the revision; else what
/// differs.
pub fn status_matches(tw: &TagWatch, truth: &[Tag]) -> Result<(), String> {
    let status = tw.status.as_ref().ok_or("no status")?;
    match ready(tw) {
        Some(c) if c.status == "True" => {}
        other => return Err(format!("Ready is {other:?}")),
    }
    let recorded: Vec<Tag> = status
        .tags
        .iter()
        .map(|t| Tag {
            name: t.name.clone(),
            update_time: t.update_time.clone(),
            digest: t.digest.clone(),
        })
        .collect();
    if recorded != truth {
        let names = |tags: &[Tag]| tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        return Err(format!(
            "status.tags {:?}, UHub {:?}",
            names(&recorded),
            names(truth)
        ));
    }
    let expected = (
        Some(truth.len() as i64),
        truth.first().map(|t| t.name.clone()),
        Some(revision(truth)),
    );
    let found = (
        status.tag_count,
        status.latest_tag.clone(),
        status.revision.clone(),
    );
    (found == expected)
        .then_some(())
        .ok_or_else(|| format!("(tagCount, latestTag, revision) {found:?}, UHub {expected:?}"))
}
