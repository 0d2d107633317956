//! The leader-election lock: one `coordination.k8s.io/v1` Lease, read and written the
//! way client-go's `leaderelection` package does it.
//!
//! Every write is a create, or a replace carrying the `resourceVersion` that was just
//! read, so of two candidates writing at once the apiserver refuses the second with
//! 409 Conflict: at most one holds the lease. A lease held by another identity counts
//! as expired `leaseDurationSeconds` after this process last saw it change, measured on
//! this process's monotonic clock, so clock skew between hosts does not matter.
//! Releasing clears the holder, so a standby takes the lease at its next attempt.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::time::Instant;

/// What one attempt to take or renew the lease found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// This process holds the lease (it took it, or renewed it).
    Held,
    /// Another identity holds the lease and it has not expired.
    HeldBy(String),
    /// Another candidate wrote the lease between our read and our write.
    Conflict,
}

/// The lease as last seen, and when it was seen to change.
#[derive(Clone, Debug)]
struct Observed {
    spec: LeaseSpec,
    changed_at: Instant,
}

/// One candidate's view of the lease.
pub struct LeaseLock {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
    observed: Option<Observed>,
}

impl LeaseLock {
    /// A lock on the Lease `namespace`/`name` for the candidate `identity`, which
    /// writes `duration` as the lease's `leaseDurationSeconds`.
    pub fn new(
        client: kube::Client,
        namespace: &str,
        name: &str,
        identity: &str,
        duration: Duration,
    ) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            duration,
            observed: None,
        }
    }

    /// This candidate's identity (the lease's `holderIdentity` while it leads).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Takes the lease when it is free or expired, renews it when this candidate holds
    /// it, and otherwise says who holds it.
    pub async fn try_acquire_or_renew(&mut self) -> Result<Attempt, kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(next_spec(None, &self.identity, self.duration, now())),
            };
            let created = self.api.create(&PostParams::default(), &lease).await;
            return self.written(created);
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let changed_at = match &self.observed {
            Some(seen) if seen.spec == spec => seen.changed_at,
            _ => Instant::now(),
        };
        self.observed = Some(Observed {
            spec: spec.clone(),
            changed_at,
        });
        if let Some(holder) = held_by_other(&spec, &self.identity, changed_at, Instant::now()) {
            return Ok(Attempt::HeldBy(holder));
        }
        lease.spec = Some(next_spec(Some(&spec), &self.identity, self.duration, now()));
        let replaced = self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await;
        self.written(replaced)
    }

    /// Gives the lease up when this candidate holds it (as last seen): clears the
    /// holder and shortens the duration to one second.
    pub async fn release(&mut self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.name).await? else {
            return Ok(());
        };
        let Some(spec) = lease.spec.as_mut() else {
            return Ok(());
        };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        let now = now();
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.acquire_time = Some(now.clone());
        spec.renew_time = Some(now);
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await?;
        self.observed = None;
        Ok(())
    }

    fn written(&mut self, result: Result<Lease, kube::Error>) -> Result<Attempt, kube::Error> {
        match result {
            Ok(lease) => {
                self.observed = Some(Observed {
                    spec: lease.spec.unwrap_or_default(),
                    changed_at: Instant::now(),
                });
                Ok(Attempt::Held)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::Conflict),
            Err(error) => Err(error),
        }
    }
}

fn now() -> MicroTime {
    MicroTime(Timestamp::now())
}

/// The holder of `spec` when it is another identity than `identity` and its lease has
/// not expired: it was seen to change at `changed_at`, less than its
/// `leaseDurationSeconds` before `now`.
pub fn held_by_other(
    spec: &LeaseSpec,
    identity: &str,
    changed_at: Instant,
    now: Instant,
) -> Option<String> {
    let holder = spec.holder_identity.as_deref().filter(|h| !h.is_empty())?;
    if holder == identity {
        return None;
    }
    let seconds = spec.lease_duration_seconds.unwrap_or(0).max(0) as u64;
    let expires = changed_at + Duration::from_secs(seconds);
    (expires > now).then(|| holder.to_string())
}

/// The spec `identity` writes to take or renew a lease whose current spec is
/// `previous`: a renewal keeps `acquireTime` and the transition count, a takeover sets
/// `acquireTime` and counts one more transition.
pub fn next_spec(
    previous: Option<&LeaseSpec>,
    identity: &str,
    duration: Duration,
    now: MicroTime,
) -> LeaseSpec {
    let renewing = previous.is_some_and(|p| p.holder_identity.as_deref() == Some(identity));
    let transitions = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
    LeaseSpec {
        holder_identity: Some(identity.to_string()),
        lease_duration_seconds: Some(i32::try_from(duration.as_secs().max(1)).unwrap_or(i32::MAX)),
        acquire_time: match previous {
            Some(p) if renewing => p.acquire_time.clone(),
            _ => Some(now.clone()),
        },
        renew_time: Some(now),
        lease_transitions: Some(match previous {
            Some(_) if !renewing => transitions.saturating_add(1),
            _ => transitions,
        }),
        ..LeaseSpec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, seconds: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            lease_duration_seconds: Some(seconds),
            lease_transitions: Some(3),
            acquire_time: Some(MicroTime(Timestamp::UNIX_EPOCH)),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn another_holder_counts_until_its_duration_passed_since_the_last_change() {
        let seen = Instant::now();
        let held = spec(Some("b"), 15);
        assert_eq!(held_by_other(&held, "a", seen, seen), Some("b".into()));
        let later = seen + Duration::from_millis(14_999);
        assert_eq!(held_by_other(&held, "a", seen, later), Some("b".into()));
        assert_eq!(
            held_by_other(&held, "a", seen, seen + Duration::from_secs(15)),
            None
        );
        assert_eq!(held_by_other(&held, "b", seen, seen), None, "our own lease");
        assert_eq!(held_by_other(&spec(None, 15), "a", seen, seen), None);
        assert_eq!(held_by_other(&spec(Some(""), 15), "a", seen, seen), None);
    }

    #[test]
    fn renewals_keep_acquire_time_and_takeovers_count_a_transition() {
        let at = |s: i64| MicroTime(Timestamp::from_second(s).unwrap());
        let created = next_spec(None, "a", Duration::from_secs(15), at(10));
        assert_eq!(created.holder_identity.as_deref(), Some("a"));
        assert_eq!(created.lease_duration_seconds, Some(15));
        assert_eq!(created.lease_transitions, Some(0));
        assert_eq!(created.acquire_time, Some(at(10)));

        let renewed = next_spec(Some(&created), "a", Duration::from_secs(15), at(12));
        assert_eq!(renewed.acquire_time, Some(at(10)));
        assert_eq!(renewed.renew_time, Some(at(12)));
        assert_eq!(renewed.lease_transitions, Some(0));

        let taken = next_spec(Some(&renewed), "b", Duration::from_secs(15), at(30));
        assert_eq!(taken.holder_identity.as_deref(), Some("b"));
        assert_eq!(taken.acquire_time, Some(at(30)));
        assert_eq!(taken.lease_transitions, Some(1));

        let after_release = next_spec(Some(&spec(None, 1)), "c", Duration::from_secs(15), at(40));
        assert_eq!(after_release.lease_transitions, Some(4));
    }
}
