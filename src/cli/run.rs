//! `tagwatch run`: the operator. Finds the cluster as kubectl does (KUBECONFIG, then the
//! in-cluster service account), builds the shared UCloud client with its global rate
//! limit and metrics, serves `/metrics`, `/healthz` and `/readyz`, and runs the
//! controllers until SIGTERM or SIGINT: at once, or with `--leader-elect` only while
//! holding the leader-election Lease.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;
use futures::FutureExt;

use super::election::ElectionArgs;
use super::exit::Exit;
use super::notify_args::NotifyArgs;
use super::tags::endpoint_arg;
use crate::controller::context::{
    Context, DEFAULT_CONCURRENCY, DEFAULT_LAST_SYNC_REFRESH, DEFAULT_REGISTRY_HOST, Settings,
};
use crate::controller::credentials::CredentialStore;
use crate::controller::events::EventPublisher;
use crate::controller::listing::DEFAULT_FULL_LISTING_EVERY;
use crate::notify::Notifier;
use crate::runtime::caches::Caches;
use crate::runtime::controllers::{Scope, run as run_controllers};
use crate::runtime::endpoints::{Probes, Role};
use crate::runtime::leader::{Ended, LeaderElector, run_elected};
use crate::runtime::metrics::Metrics;
use uhub::{ClientConfig, Credentials, DEFAULT_ENDPOINT, RateLimit, UhubClient};

/// Arguments of `tagwatch run`; each flag can also be set from the environment.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct RunArgs {
    /// UCloud API endpoint.
    #[arg(long, value_name = "URL", env = "UCLOUD_ENDPOINT", default_value = DEFAULT_ENDPOINT,
          value_parser = endpoint_arg)]
    pub endpoint: String,

    /// Namespaces to serve, comma-separated; all namespaces when empty.
    #[arg(
        long,
        value_name = "NS,...",
        env = "TAGWATCH_NAMESPACES",
        value_delimiter = ','
    )]
    pub namespaces: Vec<String>,

    /// Serve only TagWatches matching this label selector (e.g. team=web).
    #[arg(long, value_name = "SELECTOR", env = "TAGWATCH_SELECTOR")]
    pub selector: Option<String>,

    /// Polls running at once, at most.
    #[arg(long, value_name = "N", env = "TAGWATCH_CONCURRENCY", default_value_t = DEFAULT_CONCURRENCY,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// UCloud requests per second, for all TagWatches together.
    #[arg(
        long,
        value_name = "QPS",
        env = "TAGWATCH_UCLOUD_QPS",
        default_value_t = 10.0
    )]
    pub ucloud_qps: f64,

    /// UCloud requests that may be sent at once after a quiet period.
    #[arg(
        long,
        value_name = "N",
        env = "TAGWATCH_UCLOUD_BURST",
        default_value_t = 20
    )]
    pub ucloud_burst: u32,

    /// How old status.lastSyncTime may get before a poll that found nothing new writes
    /// it; such polls write nothing else. 0s writes status after every poll.
    #[arg(long, value_name = "DURATION", env = "TAGWATCH_LAST_SYNC_REFRESH",
          default_value_t = DEFAULT_LAST_SYNC_REFRESH.into())]
    pub last_sync_refresh: humantime::Duration,

    /// List every page of an image's tags at least once per this many polls; the polls
    /// between probe only the page holding the newest tags. 1 lists every page at every
    /// poll (no probes).
    #[arg(long, value_name = "N", env = "TAGWATCH_FULL_LISTING_EVERY",
          default_value_t = DEFAULT_FULL_LISTING_EVERY)]
    pub full_listing_every: std::num::NonZeroU32,

    /// Registry host of status.latestImage (<host>/<repoName>/<imageName>:<tag>); the
    /// host your nodes pull UHub images from.
    #[arg(long, value_name = "HOST", env = "TAGWATCH_REGISTRY_HOST",
          default_value = DEFAULT_REGISTRY_HOST, value_parser = registry_host)]
    pub registry_host: String,

    /// Use UCLOUD_PUBLIC_KEY / UCLOUD_PRIVATE_KEY / UCLOUD_SECURITY_TOKEN from the
    /// environment for TagWatches without spec.secretRef.
    #[arg(long, env = "TAGWATCH_DEFAULT_CREDENTIALS")]
    pub default_credentials: bool,

    /// Address of the /healthz, /readyz and /metrics endpoints.
    #[arg(
        long,
        value_name = "ADDR",
        env = "TAGWATCH_METRICS_ADDR",
        default_value = "0.0.0.0:8080"
    )]
    pub metrics_addr: SocketAddr,

    /// Name reported in events (reportingInstance) and leading the leader-election
    /// identity; the pod name in a cluster, the host name by default.
    #[arg(long, value_name = "NAME", env = "POD_NAME")]
    pub instance: Option<String>,

    /// Leader election.
    #[command(flatten)]
    pub election: ElectionArgs,

    /// Webhook notification settings.
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// Runs the operator until a shutdown signal.
pub async fn run(args: RunArgs) -> Exit {
    let defaults = if args.default_credentials {
        match Credentials::from_env() {
            Ok(credentials) => Some(credentials),
            Err(err) => {
                return super::fail(Exit::Credentials, &format!("--default-credentials: {err}"));
            }
        }
    } else {
        None
    };
    let rate_limit = match RateLimit::new(args.ucloud_qps, args.ucloud_burst) {
        Ok(limit) => limit,
        Err(err) => return super::fail(Exit::Usage, &err),
    };
    let instance = args.instance.clone().unwrap_or_else(default_instance);
    let election = match args.election.config(&instance) {
        Ok(election) => election,
        Err(err) => return super::fail(Exit::Usage, &err),
    };
    let metrics = Arc::new(Metrics::new());
    let uhub = match UhubClient::with_observer(
        ClientConfig {
            rate_limit: Some(rate_limit),
            ..ClientConfig::with_endpoint(&args.endpoint)
        },
        Some(metrics.clone()),
    ) {
        Ok(client) => client,
        Err(err) => return super::fail(Exit::Usage, &err),
    };
    let kube = match kube::Client::try_default().await {
        Ok(client) => client,
        Err(err) => {
            return super::fail(
                Exit::Failure,
                &format!("cannot connect to Kubernetes: {err}"),
            );
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.metrics_addr).await {
        Ok(listener) => listener,
        Err(err) => {
            return super::fail(
                Exit::Usage,
                &format!("cannot listen on {}: {err}", args.metrics_addr),
            );
        }
    };
    let notifier = match Notifier::new(kube.clone(), args.notify.config(), metrics.clone()) {
        Ok(notifier) => notifier,
        Err(err) => return super::fail(Exit::Failure, &err),
    };
    let settings = Settings {
        concurrency: args.concurrency,
        last_sync_refresh: args.last_sync_refresh.into(),
        full_listing_every: args.full_listing_every,
        registry_host: args.registry_host.clone(),
    };
    let ctx = Context::new(
        kube.clone(),
        uhub,
        CredentialStore::new(kube.clone(), defaults),
        EventPublisher::new(kube.clone(), instance),
        notifier,
        metrics.clone(),
        settings,
    );
    let scope = Scope {
        namespaces: args.namespaces.clone(),
        label_selector: args.selector.clone(),
    };
    tracing::info!(endpoint = %args.endpoint, namespaces = ?scope.namespaces, concurrency = args.concurrency,
        qps = args.ucloud_qps, burst = args.ucloud_burst, full_listing_every = args.full_listing_every, metrics = %args.metrics_addr,
        leader_elect = election.is_some(), "tagwatch starting");
    let caches = Caches::default();
    let probes = Probes::new(metrics, caches.clone());
    let endpoints = tokio::spawn(crate::runtime::endpoints::serve(listener, probes.clone()));
    let shutdown = shutdown_signal().boxed().shared();
    let exit = match election {
        None => {
            probes.set_role(Role::Leading);
            run_controllers(ctx, caches, scope, shutdown).await;
            Exit::Success
        }
        Some(config) => {
            let elector = LeaderElector::new(kube, config);
            let controllers = || run_controllers(ctx, caches, scope, shutdown.clone());
            match run_elected(elector, &probes, shutdown.clone(), controllers).await {
                Ended::Shutdown => Exit::Success,
                Ended::LeadershipLost(why) => {
                    tracing::error!(reason = %why, "leadership lost: exiting so that a restart rejoins the election as a standby");
                    super::fail(Exit::Failure, &format!("leadership lost: {why}"))
                }
            }
        }
    };
    endpoints.abort();
    tracing::info!("tagwatch stopped");
    exit
}

/// A `--registry-host` that is not a host (and optional port).
#[derive(Debug, thiserror::Error)]
#[error(
    "expected a host name with an optional port, such as uhub.service.ucloud.cn or registry.local:5000, without a scheme or path"
)]
pub struct RegistryHostError;

/// A registry host such as `uhub.service.ucloud.cn` or `registry.local:5000`.
fn registry_host(value: &str) -> Result<String, RegistryHostError> {
    let value = value.trim();
    let valid = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && !value.starts_with(['.', '-', ':']);
    if valid {
        Ok(value.to_string())
    } else {
        Err(RegistryHostError)
    }
}

fn default_instance() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "tagwatch".to_string())
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use crate::cli::Cli;

    #[test]
    fn operations_doc_lists_every_flag_with_its_environment_variable() {
        let doc = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations.md"));
        let cli = Cli::command();
        let run = cli.find_subcommand("run").expect("the run subcommand");
        let flags = run.get_arguments().chain(cli.get_arguments());
        let mut checked = 0;
        for arg in flags.filter(|a| a.get_long().is_some_and(|l| l != "help" && l != "version")) {
            let long = arg.get_long().unwrap();
            let row = doc
                .lines()
                .find(|line| line.starts_with(&format!("| `--{long}")))
                .unwrap_or_else(|| panic!("docs/operations.md has no row for --{long}"));
            if let Some(env) = arg.get_env() {
                let env = env.to_str().unwrap();
                assert!(
                    row.contains(&format!("| `{env}` |")),
                    "the row of --{long} lacks {env}: {row}"
                );
            }
            checked += 1;
        }
        assert_eq!(checked, 23, "flags of tagwatch run, global ones included");
    }

    #[test]
    fn registry_host_is_a_host_with_an_optional_port() {
        use clap::Parser;
        let parse = |extra: &[&str]| {
            let argv = ["tagwatch", "run"].iter().chain(extra);
            Cli::try_parse_from(argv).map(|cli| match cli.command {
                crate::cli::Command::Run(args) => args.registry_host,
                other => panic!("parsed as {other:?}"),
            })
        };
        if std::env::var_os("TAGWATCH_REGISTRY_HOST").is_none() {
            assert_eq!(parse(&[]).unwrap(), "uhub.service.ucloud.cn");
        }
        for good in ["registry.local:5000", "127.0.0.1:5000", "uhub-a.example"] {
            assert_eq!(parse(&["--registry-host", good]).unwrap(), good);
        }
        for bad in [
            "",
            "https://uhub.service.ucloud.cn",
            "uhub/team",
            "a b",
            ":5000",
        ] {
            let err = parse(&["--registry-host", bad]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }
}
