//! Request counters of the UCloud API (`/`), served by `GET /_emulator/stats`: the total,
//! counts by `Action`, by `RetCode`, by HTTP status, and dropped connections. Admin
//! requests are not counted.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Distinct Action names kept; further unknown names are counted under [`OTHER_ACTIONS`].
const MAX_ACTIONS: usize = 256;
/// The key counting Action names beyond [`MAX_ACTIONS`].
pub const OTHER_ACTIONS: &str = "(other)";

/// A copy of the counters, as served by `GET /_emulator/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    /// Every request to `/`, whatever became of it.
    pub total: u64,
    /// Requests that named an `Action`, by that name.
    pub by_action: BTreeMap<String, u64>,
    /// Answers by `RetCode` (connections dropped by a fault have none).
    pub by_ret_code: BTreeMap<i64, u64>,
    /// Answers by HTTP status.
    pub by_http_status: BTreeMap<u16, u64>,
    /// Connections dropped by the `resetRate` fault.
    pub resets: u64,
}

/// What became of one request.
#[derive(Clone, Copy, Debug)]
pub enum Outcome {
    Answered { ret_code: i64, http_status: u16 },
    Reset,
}

/// The shared counters. Each request takes the lock once, briefly.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<StatsSnapshot>,
}

impl Stats {
    pub fn record(&self, action: Option<&str>, outcome: Outcome) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.total += 1;
        if let Some(action) = action {
            match s.by_action.get_mut(action) {
                Some(count) => *count += 1,
                None => {
                    let key = if s.by_action.len() < MAX_ACTIONS {
                        action
                    } else {
                        OTHER_ACTIONS
                    };
                    *s.by_action.entry(key.to_string()).or_default() += 1;
                }
            }
        }
        match outcome {
            Outcome::Answered {
                ret_code,
                http_status,
            } => {
                *s.by_ret_code.entry(ret_code).or_default() += 1;
                *s.by_http_status.entry(http_status).or_default() += 1;
            }
            Outcome::Reset => s.resets += 1,
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reset(&self) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = StatsSnapshot::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_action_ret_code_status_and_resets() {
        let stats = Stats::default();
        let ok = Outcome::Answered {
            ret_code: 0,
            http_status: 200,
        };
        stats.record(Some("GetImageTag"), ok);
        stats.record(Some("GetImageTag"), ok);
        stats.record(
            None,
            Outcome::Answered {
                ret_code: 160,
                http_status: 200,
            },
        );
        stats.record(Some("GetRepo"), Outcome::Reset);
        let s = stats.snapshot();
        assert_eq!(s.total, 4);
        assert_eq!(s.by_action["GetImageTag"], 2);
        assert_eq!(s.by_action["GetRepo"], 1);
        assert_eq!(s.by_ret_code, BTreeMap::from([(0, 2), (160, 1)]));
        assert_eq!(s.by_http_status, BTreeMap::from([(200, 3)]));
        assert_eq!(s.resets, 1);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["byRetCode"]["160"], 1);
        stats.reset();
        assert_eq!(stats.snapshot(), StatsSnapshot::default());
    }

    #[test]
    fn caps_distinct_action_names() {
        let stats = Stats::default();
        let ok = Outcome::Answered {
            ret_code: 161,
            http_status: 200,
        };
        for i in 0..MAX_ACTIONS + 10 {
            stats.record(Some(&format!("Action{i}")), ok);
        }
        let s = stats.snapshot();
        assert_eq!(s.by_action.len(), MAX_ACTIONS + 1);
        assert_eq!(s.by_action[OTHER_ACTIONS], 10);
    }
}
