//! `tagwatch suspend` and `tagwatch resume`: set `spec.suspend` (a merge patch of that
//! field only) on one TagWatch, or with `--all` on every TagWatch of the namespace (of
//! every namespace with `-A`). A suspended TagWatch is not polled; its status is kept.

use clap::Args;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use super::{ClusterError, FIELD_MANAGER, KubeArgs, connect, exit_help, qualified};
use crate::api::v1alpha1::TagWatch;
use crate::cli::exit::Exit;

/// Arguments of `tagwatch suspend` and `tagwatch resume`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
#[command(after_help = exit_help())]
#[command(group = clap::ArgGroup::new("which").required(true).args(["name", "all"]))]
pub struct SuspendArgs {
    /// The TagWatch.
    pub name: Option<String>,

    /// Every TagWatch of the namespace (of every namespace with -A).
    #[arg(long)]
    pub all: bool,

    /// With --all: every namespace.
    #[arg(short = 'A', long, conflicts_with = "name")]
    pub all_namespaces: bool,

    /// Where the cluster is.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Runs `tagwatch suspend` (`suspend` true) or `tagwatch resume` (false).
pub async fn run(args: SuspendArgs, suspend: bool) -> Exit {
    match set(&args, suspend).await {
        Ok(text) => crate::cli::write_stdout(&text),
        Err(err) => err.report(),
    }
}

async fn set(args: &SuspendArgs, suspend: bool) -> Result<String, ClusterError> {
    let cluster = connect(&args.kube).await?;
    let targets: Vec<TagWatch> = match &args.name {
        Some(name) => vec![cluster.tagwatch(name).await?],
        None => cluster.list(args.all_namespaces, None).await?,
    };
    if targets.is_empty() {
        eprintln!("{}", cluster.nothing_found(args.all_namespaces));
    }
    let patch = json!({"spec": {"suspend": suspend}});
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    };
    let verb = if suspend { "suspended" } else { "resumed" };
    let mut text = String::new();
    for tw in &targets {
        let namespace = tw.metadata.namespace.clone().unwrap_or_default();
        let name = tw.metadata.name.clone().unwrap_or_default();
        let api: Api<TagWatch> = Api::namespaced(cluster.client.clone(), &namespace);
        api.patch(&name, &params, &Patch::Merge(&patch))
            .await
            .map_err(|e| ClusterError::api(e, &namespace, Some(&name)))?;
        let already = if tw.spec.suspend == suspend {
            " (already)"
        } else {
            ""
        };
        text.push_str(&format!("TagWatch {} {verb}{already}\n", qualified(tw)));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<SuspendArgs, clap::Error> {
        let argv = ["tagwatch", "suspend"].iter().chain(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Suspend(args) => args,
            other => panic!("parsed as {other:?}"),
        })
    }

    #[test]
    fn a_name_or_all() {
        assert_eq!(parse(&["web"]).unwrap().name.as_deref(), Some("web"));
        let all = parse(&["--all", "-A"]).unwrap();
        assert!(all.all && all.all_namespaces);
        for bad in [&[][..], &["web", "--all"], &["web", "-A"]] {
            assert_eq!(parse(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }
}
