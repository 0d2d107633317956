//! What the notifier reports for metrics: each attempt's result and latency, each
//! notification given up, and how many are pending. The operator's metrics registry
//! implements [`DeliveryObserver`]; [`NoObserver`] ignores everything.

use std::time::Duration;

use super::pending::{AttemptReason, GiveUp};

/// The result of one delivery attempt, as a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum AttemptLabel {
    /// The target answered 2xx.
    Delivered,
    /// The target could not be reached, timed out or did not answer 2xx.
    Failed,
    /// The target's Secret is missing or unusable: nothing was sent.
    InvalidTarget,
}

impl AttemptLabel {
    /// The label of an attempt that ended with `failure` (`None`: delivered).
    pub fn of(failure: Option<AttemptReason>) -> Self {
        match failure {
            None => Self::Delivered,
            Some(AttemptReason::DeliveryFailed) => Self::Failed,
            Some(AttemptReason::InvalidTarget) => Self::InvalidTarget,
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
    use strum::VariantArray;

    use super::*;

    #[test]
    fn labels() {
        let label = |l: AttemptLabel| -> &str { l.into() };
        assert_eq!(label(AttemptLabel::of(None)), "delivered");
        assert_eq!(
            label(AttemptLabel::of(Some(AttemptReason::DeliveryFailed))),
            "failed"
        );
        assert_eq!(
            label(AttemptLabel::of(Some(AttemptReason::InvalidTarget))),
            "invalid_target"
        );
        let gave_up: Vec<&str> = GiveUp::VARIANTS.iter().map(|&g| g.into()).collect();
        assert_eq!(gave_up, ["expired", "target_removed", "overflow"]);
    }
}
