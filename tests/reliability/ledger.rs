//! Tallies a TagWatch's NewTag events against the tags pushed to its image: pushed tags
//! no event names (missing), tags named by more than one event (duplicated), and tags
//! named that were never pushed (unexpected).
//!
//! A NewTag note names one tag (`new tag v2 (updateTime 2026-11-27 10:00:00)`) or lists
//! several (`7 new tags: a, b, c, d, e, f, g`); a list too long for one note ends with
//! `... and N more`, and those N tags cannot be told apart: they are counted as unnamed.
#![allow(dead_code)]

use std::collections::BTreeMap;

/// The tags one NewTag note names, and how many more it counts without naming them.
#[derive(Debug, PartialEq, Eq)]
pub struct Announced {
    pub names: Vec<String>,
    pub unnamed: usize,
}

/// Reads a NewTag note; the error quotes a note of neither form.
pub fn announced(note: &str) -> Result<Announced, String> {
    if let Some(rest) = note.strip_prefix("new tag ") {
        let (name, _) = rest
            .split_once(" (updateTime ")
            .ok_or_else(|| format!("NewTag note without updateTime: {note:?}"))?;
        return Ok(Announced {
            names: vec![name.to_string()],
            unnamed: 0,
        });
    }
    let (count, list) = note
        .split_once(" new tags: ")
        .ok_or_else(|| format!("NewTag note of an unknown form: {note:?}"))?;
    let count: usize = count
        .parse()
        .map_err(|_| format!("NewTag listing without a count: {note:?}"))?;
    let (list, unnamed) = match list.rsplit_once(" ... and ") {
        Some((list, more)) => {
            let more = more
                .strip_suffix(" more")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("NewTag listing with a broken tail: {note:?}"))?;
            (list, more)
        }
        None => (list, 0),
    };
    let names: Vec<String> = list.split(", ").map(str::to_string).collect();
    if names.len() + unnamed != count {
        return Err(format!(
            "NewTag listing counts {count} but names {} and leaves {unnamed} unnamed: {note:?}",
            names.len()
        ));
    }
    Ok(Announced { names, unnamed })
}

/// How one TagWatch's NewTag events compare with the tags pushed to its image.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Tags pushed, each of which should be named by exactly one event.
    pub expected: usize,
    /// Pushed tags no event names.
    pub missing: Vec<String>,
    /// A tag once for each event naming it beyond the first.
    pub duplicated: Vec<String>,
    /// Tags named that were not pushed.
    pub unexpected: Vec<String>,
    /// Tags counted by listings without being named.
    pub unnamed: usize,
}

impl Tally {
    /// Compares the NewTag `notes` with the tags `pushed`.
    pub fn of(pushed: &[String], notes: &[String]) -> Result<Tally, String> {
        let mut times_named: BTreeMap<&str, usize> =
            pushed.iter().map(|name| (name.as_str(), 0)).collect();
        let mut tally = Tally {
            expected: pushed.len(),
            ..Tally::default()
        };
        let announcements: Vec<Announced> = notes
            .iter()
            .map(|n| announced(n))
            .collect::<Result<_, _>>()?;
        for announcement in &announcements {
            tally.unnamed += announcement.unnamed;
            for name in &announcement.names {
                match times_named.get_mut(name.as_str()) {
                    Some(times) => *times += 1,
                    None => tally.unexpected.push(name.clone()),
                }
            }
        }
        for (name, times) in times_named {
            match times {
                0 => tally.missing.push(name.to_string()),
                n => tally
                    .duplicated
                    .extend(std::iter::repeat_n(name.to_string(), n - 1)),
            }
        }
        Ok(tally)
    }

    /// Whether every pushed tag was named by exactly one event, and nothing else was.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.duplicated.is_empty()
            && self.unexpected.is_empty()
            && self.unnamed == 0
    }

    /// Adds `other`'s counts and names to this one's.
    pub fn absorb(&mut self, other: Tally) {
        self.expected += other.expected;
        self.missing.extend(other.missing);
        self.duplicated.extend(other.duplicated);
        self.unexpected.extend(other.unexpected);
        self.unnamed += other.unnamed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn reads_both_note_forms() {
        assert_eq!(
            announced("new tag r12 (updateTime 2026-11-27 10:00:00)").unwrap(),
            Announced {
                names: strings(&["r12"]),
                unnamed: 0
            }
        );
        assert_eq!(
            announced("6 new tags: a, b, c, d, e, f").unwrap(),
            Announced {
                names: strings(&["a", "b", "c", "d", "e", "f"]),
                unnamed: 0
            }
        );
        assert_eq!(
            announced("9 new tags: a, b, c ... and 6 more").unwrap(),
            Announced {
                names: strings(&["a", "b", "c"]),
                unnamed: 6
            }
        );
    }

    #[test]
    fn rejects_notes_it_cannot_account_for() {
        for note in [
            "tag r1 updated: digest a -> b",
            "new tag r1",
            "7 new tags: a, b",
            "x new tags: a",
            "9 new tags: a ... and many more",
        ] {
            assert!(announced(note).is_err(), "{note}");
        }
    }

    #[test]
    fn counts_missing_duplicated_and_unexpected_tags() {
        let pushed = strings(&["r1", "r2", "r3", "r4"]);
        let notes = strings(&[
            "new tag r1 (updateTime 1)",
            "new tag r1 (updateTime 1)",
            "6 new tags: r1, r2, r9, x, y, z",
        ]);
        let tally = Tally::of(&pushed, &notes).unwrap();
        assert_eq!(tally.expected, 4);
        assert_eq!(tally.missing, strings(&["r3", "r4"]));
        assert_eq!(tally.duplicated, strings(&["r1", "r1"]));
        assert_eq!(tally.unexpected, strings(&["r9", "x", "y", "z"]));
        assert_eq!(tally.unnamed, 0);
        assert!(!tally.is_clean());
    }

    #[test]
    fn one_event_per_pushed_tag_is_a_clean_tally() {
        let pushed = strings(&["r1", "r2"]);
        let notes = strings(&["new tag r2 (updateTime 2)", "new tag r1 (updateTime 1)"]);
        let tally = Tally::of(&pushed, &notes).unwrap();
        assert!(tally.is_clean());
        assert_eq!(
            tally,
            Tally {
                expected: 2,
                ..Tally::default()
            }
        );
    }
}
