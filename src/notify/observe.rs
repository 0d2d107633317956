//! What the notifier reports for metrics: each attempt's result and latency, each
//! notification given up, and how many are pending. The operator's metrics registry
//! implements [`DeliveryObserver`]; [`NoObserver`] ignores everything.

use std::time::Duration;

use super::pending::{FailureReason, GiveUp};

/// The result of one delivery attempt, as a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttemptLabel {
    /// The target answered 2xx.
    Delivered,
    /// The target could not be reached, timed out or did not answer 2xx.
    Failed,
    /// The target's Secret is missing or unusable: nothing was sent.
    InvalidTarget,
}

impl AttemptLabel {
    /// The label value: `delivered`, `failed` or `invalid_target`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::InvalidTarget => "invalid_target",
        }
    }

    /// The label of an attempt that ended with `failure` (`None`: delivered).
    pub fn of(failure: Option<FailureReason>) -> Self {
        match failure {
            None => Self::Delivered,
            Some(FailureReason::DeliveryFailed) => Self::Failed,
            Some(FailureReason::InvalidTarget) => Self::InvalidTarget,
        }
    }
}

impl GiveUp {
    /// The label value: `expired`, `target_removed` or `overflow`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::TargetRemoved => "target_removed",
            Self::Overflow => "overflow",
        }
    }
}

/// Receives the notifier's measurements. Implementations must be cheap: they are
/// called from delivery tasks and reconciles.
pub trait DeliveryObserver: Send + Sync {
    /// One attempt ended after `latency` (reading the Secret and the HTTP exchange).
    fn attempt(&self, result: AttemptLabel, latency: Duration);
    /// A notification was given up.
    fn given_up(&self, why: GiveUp);
    /// Notifications pending now, over all TagWatches.
    fn pending(&self, total: usize);
}

/// Ignores every measurement.
pub struct NoObserver;

impl DeliveryObserver for NoObserver {
    fn attempt(&self, _: AttemptLabel, _: Duration) {}
    fn given_up(&self, _: GiveUp) {}
    fn pending(&self, _: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(AttemptLabel::of(None).as_str(), "delivered");
        assert_eq!(
            AttemptLabel::of(Some(FailureReason::DeliveryFailed)).as_str(),
            "failed"
        );
        assert_eq!(
            AttemptLabel::of(Some(FailureReason::InvalidTarget)).as_str(),
            "invalid_target"
        );
        let gave_up: Vec<_> = [GiveUp::Expired, GiveUp::TargetRemoved, GiveUp::Overflow]
            .map(GiveUp::as_str)
            .into();
        assert_eq!(gave_up, ["expired", "target_removed", "overflow"]);
    }
}
