//! Rendering of tag listings for the terminal: aligned table or one JSON object.

use clap::ValueEnum;
use serde::Serialize;

use tags::Tag;
use uhub::TagListing;

/// Output format of `tagwatch tags`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns TAG, UPDATED, DIGEST.
    #[default]
    Table,
    /// One JSON object: `{"tagCount": N, "tags": [{"name", "updateTime", "digest"?}]}`.
    Json,
}

#[derive(Serialize)]
struct JsonListing<'a> {
    #[serde(rename = "tagCount")]
    tag_count: u64,
    tags: &'a [Tag],
}

/// Renders `listing` in `format`, ending with a newline.
pub fn render(listing: &TagListing, format: OutputFormat) -> String {
    match format {
        OutputFormat::Table => render_table(&listing.tags),
        OutputFormat::Json => render_json(listing),
    }
}

/// `{"tagCount": <TotalCount>, "tags": [...]}` on one line; `digest` omitted when absent.
pub fn render_json(listing: &TagListing) -> String {
    let json = JsonListing {
        tag_count: listing.total_count,
        tags: &listing.tags,
    };
    let mut text = serde_json::to_string(&json).expect("tags always serialize");
    text.push('\n');
    text
}

/// Columns TAG, UPDATED, DIGEST separated by two spaces, `-` for an absent value.
/// Control characters in server data are escaped so they cannot drive the terminal.
pub fn render_table(tags: &[Tag]) -> String {
    let rows: Vec<Vec<String>> =
        std::iter::once(["TAG", "UPDATED", "DIGEST"].map(String::from).to_vec())
            .chain(tags.iter().map(|t| {
                vec![
                    cell(&t.name),
                    cell(&t.update_time),
                    cell(t.digest.as_deref().unwrap_or_default()),
                ]
            }))
            .collect();
    aligned(&rows, 2)
}

/// `rows` as lines of left-aligned columns `gap` spaces apart, each line ending with a
/// newline and no trailing spaces. Cells must already be escaped ([`cell`]).
pub fn aligned(rows: &[Vec<String>], gap: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|col| {
            rows.iter()
                .filter_map(|r| r.get(col))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (col, value) in row.iter().enumerate() {
            if col > 0 {
                line.push_str(&" ".repeat(gap));
            }
            line.push_str(value);
            let pad = widths[col] - value.chars().count();
            line.push_str(&" ".repeat(pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `value` fit for a table cell: `-` when empty, control characters escaped so that
/// server data cannot drive the terminal.
pub fn cell(value: &str) -> String {
    if value.is_empty() {
        return "-".to_string();
    }
    value
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, time: &str, digest: Option<&str>) -> Tag {
        let tag = Tag::new(name, time);
        match digest {
            Some(digest) => tag.with_digest(digest),
            None => tag,
        }
    }

    fn listing(tags: Vec<Tag>, total_count: u64) -> TagListing {
        TagListing {
            tags,
            total_count,
            pages: 1,
            requests: 1,
            consistent: true,
            order: uhub::Order::NewestFirst,
            newest_page: None,
        }
    }

    #[test]
    fn json_is_one_object_with_tag_count_and_optional_digest() {
        let text = render_json(&listing(
            vec![
                tag("v2", "1795773600", Some("sha256:ab")),
                tag("v1", "2026-11-01 08:00:00", None),
            ],
            7,
        ));
        assert_eq!(
            text,
            "{\"tagCount\":7,\"tags\":[\
             {\"name\":\"v2\",\"updateTime\":\"1795773600\",\"digest\":\"sha256:ab\"},\
             {\"name\":\"v1\",\"updateTime\":\"2026-11-01 08:00:00\"}]}\n"
        );
        assert_eq!(
            render_json(&listing(vec![], 0)),
            "{\"tagCount\":0,\"tags\":[]}\n"
        );
    }

    #[test]
    fn table_columns_are_aligned() {
        let text = render_table(&[
            tag("v10.0.0-rc.1", "2026-11-27 10:00:00", Some("sha256:ab")),
            tag("latest", "1795773600", None),
            tag("x", "", Some("sha256:cd")),
        ]);
        assert_eq!(
            text,
            "TAG           UPDATED              DIGEST\n\
             v10.0.0-rc.1  2026-11-27 10:00:00  sha256:ab\n\
             latest        1795773600           -\n\
             x             -                    sha256:cd\n"
        );
        assert_eq!(render_table(&[]), "TAG  UPDATED  DIGEST\n");
    }

    #[test]
    fn table_escapes_control_characters() {
        let text = render_table(&[tag("evil\u{1b}[2J", "t\n2", None)]);
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("evil\\u{1b}[2J  t\\n2"), "{text}");
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn aligned_pads_every_column_but_the_last() {
        let rows = vec![
            vec!["NAME".to_string(), "READY".into(), "MESSAGE".into()],
            vec!["a-long-name".to_string(), "True".into(), "ok".into()],
            vec!["b".to_string(), "-".into(), String::new()],
        ];
        assert_eq!(
            aligned(&rows, 3),
            "NAME          READY   MESSAGE\n\
             a-long-name   True    ok\n\
             b             -\n"
        );
        assert_eq!(aligned(&[], 3), "");
    }
}
