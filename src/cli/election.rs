//! The leader-election flags of `tagwatch run` and their checks: the Lease's namespace
//! must be given out of a cluster, and the timings must nest.

use clap::Args;

use super::tags::positive_duration;
use crate::runtime::leader::{ElectionConfig, TimingError};

/// Where a pod's service account namespace is mounted.
const IN_CLUSTER_NAMESPACE_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// Leader-election flags.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct ElectionArgs {
    /// Run the controllers only while holding a Lease, so that several replicas can run
    /// and only one polls.
    #[arg(long, env = "TAGWATCH_LEADER_ELECT")]
    pub leader_elect: bool,

    /// Name of the leader-election Lease.
    #[arg(
        long,
        value_name = "NAME",
        env = "TAGWATCH_LEASE_NAME",
        default_value = "tagwatch-leader"
    )]
    pub lease_name: String,

    /// Namespace of the leader-election Lease; in a cluster, the pod's namespace by default.
    #[arg(long, value_name = "NS", env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// How long the Lease lasts without renewal before a standby may take it.
    #[arg(long, value_name = "DURATION", env = "TAGWATCH_LEASE_DURATION",
          default_value = "15s", value_parser = positive_duration)]
    pub lease_duration: humantime::Duration,

    /// How long the leader keeps trying to renew the Lease before it gives up leadership.
    #[arg(long, value_name = "DURATION", env = "TAGWATCH_RENEW_DEADLINE",
          default_value = "10s", value_parser = positive_duration)]
    pub renew_deadline: humantime::Duration,

    /// Time between attempts to take or renew the Lease.
    #[arg(long, value_name = "DURATION", env = "TAGWATCH_RETRY_PERIOD",
          default_value = "2s", value_parser = positive_duration)]
    pub retry_period: humantime::Duration,
}

/// Leader-election flags that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ElectionError {
    /// Out of a cluster, the Lease's namespace must be named.
    #[error(
        "--leader-elect needs --lease-namespace (or POD_NAMESPACE) when not running in a cluster: name the namespace that holds the leader-election Lease"
    )]
    NoNamespace,
    /// The timings do not nest.
    #[error(transparent)]
    Timing(#[from] TimingError),
}

impl ElectionArgs {
    /// The election to take part in, or `None` without `--leader-elect`. `instance`
    /// (the pod name) starts the identity; a random suffix keeps two processes with the
    /// same name apart.
    pub fn config(&self, instance: &str) -> Result<Option<ElectionConfig>, ElectionError> {
        if !self.leader_elect {
            return Ok(None);
        }
        let in_cluster = || {
            std::fs::read_to_string(IN_CLUSTER_NAMESPACE_FILE)
                .ok()
                .map(|ns| ns.trim().to_string())
        };
        let namespace = self
            .lease_namespace
            .clone()
            .filter(|ns| !ns.trim().is_empty())
            .or_else(in_cluster)
            .filter(|ns| !ns.is_empty())
            .ok_or(ElectionError::NoNamespace)?;
        let config = ElectionConfig {
            namespace,
            lease_name: self.lease_name.clone(),
            identity: format!("{instance}_{}", uuid::Uuid::new_v4().simple()),
            lease_duration: self.lease_duration.into(),
            renew_deadline: self.renew_deadline.into(),
            retry_period: self.retry_period.into(),
        };
        config.validate()?;
        Ok(Some(config))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        election: ElectionArgs,
    }

    fn parse(args: &[&str]) -> ElectionArgs {
        Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .unwrap()
            .election
    }

    #[test]
    fn off_by_default_with_client_go_timings() {
        let args = parse(&[]);
        assert!(!args.leader_elect);
        assert_eq!(args.lease_name, "tagwatch-leader");
        assert_eq!(
            (
                args.lease_duration.to_string(),
                args.renew_deadline.to_string(),
                args.retry_period.to_string()
            ),
            ("15s".to_string(), "10s".to_string(), "2s".to_string())
        );
        assert!(args.config("pod").unwrap().is_none());
    }

    #[test]
    fn identities_are_unique_and_start_with_the_instance() {
        let args = parse(&["--leader-elect", "--lease-namespace", "ops"]);
        let a = args.config("pod-1").unwrap().unwrap();
        let b = args.config("pod-1").unwrap().unwrap();
        assert_eq!(a.namespace, "ops");
        assert!(a.identity.starts_with("pod-1_"), "{}", a.identity);
        assert_ne!(a.identity, b.identity);
    }

    #[test]
    fn bad_timings_and_a_missing_namespace_are_explained() {
        let args = parse(&[
            "--leader-elect",
            "--lease-namespace",
            "ops",
            "--renew-deadline",
            "20s",
        ]);
        let err = args.config("pod").unwrap_err().to_string();
        assert!(err.contains("--lease-duration (15s)"), "{err}");
        if std::path::Path::new(IN_CLUSTER_NAMESPACE_FILE).exists()
            || std::env::var_os("POD_NAMESPACE").is_some()
        {
            return; // the namespace is known from the pod
        }
        let err = parse(&["--leader-elect"])
            .config("pod")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--lease-namespace"), "{err}");
    }
}
