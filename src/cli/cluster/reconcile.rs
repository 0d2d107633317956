//! `tagwatch reconcile NAME`: request a poll now, as `flux reconcile` does. Sets the
//! `tagwatch.dev/reconcile-requested-at` annotation to the current time (a merge patch
//! of that annotation only) and, with `--wait` (the default on a terminal), watches the
//! TagWatch until `status.lastHandledReconcileAt` echoes it, then prints the poll's
//! outcome: `Ready`, its reason and message, the latest tag, image and digest.

use std::time::Duration;

use clap::Args;
use kube::api::{Patch, PatchParams};
use kube::runtime::wait::await_condition;
use serde_json::json;

use super::format::ready;
use super::progress::{Progress, TICK};
use super::{ClusterError, FIELD_MANAGER, KubeArgs, connect, exit_help, qualified};
use crate::api::RECONCILE_REQUESTED_AT;
use crate::api::v1alpha1::TagWatch;
use crate::cli::exit::{ClusterFailure, Exit};
use crate::cli::tags::positive_duration;

/// How long `--wait` waits unless told otherwise.
pub const DEFAULT_TIMEOUT: &str = "2m";

/// Arguments of `tagwatch reconcile`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
#[command(after_help = exit_help())]
pub struct ReconcileArgs {
    /// The TagWatch.
    pub name: String,

    /// Where the cluster is.
    #[command(flatten)]
    pub kube: KubeArgs,

    /// Wait until the operator has handled the request, and print the poll's outcome.
    /// Default: true when stdout is a terminal.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub wait: Option<bool>,

    /// How long to wait (e.g. 30s, 5m).
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_TIMEOUT, value_parser = positive_duration)]
    pub timeout: humantime::Duration,
}

/// Runs `tagwatch reconcile`.
pub async fn run(args: ReconcileArgs) -> Exit {
    let wait = args
        .wait
        .unwrap_or_else(|| std::io::IsTerminal::is_terminal(&std::io::stdout()));
    match reconcile(&args, wait).await {
        Ok(exit) => exit,
        Err(err) => err.report(),
    }
}

async fn reconcile(args: &ReconcileArgs, wait: bool) -> Result<Exit, ClusterError> {
    let cluster = connect(&args.kube).await?;
    let tw = cluster.tagwatch(&args.name).await?;
    let who = qualified(&tw);
    if tw.spec.suspend {
        return Ok(crate::cli::fail(
            Exit::Cluster(ClusterFailure::Suspended),
            &format!(
                "TagWatch {who} is suspended, so it would not poll: resume it first (tagwatch resume {})",
                args.name
            ),
        ));
    }
    let requested = jiff::Timestamp::now().to_string();
    let patch = json!({"metadata": {"annotations": {RECONCILE_REQUESTED_AT: requested}}});
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    };
    let api = cluster.tagwatches(false);
    api.patch(&args.name, &params, &Patch::Merge(&patch))
        .await
        .map_err(|e| ClusterError::api(e, &cluster.namespace, Some(&args.name)))?;
    let mut text =
        format!("reconcile requested: TagWatch {who} ({RECONCILE_REQUESTED_AT}={requested})\n");
    if !wait {
        return Ok(crate::cli::write_stdout(&text));
    }
    let written = crate::cli::write_stdout(&text);
    if written != Exit::Success {
        return Ok(written);
    }
    let timeout = Duration::from(args.timeout);
    let mut progress =
        Progress::on_stdout(format!("waiting for the operator to poll TagWatch {who}"));
    let token = requested.clone();
    let handled = await_condition(api, &args.name, move |tw: Option<&TagWatch>| {
        tw.and_then(|tw| tw.status.as_ref())
            .and_then(|s| s.last_handled_reconcile_at.as_deref())
            == Some(token.as_str())
    });
    let mut handled = std::pin::pin!(tokio::time::timeout(timeout, handled));
    let mut ticks = tokio::time::interval(TICK);
    let outcome = loop {
        tokio::select! {
            outcome = &mut handled => break outcome,
            _ = ticks.tick() => progress.tick(),
        }
    };
    progress.finish();
    let tw = match outcome {
        Err(_elapsed) => {
            return Ok(crate::cli::fail(
                Exit::Cluster(ClusterFailure::NotHandled),
                &format!(
                    "TagWatch {who} did not handle the request within {}: is an operator serving namespace {}? (docs/troubleshooting.md)",
                    args.timeout, cluster.namespace
                ),
            ));
        }
        Ok(Err(err)) => return Err(ClusterError::Watch(watch_error(err))),
        Ok(Ok(None)) => {
            return Err(ClusterError::NotFound {
                namespace: cluster.namespace.clone(),
                name: args.name.clone(),
            });
        }
        Ok(Ok(Some(tw))) => tw,
    };
    text = outcome_text(&tw);
    let written = crate::cli::write_stdout(&text);
    let failed = ready(&tw).is_none_or(|c| c.status != "True");
    if failed {
        let reason = ready(&tw).map_or("Unknown", |c| c.reason.as_str());
        return Ok(crate::cli::fail(
            Exit::Cluster(ClusterFailure::PollFailed),
            &format!("the poll of TagWatch {who} failed: {reason}"),
        ));
    }
    Ok(written)
}

fn watch_error(error: kube::runtime::wait::Error) -> kube::runtime::watcher::Error {
    match error {
        kube::runtime::wait::Error::ProbeFailed(err) => err,
    }
}

/// What a handled request came to: `Ready` with its reason and message, then the
/// latest tag, image and digest when status has them.
pub fn outcome_text(tw: &TagWatch) -> String {
    let mut text = match ready(tw) {
        Some(c) => format!(
            "poll handled: Ready={} {}: {}\n",
            c.status,
            c.reason,
            crate::cli::output::cell(&c.message)
        ),
        None => "poll handled: no Ready condition\n".to_string(),
    };
    let status = tw.status.clone().unwrap_or_default();
    for (label, value) in [
        ("latest tag", status.latest_tag),
        ("latest image", status.latest_image),
        ("latest digest", status.latest_digest),
    ] {
        if let Some(value) = value {
            text.push_str(&format!("{label}: {}\n", crate::cli::output::cell(&value)));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<ReconcileArgs, clap::Error> {
        let argv = ["tagwatch", "reconcile"].iter().chain(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Reconcile(args) => args,
            other => panic!("parsed as {other:?}"),
        })
    }

    #[test]
    fn wait_defaults_to_the_terminal_and_takes_an_optional_value() {
        assert_eq!(parse(&["web"]).unwrap().wait, None);
        assert_eq!(parse(&["web", "--wait"]).unwrap().wait, Some(true));
        assert_eq!(parse(&["web", "--wait=false"]).unwrap().wait, Some(false));
        let args = parse(&["web", "--timeout", "30s"]).unwrap();
        assert_eq!(Duration::from(args.timeout), Duration::from_secs(30));
        assert_eq!(
            Duration::from(parse(&["web"]).unwrap().timeout),
            Duration::from_secs(120)
        );
        assert_eq!(
            parse(&["web", "--timeout", "0s"]).unwrap_err().exit_code(),
            2
        );
        assert_eq!(parse(&[]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn the_outcome_names_ready_and_the_latest_image() {
        let mut tw = TagWatch::test().ready();
        let status = tw.status.as_mut().unwrap();
        status.latest_tag = Some("v2".into());
        status.latest_image = Some("uhub.service.ucloud.cn/demo/web:v2".into());
        assert_eq!(
            outcome_text(&tw),
            "poll handled: Ready=True Succeeded: ok\n\
             latest tag: v2\n\
             latest image: uhub.service.ucloud.cn/demo/web:v2\n"
        );
        let failed = TagWatch::test().synced(0, false);
        assert_eq!(
            outcome_text(&failed),
            "poll handled: Ready=False Throttled: slow down\n"
        );
    }
}
