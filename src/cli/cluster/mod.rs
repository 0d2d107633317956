//! The cluster commands: `get`, `describe`, `reconcile`, `suspend`, `resume` and
//! `events` read and drive TagWatches through the Kubernetes API, as `kubectl` and
//! `flux` do, also as the kubectl plugin `kubectl tagwatch`. The cluster is found as
//! kubectl finds it ([`KubeArgs`]); failures map to the codes of [`Exit::CLUSTER`].

pub mod describe;
pub mod events;
pub mod format;
pub mod get;
pub mod progress;
pub mod reconcile;
pub mod suspend;

use std::path::PathBuf;

use clap::Args;
use kube::api::{Api, ListParams};
use kube::config::{InClusterError, KubeConfigOptions, Kubeconfig, KubeconfigError};

use super::exit::{ClusterFailure, Exit};
use crate::api::v1alpha1::TagWatch;

/// The field manager of the cluster commands' writes.
pub const FIELD_MANAGER: &str = "tagwatch-cli";

/// Where the cluster is and which namespace to use, as kubectl reads them.
#[derive(Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct KubeArgs {
    /// Path of the kubeconfig file. Default: KUBECONFIG (a list of files is merged),
    /// then ~/.kube/config, then the in-cluster service account.
    #[arg(long, value_name = "FILE", display_order = 800)]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use. Default: its current context.
    #[arg(long, value_name = "NAME", display_order = 801)]
    pub context: Option<String>,

    /// The namespace. Default: the context's namespace, else "default".
    #[arg(short = 'n', long, value_name = "NS", display_order = 802)]
    pub namespace: Option<String>,
}

/// A connection to the cluster, with the namespace the command works in.
pub struct Cluster {
    /// The Kubernetes client.
    pub client: kube::Client,
    /// `--namespace`, else the context's (or the service account's) namespace.
    pub namespace: String,
}

impl Cluster {
    /// The TagWatches of the namespace, or of every namespace with `all`.
    pub fn tagwatches(&self, all: bool) -> Api<TagWatch> {
        if all {
            Api::all(self.client.clone())
        } else {
            Api::namespaced(self.client.clone(), &self.namespace)
        }
    }

    /// TagWatch `name` of the namespace.
    pub async fn tagwatch(&self, name: &str) -> Result<TagWatch, ClusterError> {
        self.tagwatches(false)
            .get(name)
            .await
            .map_err(|e| ClusterError::api(e, &self.namespace, Some(name)))
    }

    /// The TagWatches of the namespace (or all of them) matching `selector`, sorted by
    /// namespace and name.
    pub async fn list(
        &self,
        all: bool,
        selector: Option<&str>,
    ) -> Result<Vec<TagWatch>, ClusterError> {
        let mut params = ListParams::default();
        if let Some(selector) = selector {
            params = params.labels(selector);
        }
        let mut items = self
            .tagwatches(all)
            .list(&params)
            .await
            .map_err(|e| ClusterError::api(e, &self.namespace, None))?
            .items;
        items.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        Ok(items)
    }

    /// What kubectl says when a list is empty: `No resources found in NS namespace.`
    pub fn nothing_found(&self, all: bool) -> String {
        if all {
            "No resources found".to_string()
        } else {
            format!("No resources found in {} namespace.", self.namespace)
        }
    }
}

/// Why a cluster command failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig could not be loaded, or it has no such context.
    #[error("kubeconfig: {0}")]
    Kubeconfig(#[from] KubeconfigError),
    /// No kubeconfig was found, and this is not a pod.
    #[error(
        "no kubeconfig found (set KUBECONFIG or --kubeconfig) and not running in a cluster: {kubeconfig}; {in_cluster}"
    )]
    NoConfig {
        /// Why no kubeconfig was read.
        kubeconfig: KubeconfigError,
        /// Why the in-cluster configuration was not usable.
        in_cluster: InClusterError,
    },
    /// The client could not be built from the configuration.
    #[error("cannot connect to Kubernetes: {0}")]
    Client(kube::Error),
    /// A TagWatch does not exist.
    #[error("TagWatch {namespace}/{name} not found")]
    NotFound {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// The cluster does not know the TagWatch kind.
    #[error(
        "the cluster has no TagWatch resource type: install the CRD tagwatches.tagwatch.dev (docs/install.md)"
    )]
    NoCrd,
    /// Another Kubernetes API failure.
    #[error("Kubernetes API: {0}")]
    Api(kube::Error),
    /// A watch failed.
    #[error("Kubernetes API: {0}")]
    Watch(#[from] kube::runtime::watcher::Error),
}

impl ClusterError {
    /// Classifies an API error of a request for TagWatch `name` (a list without one).
    pub fn api(error: kube::Error, namespace: &str, name: Option<&str>) -> ClusterError {
        match (&error, name) {
            (kube::Error::Api(status), _) if status.code == 404 => {
                let names_object = status.details.as_ref().is_some_and(|d| !d.name.is_empty());
                match name {
                    Some(name) if names_object => ClusterError::NotFound {
                        namespace: namespace.to_string(),
                        name: name.to_string(),
                    },
                    _ => ClusterError::NoCrd,
                }
            }
            _ => ClusterError::Api(error),
        }
    }

    /// The exit code.
    pub fn failure(&self) -> ClusterFailure {
        match self {
            ClusterError::Kubeconfig(_) | ClusterError::NoConfig { .. } => {
                ClusterFailure::Kubeconfig
            }
            ClusterError::NotFound { .. } | ClusterError::NoCrd => ClusterFailure::NotFound,
            ClusterError::Client(_) => ClusterFailure::Unreachable,
            ClusterError::Api(kube::Error::Api(status))
                if status.code == 401 || status.code == 403 =>
            {
                ClusterFailure::Denied
            }
            ClusterError::Api(_) | ClusterError::Watch(_) => ClusterFailure::Unreachable,
        }
    }

    /// Prints the error and returns its exit.
    pub fn report(&self) -> Exit {
        super::fail(Exit::Cluster(self.failure()), self)
    }
}

/// Connects as kubectl would: `--kubeconfig`, else KUBECONFIG or ~/.kube/config, else
/// the in-cluster service account; `--context`, else the current context; the
/// namespace from `--namespace`, else the context's.
pub async fn connect(args: &KubeArgs) -> Result<Cluster, ClusterError> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    let kubeconfig = match &args.kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path)?),
        None => match Kubeconfig::read() {
            Ok(kubeconfig) => Some(kubeconfig),
            Err(err) if args.context.is_none() && is_absent(&err) => {
                match kube::Config::incluster() {
                    Ok(_) => None,
                    Err(in_cluster) => {
                        return Err(ClusterError::NoConfig {
                            kubeconfig: err,
                            in_cluster,
                        });
                    }
                }
            }
            Err(err) => return Err(err.into()),
        },
    };
    let config = match kubeconfig {
        Some(kubeconfig) => kube::Config::from_custom_kubeconfig(kubeconfig, &options).await?,
        None => kube::Config::incluster().map_err(|in_cluster| ClusterError::NoConfig {
            kubeconfig: KubeconfigError::FindPath,
            in_cluster,
        })?,
    };
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::Client::try_from(config).map_err(ClusterError::Client)?;
    Ok(Cluster { client, namespace })
}

/// Whether reading the kubeconfig failed because there is none (rather than a bad one).
fn is_absent(error: &KubeconfigError) -> bool {
    match error {
        KubeconfigError::FindPath => true,
        KubeconfigError::ReadConfig(io, _) => {
            io.kind() == std::io::ErrorKind::NotFound && std::env::var_os("KUBECONFIG").is_none()
        }
        _ => false,
    }
}

/// `namespace/name` of a TagWatch.
pub fn qualified(tw: &TagWatch) -> String {
    format!(
        "{}/{}",
        tw.metadata.namespace.as_deref().unwrap_or_default(),
        tw.metadata.name.as_deref().unwrap_or_default()
    )
}

/// The exit code table of the cluster commands, for their `--help`.
pub fn exit_help() -> String {
    super::exit::help_text(&Exit::CLUSTER)
}
