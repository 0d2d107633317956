//! Parsing of UHub's `UpdateTime` for ordering.
//!
//! UCloud does not document the format of `UpdateTime`, so it is kept as received and
//! parsed only to order tags. Accepted forms:
//!
//! - RFC 3339, e.g. `2026-11-27T10:00:00Z` or `2026-11-27T18:00:00+08:00`;
//! - a naive date-time `YYYY-MM-DD HH:MM:SS` (also with a `T` separator). It carries no
//!   zone, so it is read as China Standard Time (UTC+08:00, no daylight saving), the zone
//!   UCloud's console and APIs use. Only the order of tags depends on this choice, and
//!   only when one image mixes naive and zoned times;
//! - Unix time as a decimal integer: seconds, or milliseconds when the value is 10^11 or
//!   more (10^11 seconds is beyond the year 5000).
//!
//! Anything else is [`UpdateTime::Unparsed`] and sorts older than every parsed time,
//! ordered by its raw text.

use std::cmp::Ordering;

/// The offset assumed for naive date-times: UTC+08:00.
pub const NAIVE_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

/// Values at or above this are Unix milliseconds rather than seconds.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// A parsed `UpdateTime`. Orders oldest to newest; unparsed values are older than any
/// parsed value and compare by their text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateTime {
    /// Text that is none of the known formats.
    Unparsed(String),
    /// Milliseconds since the Unix epoch.
    UnixMillis(i64),
}

impl UpdateTime {
    /// Parses `raw` as described in the module documentation.
    pub fn parse(raw: &str) -> Self {
        let text = raw.trim();
        parse_unix(text)
            .or_else(|| parse_naive_fast(text))
            .or_else(|| parse_rfc3339(text))
            .or_else(|| parse_naive(text))
            .map(UpdateTime::UnixMillis)
            .unwrap_or_else(|| UpdateTime::Unparsed(raw.to_string()))
    }

    /// Milliseconds since the Unix epoch, when the value parsed.
    pub fn unix_millis(&self) -> Option<i64> {
        match self {
            UpdateTime::UnixMillis(ms) => Some(*ms),
            UpdateTime::Unparsed(_) => None,
        }
    }
}

impl Ord for UpdateTime {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (UpdateTime::UnixMillis(a), UpdateTime::UnixMillis(b)) => a.cmp(b),
            (UpdateTime::Unparsed(a), UpdateTime::Unparsed(b)) => a.cmp(b),
            (UpdateTime::Unparsed(_), UpdateTime::UnixMillis(_)) => Ordering::Less,
            (UpdateTime::UnixMillis(_), UpdateTime::Unparsed(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for UpdateTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn parse_unix(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    if value >= MILLIS_THRESHOLD {
        Some(value)
    } else {
        value.checked_mul(1000)
    }
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    let ts: jiff::Timestamp = text.parse().ok()?;
    Some(ts.as_millisecond())
}

fn parse_naive(text: &str) -> Option<i64> {
    let dt: jiff::civil::DateTime = text.parse().ok()?;
    naive_millis(dt)
}

fn naive_millis(dt: jiff::civil::DateTime) -> Option<i64> {
    let offset = jiff::tz::Offset::from_seconds(NAIVE_UTC_OFFSET_SECONDS).ok()?;
    let ts = offset.to_timestamp(dt).ok()?;
    Some(ts.as_millisecond())
}

/// UHub's usual form, exactly `YYYY-MM-DD HH:MM:SS`, read field by field: a poll orders
/// every tag by it, and the general parsers above build an error value for each format
/// they try in vain. Anything else (or an impossible date) is left to them.
fn parse_naive_fast(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':';
    if !shape_ok {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i16> {
        b[range].iter().try_fold(0i16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i16::from(d - b'0'))
        })
    };
    let dt = jiff::civil::DateTime::new(
        number(0..4)?,
        number(5..7)? as i8,
        number(8..10)? as i8,
        number(11..13)? as i8,
        number(14..16)? as i8,
        number(17..19)? as i8,
        0,
    )
    .ok()?;
    naive_millis(dt)
}

/// Renders `unix_seconds` as a naive `YYYY-MM-DD HH:MM:SS` in UTC+08:00, the inverse of
/// the naive parse above.
pub fn format_naive(unix_seconds: i64) -> String {
    let offset = jiff::tz::Offset::from_seconds(NAIVE_UTC_OFFSET_SECONDS).expect("valid offset");
    match jiff::Timestamp::from_second(unix_seconds) {
        Ok(ts) => offset
            .to_datetime(ts)
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => unix_seconds.to_string(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_fast_naive_path_agrees_with_the_general_parser() {
        for text in [
            "2026-11-27 10:00:00",
            "1970-01-01 08:00:00",
            "2024-02-29 23:59:59",
            "9999-12-30 10:00:00",
            "0001-01-01 00:00:00",
        ] {
            assert_eq!(parse_naive_fast(text), parse_naive(text), "{text}");
            assert!(parse_naive_fast(text).is_some(), "{text}");
        }
        for text in [
            "2026-02-30 10:00:00",
            "2026-13-01 10:00:00",
            "2026-11-27 24:00:00",
            "2026-11-27T10:00:00",
            "2026-11-27 10:00:0x",
            "+026-11-27 10:00:00",
            "2026-11-27 10:00:00Z",
        ] {
            assert_eq!(parse_naive_fast(text), None, "{text}");
        }
        assert_eq!(
            UpdateTime::parse("2026-02-30 10:00:00"),
            UpdateTime::Unparsed("2026-02-30 10:00:00".into())
        );
    }
    use super::*;

    const NOV_27_10H_UTC_MS: i64 = 1_795_773_600_000;

    #[test]
    fn parses_every_known_format_to_the_same_instant() {
        for raw in [
            "2026-11-27T10:00:00Z",
            "2026-11-27T18:00:00+08:00",
            "2026-11-27 18:00:00",
            "2026-11-27T18:00:00",
            "1795773600",
            "1795773600000",
            " 1795773600 ",
        ] {
            assert_eq!(
                UpdateTime::parse(raw).unix_millis(),
                Some(NOV_27_10H_UTC_MS),
                "{raw}"
            );
        }
    }

    #[test]
    fn unparsable_text_is_kept_and_sorts_oldest() {
        for raw in [
            "",
            "yesterday",
            "-5",
            "1.5",
            "2026-13-01 00:00:00",
            "JuCcdSiy",
        ] {
            let parsed = UpdateTime::parse(raw);
            assert_eq!(parsed, UpdateTime::Unparsed(raw.to_string()));
            assert!(parsed < UpdateTime::UnixMillis(i64::MIN));
        }
        assert!(UpdateTime::parse("b") > UpdateTime::parse("a"));
    }

    #[test]
    fn millis_threshold() {
        assert_eq!(
            UpdateTime::parse("99999999999").unix_millis(),
            Some(99_999_999_999_000)
        );
        assert_eq!(
            UpdateTime::parse("100000000000").unix_millis(),
            Some(100_000_000_000)
        );
        assert_eq!(
            UpdateTime::parse("99999999999999999999"),
            UpdateTime::Unparsed("99999999999999999999".into())
        );
    }

    #[test]
    fn format_naive_round_trips() {
        let text = format_naive(NOV_27_10H_UTC_MS / 1000);
        assert_eq!(text, "2026-11-27 18:00:00");
        assert_eq!(
            UpdateTime::parse(&text).unix_millis(),
            Some(NOV_27_10H_UTC_MS)
        );
    }
}
