//! The readable text every chat format is written from, e.g.
//! `team/web: new tag v1.3.0 (latest v1.3.0)`. Lists of tags end with "... and N more"
//! once they reach the byte limit the format gives (each format picks one that keeps its
//! whole message within the service's documented size limit). No link: nothing in it
//! points anywhere, private or not.

use tags::announce::listing;

use super::json::Payload;
use crate::api::v1alpha1::NotifyEvent;

/// A notification as people read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// A short title: `team/web: new tag`, `team/web: 3 new tags`,
    /// `team/web: latest tag changed`.
    pub title: String,
    /// The one line that says it all: `team/web: new tag v1.3.0 (latest v1.3.0)`.
    pub line: String,
    /// Where it comes from: `TagWatch team/web, 2026-11-27T02:00:05Z, delivery <id>`.
    pub context: String,
}

/// The message of `payload`, its tag list within `list_limit` bytes.
pub fn message(payload: &Payload, list_limit: usize) -> Message {
    let subject = payload.subject();
    let total = payload.tag_total();
    let names: Vec<&str> = payload.tags.iter().map(|t| t.name.as_str()).collect();
    let latest = match &payload.latest_tag {
        Some(tag) => format!("latest {tag}"),
        None => "no latest tag".to_string(),
    };
    let (title, what) = match payload.type_ {
        NotifyEvent::LatestTagChanged => {
            let previous = payload.previous_latest_tag.clone().flatten();
            let shown = |t: Option<&str>| t.unwrap_or("(none)").to_string();
            let what = format!(
                "latest tag {} → {}",
                shown(previous.as_deref()),
                shown(payload.latest_tag.as_deref())
            );
            ("latest tag changed".to_string(), what)
        }
        kind => {
            let (one, many) = match kind {
                NotifyEvent::NewTag => (("new tag", ""), "new tags"),
                NotifyEvent::TagUpdated => (("tag", " updated"), "tags updated"),
                _ => (("tag", " removed"), "tags removed"),
            };
            if let ([name], 1) = (names.as_slice(), total) {
                let what = format!("{} {name}{} ({latest})", one.0, one.1);
                (format!("{}{}", one.0, one.1), what)
            } else {
                let head = format!("{total} {many}:");
                let list = listing(&head, &names, payload.tags_omitted, list_limit);
                (format!("{total} {many}"), format!("{list} ({latest})"))
            }
        }
    };
    Message {
        title: format!("{subject}: {title}"),
        line: format!("{subject}: {what}"),
        context: format!(
            "TagWatch {}/{}, {}, delivery {}",
            payload.tag_watch.namespace,
            payload.tag_watch.name,
            payload.timestamp,
            payload.delivery_id
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::format::tests::payload;

    #[test]
    fn one_tag_reads_as_a_sentence() {
        let m = message(&payload(NotifyEvent::NewTag, &["v1.3.0"], 0), 100);
        assert_eq!(m.line, "team/web: new tag v1.3.0 (latest v1.3.0)");
        assert_eq!(m.title, "team/web: new tag");
        assert_eq!(
            m.context,
            "TagWatch team/web, 2026-11-27T02:00:05Z, delivery 0b6f3f4e-5f8a-4d8e-9a53-2f1c3a7c9e10"
        );
        let m = message(&payload(NotifyEvent::TagUpdated, &["v1.3.0"], 0), 100);
        assert_eq!(m.line, "team/web: tag v1.3.0 updated (latest v1.3.0)");
        let mut removed = payload(NotifyEvent::TagRemoved, &["v1.3.0"], 0);
        removed.latest_tag = None;
        assert_eq!(
            message(&removed, 100).line,
            "team/web: tag v1.3.0 removed (no latest tag)"
        );
    }

    #[test]
    fn lists_end_with_how_many_more_within_the_limit() {
        let m = message(&payload(NotifyEvent::NewTag, &["a1", "b2", "c3"], 0), 100);
        assert_eq!(m.line, "team/web: 3 new tags: a1, b2, c3 (latest v1.3.0)");
        assert_eq!(m.title, "team/web: 3 new tags");
        let names = ["alpha1", "bravo2", "charlie3"];
        let m = message(&payload(NotifyEvent::TagRemoved, &names, 0), 39);
        assert_eq!(
            m.line,
            "team/web: 3 tags removed: alpha1 ... and 2 more (latest v1.3.0)"
        );
        // Tags not in the body (tagsOmitted) are counted.
        let m = message(&payload(NotifyEvent::NewTag, &["a1", "b2"], 60), 100);
        assert_eq!(
            m.line,
            "team/web: 62 new tags: a1, b2 ... and 60 more (latest v1.3.0)"
        );
    }

    #[test]
    fn latest_changes_show_before_and_after() {
        let mut p = payload(NotifyEvent::LatestTagChanged, &["v1.3.0"], 0);
        p.previous_latest_tag = Some(Some("v1.2.0".into()));
        let m = message(&p, 100);
        assert_eq!(m.line, "team/web: latest tag v1.2.0 → v1.3.0");
        assert_eq!(m.title, "team/web: latest tag changed");
        p.previous_latest_tag = Some(None);
        assert_eq!(
            message(&p, 100).line,
            "team/web: latest tag (none) → v1.3.0"
        );
    }
}
