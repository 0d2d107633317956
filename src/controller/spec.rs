//! What a TagWatch's spec asks for, compiled for one poll: its [`Timing`] (interval and
//! per-poll timeout) and its tag [`Selection`] (filter and policy). The CRD's schema
//! rejects most bad specs at admission; what only compiling can tell is a [`SpecError`]
//! whose message names the field.

use std::time::Duration;

use tags::filter::{FilterError, TagFilter};
use tags::observe::Selection;
use tags::policy::{CompiledPolicy, Order, Policy, PolicyError};

use crate::api::v1alpha1::{PolicySpec, SortOrder, TagWatchSpec};

/// The shortest interval allowed (the CRD enforces it too).
pub const MIN_INTERVAL: Duration = Duration::from_secs(10);
/// The default per-poll timeout cap.
pub const MAX_DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A spec that cannot work as written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// `spec.interval` or `spec.timeout` is not a duration.
    #[error("spec.{field} {text:?} is not a duration like 30s, 5m or 1h30m: {reason}")]
    NotADuration {
        /// `interval` or `timeout`.
        field: &'static str,
        /// The value as written.
        text: String,
        /// Why it does not parse.
        reason: String,
    },
    /// `spec.interval` is below [`MIN_INTERVAL`].
    #[error("spec.interval {0:?} is shorter than the minimum of 10s")]
    IntervalTooShort(Duration),
    /// `spec.timeout` is zero or longer than the interval.
    #[error("spec.timeout {0:?} must be between 1ms and the interval")]
    TimeoutOutOfRange(Duration),
    /// A filter pattern does not compile.
    #[error("spec.filter: {0}")]
    Filter(#[from] FilterError),
    /// The policy does not compile.
    #[error("spec.policy: {0}")]
    Policy(#[from] PolicyError),
}

/// Poll interval and per-poll timeout of one TagWatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Time between polls.
    pub interval: Duration,
    /// How long one poll may take.
    pub timeout: Duration,
}

impl Timing {
    /// Reads `spec.interval` and `spec.timeout`.
    pub fn from_spec(interval: &str, timeout: Option<&str>) -> Result<Self, SpecError> {
        let interval = parse_duration("interval", interval)?;
        if interval < MIN_INTERVAL {
            return Err(SpecError::IntervalTooShort(interval));
        }
        let timeout = match timeout {
            Some(text) => parse_duration("timeout", text)?,
            None => interval.min(MAX_DEFAULT_TIMEOUT),
        };
        if timeout.is_zero() || timeout > interval {
            return Err(SpecError::TimeoutOutOfRange(timeout));
        }
        Ok(Self { interval, timeout })
    }
}

fn parse_duration(field: &'static str, text: &str) -> Result<Duration, SpecError> {
    humantime::parse_duration(text).map_err(|e| SpecError::NotADuration {
        field,
        text: text.to_string(),
        reason: e.to_string(),
    })
}

/// Compiles `spec.filter` and `spec.policy`.
pub fn selection(spec: &TagWatchSpec) -> Result<Selection, SpecError> {
    let filter = spec.filter.as_ref();
    let filter = TagFilter::new(
        filter.and_then(|f| f.include.as_deref()),
        filter.map(|f| f.exclude.as_slice()).unwrap_or_default(),
    )?
    .with_signatures(filter.is_some_and(|f| f.include_signatures));
    let policy = CompiledPolicy::new(&policy(spec.policy.as_ref()))?;
    Ok(Selection { filter, policy })
}

fn policy(spec: Option<&PolicySpec>) -> Policy {
    let order = |o: SortOrder| match o {
        SortOrder::Asc => Order::Asc,
        SortOrder::Desc => Order::Desc,
    };
    match spec {
        Some(PolicySpec {
            semver: Some(s), ..
        }) => Policy::Semver {
            range: s.range.clone(),
        },
        Some(PolicySpec {
            alphabetical: Some(a),
            ..
        }) => Policy::Alphabetical {
            order: order(a.order),
        },
        Some(PolicySpec {
            numerical: Some(n), ..
        }) => Policy::Numerical {
            order: order(n.order),
        },
        _ => Policy::Newest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_defaults_and_errors() {
        let t = Timing::from_spec("5m", None).unwrap();
        assert_eq!(
            (t.interval, t.timeout),
            (Duration::from_secs(300), Duration::from_secs(60))
        );
        let t = Timing::from_spec("1h30m", Some("2m")).unwrap();
        assert_eq!(
            (t.interval, t.timeout),
            (Duration::from_secs(5400), Duration::from_secs(120))
        );
        assert_eq!(
            Timing::from_spec("20s", None).unwrap().timeout,
            Duration::from_secs(20)
        );
        let message = |e: SpecError| e.to_string();
        assert!(
            message(Timing::from_spec("abc", None).unwrap_err()).contains("spec.interval \"abc\"")
        );
        assert!(message(Timing::from_spec("1s", None).unwrap_err()).contains("minimum of 10s"));
        assert!(message(Timing::from_spec("1m", Some("2m")).unwrap_err()).contains("spec.timeout"));
    }

    #[test]
    fn selection_errors_name_the_field() {
        let spec = |extra: serde_json::Value| -> TagWatchSpec {
            let mut spec = serde_json::json!({"repoName": "r", "imageName": "i"});
            spec.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value(spec).unwrap()
        };
        let bad_filter = selection(&spec(serde_json::json!({"filter": {"include": "("}})));
        assert!(
            bad_filter
                .unwrap_err()
                .to_string()
                .starts_with("spec.filter: invalid include pattern \"(\"")
        );
        let bad_range = selection(&spec(
            serde_json::json!({"policy": {"semver": {"range": "not a range"}}}),
        ));
        assert!(
            bad_range
                .unwrap_err()
                .to_string()
                .starts_with("spec.policy: ")
        );
        assert!(selection(&spec(serde_json::json!({}))).is_ok());
    }
}
