//! Leader election: only the process holding the [`lease`](super::lease) runs the
//! controllers, so several replicas can run and only one polls.
//!
//! A standby tries to take the lease every retry period and is ready meanwhile. The
//! leader renews it every retry period; when a renewal has not succeeded for the renew
//! deadline (shorter than the lease duration, so the leader gives up before anyone else
//! may take over), or the lease turns out to be held by another identity, leadership is
//! lost: the controllers are dropped at once (no poll, event or status write follows)
//! and the process exits with an error, so that its restart rejoins as a standby with
//! fresh state. On shutdown the leader stops its controllers (running polls finish) and
//! then releases the lease, so that a standby takes over within a retry period.

use std::time::Duration;

use tokio::time::Instant;

use super::endpoints::{Probes, Role};
use super::lease::{Attempt, LeaseLock};

/// Timing and identity of the election.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub lease_name: String,
    /// This process's identity, unique among the candidates.
    pub identity: String,
    /// How long a lease lasts without renewal before another candidate may take it.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up leadership.
    pub renew_deadline: Duration,
    /// Time between attempts to take or renew the lease.
    pub retry_period: Duration,
}

impl ElectionConfig {
    /// Checks the timings as client-go does: retry period < renew deadline < lease
    /// duration; the message names the flags.
    pub fn validate(&self) -> Result<(), TimingError> {
        if self.lease_duration <= self.renew_deadline {
            return Err(TimingError::LeaseNotLongerThanRenewDeadline(
                self.lease_duration.into(),
                self.renew_deadline.into(),
            ));
        }
        if self.renew_deadline <= self.retry_period {
            return Err(TimingError::RenewDeadlineNotLongerThanRetryPeriod(
                self.renew_deadline.into(),
                self.retry_period.into(),
            ));
        }
        if self.retry_period.is_zero() {
            return Err(TimingError::RetryPeriodZero);
        }
        Ok(())
    }
}

/// Election timings that do not nest; the message names the flags.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimingError {
    /// The lease would expire before the leader gives up renewing it.
    #[error("--lease-duration ({0}) must be longer than --renew-deadline ({1})")]
    LeaseNotLongerThanRenewDeadline(humantime::Duration, humantime::Duration),
    /// The leader would give up before its next renewal attempt.
    #[error("--renew-deadline ({0}) must be longer than --retry-period ({1})")]
    RenewDeadlineNotLongerThanRetryPeriod(humantime::Duration, humantime::Duration),
    /// Attempts would never pause.
    #[error("--retry-period must be positive")]
    RetryPeriodZero,
}

/// Why leadership was lost.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Lost {
    /// No renewal succeeded within the renew deadline.
    #[error("the lease could not be renewed within {0}")]
    NotRenewed(humantime::Duration),
    /// Another identity holds the lease.
    #[error("the lease is held by {0}")]
    HeldBy(String),
}

/// An attempt on the lease that did not get an answer.
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    /// The API server refused or failed the request.
    #[error(transparent)]
    Api(#[from] kube::Error),
    /// The API server did not answer in time.
    #[error("no answer from the API server within {0}")]
    NoAnswer(humantime::Duration),
}

/// How a leader-elected run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Shutdown was requested (as leader: after the controllers stopped and the lease
    /// was released).
    Shutdown,
    /// Leadership was lost.
    LeadershipLost(Lost),
}

/// One candidate in the election.
pub struct LeaderElector {
    lock: LeaseLock,
    config: ElectionConfig,
}

impl LeaderElector {
    /// A candidate for `config`'s Lease.
    pub fn new(client: kube::Client, config: ElectionConfig) -> Self {
        let lock = LeaseLock::new(
            client,
            &config.namespace,
            &config.lease_name,
            &config.identity,
            config.lease_duration,
        );
        Self { lock, config }
    }

    /// Returns once this process holds the lease; sets `probes` to standby as soon as
    /// the lease could be read.
    pub async fn acquire(&mut self, probes: &Probes) {
        let mut last_holder: Option<String> = None;
        loop {
            match self.attempt(self.config.renew_deadline).await {
                Ok(Attempt::Held) => return,
                Ok(Attempt::HeldBy(holder)) => {
                    probes.set_role(Role::Standby);
                    if last_holder.as_ref() != Some(&holder) {
                        tracing::info!(%holder, lease = %self.config.lease_name, "standing by: another process holds the lease");
                        last_holder = Some(holder);
                    }
                }
                Ok(Attempt::Conflict) => probes.set_role(Role::Standby),
                Err(error) => {
                    tracing::warn!(%error, lease = %self.config.lease_name, "cannot take the lease")
                }
            }
            tokio::time::sleep(jittered(self.config.retry_period)).await;
        }
    }

    /// Renews the lease every retry period until leadership is lost; returns why.
    pub async fn hold(&mut self) -> Lost {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            let deadline = renewed + self.config.renew_deadline;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Lost::NotRenewed(self.config.renew_deadline.into());
                }
                match self.attempt(left).await {
                    Ok(Attempt::Held) => {
                        renewed = Instant::now();
                        break;
                    }
                    Ok(Attempt::HeldBy(holder)) => {
                        return Lost::HeldBy(holder);
                    }
                    Ok(Attempt::Conflict) => {
                        tracing::warn!("renewing the lease: it was written by another process")
                    }
                    Err(error) => tracing::warn!(%error, "renewing the lease failed"),
                }
                let left = deadline.saturating_duration_since(Instant::now());
                tokio::time::sleep(self.config.retry_period.min(left)).await;
            }
        }
    }

    /// Releases the lease if this process holds it, within the renew deadline.
    pub async fn release(&mut self) {
        match tokio::time::timeout(self.config.renew_deadline, self.lock.release()).await {
            Ok(Ok(())) => tracing::info!(lease = %self.config.lease_name, "released the lease"),
            Ok(Err(error)) => tracing::warn!(%error, "releasing the lease failed"),
            Err(_) => tracing::warn!("releasing the lease timed out"),
        }
    }

    async fn attempt(&mut self, timeout: Duration) -> Result<Attempt, AttemptError> {
        match tokio::time::timeout(timeout, self.lock.try_acquire_or_renew()).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(AttemptError::NoAnswer(timeout.into())),
        }
    }
}

/// Waits for leadership, then runs `controllers` while renewing the lease.
///
/// `shutdown` ends the wait, or (as leader) must make `controllers` return; the lease
/// is then released. When leadership is lost, `controllers` is dropped at once.
pub async fn run_elected<C>(
    mut elector: LeaderElector,
    probes: &Probes,
    shutdown: impl Future<Output = ()>,
    controllers: impl FnOnce() -> C,
) -> Ended
where
    C: Future<Output = ()>,
{
    tokio::select! {
        () = shutdown => return Ended::Shutdown,
        () = elector.acquire(probes) => {}
    }
    tracing::info!(identity = %elector.lock.identity(), lease = %elector.config.lease_name, "became the leader: starting the controllers");
    probes.set_role(Role::Leading);
    let ended = tokio::select! {
        () = controllers() => Ended::Shutdown,
        lost = elector.hold() => Ended::LeadershipLost(lost),
    };
    probes.set_role(Role::Standby);
    if ended == Ended::Shutdown {
        elector.release().await;
    }
    ended
}

/// `period` stretched by up to 20%, so that candidates do not retry in lockstep.
fn jittered(period: Duration) -> Duration {
    uhub::backoff::stretch(period, 0.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lease: u64, renew: u64, retry: u64) -> ElectionConfig {
        ElectionConfig {
            namespace: "ns".into(),
            lease_name: "tagwatch-leader".into(),
            identity: "a".into(),
            lease_duration: Duration::from_secs(lease),
            renew_deadline: Duration::from_secs(renew),
            retry_period: Duration::from_secs(retry),
        }
    }

    #[test]
    fn timings_must_nest() {
        assert_eq!(config(15, 10, 2).validate(), Ok(()));
        let err = config(10, 10, 2).validate().unwrap_err().to_string();
        assert!(err.contains("--lease-duration (10s) must be longer than --renew-deadline (10s)"));
        let err = config(15, 2, 2).validate().unwrap_err().to_string();
        assert!(err.contains("--renew-deadline (2s) must be longer than --retry-period (2s)"));
        assert!(config(15, 10, 0).validate().is_err());
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(2));
            assert!(d >= Duration::from_secs(2) && d <= Duration::from_millis(2400));
        }
    }
}
