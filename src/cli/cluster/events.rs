//! `tagwatch events NAME [--watch]`: the operator's events about one TagWatch
//! (`events.k8s.io/v1` Events whose `regarding` is it, reported by
//! `tagwatch.dev/controller`), oldest first, in aligned columns LAST SEEN, TYPE,
//! REASON, MESSAGE; with `--watch`, new ones as they are published.

use std::collections::HashSet;
use std::io::Write;

use clap::Args;
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams};
use kube::runtime::{WatchStreamExt, watcher};

use super::format::age;
use super::{ClusterError, KubeArgs, connect, exit_help};
use crate::api::v1alpha1::TagWatch;
use crate::cli::exit::Exit;
use crate::cli::output::cell;
use crate::controller::events::REPORTING_CONTROLLER;

/// Arguments of `tagwatch events`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
#[command(after_help = exit_help())]
pub struct EventsArgs {
    /// The TagWatch.
    pub name: String,

    /// Where the cluster is.
    #[command(flatten)]
    pub kube: KubeArgs,

    /// After the list, print new events as they are published, until interrupted.
    #[arg(short = 'w', long)]
    pub watch: bool,
}

/// Runs `tagwatch events`.
pub async fn run(args: EventsArgs) -> Exit {
    match events(&args).await {
        Ok(exit) => exit,
        Err(err) => err.report(),
    }
}

async fn events(args: &EventsArgs) -> Result<Exit, ClusterError> {
    let cluster = connect(&args.kube).await?;
    let tw = cluster.tagwatch(&args.name).await?;
    let api: Api<Event> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let selector = field_selector(&tw);
    if !args.watch {
        let events = list(&api, &selector, &cluster.namespace).await?;
        if events.is_empty() {
            eprintln!("No events found for TagWatch {}.", super::qualified(&tw));
            return Ok(Exit::Success);
        }
        return Ok(crate::cli::write_stdout(&table(&events, Timestamp::now())));
    }
    let config = watcher::Config::default().fields(&selector);
    // Retried with backoff once it has listed: a watch outlives apiserver restarts.
    let mut stream = watcher(api, config).default_backoff().boxed();
    let mut printed: HashSet<String> = HashSet::new();
    let mut initial: Vec<Event> = Vec::new();
    let mut listed = false;
    loop {
        let next = tokio::select! {
            next = stream.try_next() => next,
            _ = tokio::signal::ctrl_c() => return Ok(Exit::Success),
        };
        let next = match next {
            Ok(Some(next)) => next,
            Ok(None) => return Ok(Exit::Success),
            Err(err) if !listed => return Err(ClusterError::Watch(err)),
            Err(err) => {
                tracing::warn!(error = %err, "watching events failed; retrying");
                continue;
            }
        };
        let mut text = String::new();
        let mut batch = match next {
            watcher::Event::Init => {
                initial.clear();
                continue;
            }
            watcher::Event::InitApply(event) => {
                initial.push(event);
                continue;
            }
            watcher::Event::Delete(_) => continue,
            watcher::Event::InitDone => {
                if !listed {
                    text.push_str(&line(&HEADER.map(String::from)));
                    listed = true;
                }
                std::mem::take(&mut initial)
            }
            watcher::Event::Apply(event) => vec![event],
        };
        batch.retain(|e| printed.insert(e.metadata.uid.clone().unwrap_or_default()));
        sort_oldest_first(&mut batch);
        let now = Timestamp::now();
        for event in &batch {
            text.push_str(&line(&row(event, now)));
        }
        if text.is_empty() {
            continue;
        }
        // Unlike a one-off listing, a closed pipe ends the watch.
        let mut stdout = std::io::stdout().lock();
        if let Err(err) = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            if err.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(Exit::Success);
            }
            return Ok(crate::cli::fail(
                Exit::Failure,
                &format!("cannot write the output: {err}"),
            ));
        }
    }
}

/// The field selector of the operator's events about `tw` (this incarnation of it).
pub fn field_selector(tw: &TagWatch) -> String {
    format!(
        "regarding.name={},regarding.uid={},reportingController={REPORTING_CONTROLLER}",
        tw.metadata.name.as_deref().unwrap_or_default(),
        tw.metadata.uid.as_deref().unwrap_or_default(),
    )
}

/// The operator's events about `tw`, oldest first.
pub async fn of(client: &kube::Client, tw: &TagWatch) -> Result<Vec<Event>, ClusterError> {
    let namespace = tw.metadata.namespace.as_deref().unwrap_or_default();
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    list(&api, &field_selector(tw), namespace).await
}

async fn list(
    api: &Api<Event>,
    selector: &str,
    namespace: &str,
) -> Result<Vec<Event>, ClusterError> {
    let mut events = api
        .list(&ListParams::default().fields(selector))
        .await
        .map_err(|e| ClusterError::api(e, namespace, None))?
        .items;
    sort_oldest_first(&mut events);
    Ok(events)
}

/// When `event` was last seen: its series' last observation, else its time.
fn last_seen(event: &Event) -> Option<Timestamp> {
    event
        .series
        .as_ref()
        .map(|s| s.last_observed_time.0)
        .or(event.event_time.as_ref().map(|t| t.0))
        .or(event.deprecated_last_timestamp.as_ref().map(|t| t.0))
        .or(event.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

fn sort_oldest_first(events: &mut [Event]) {
    events.sort_by_key(|e| (last_seen(e), e.metadata.name.clone()));
}

const HEADER: [&str; 4] = ["LAST SEEN", "TYPE", "REASON", "MESSAGE"];
/// Column widths, fixed so that rows printed later by `--watch` line up with the first.
const WIDTHS: [usize; 3] = [9, 7, 18];

fn row(event: &Event, now: Timestamp) -> [String; 4] {
    [
        age(last_seen(event), now),
        cell(event.type_.as_deref().unwrap_or_default()),
        cell(event.reason.as_deref().unwrap_or_default()),
        cell(event.note.as_deref().unwrap_or_default()),
    ]
}

fn line(cells: &[String; 4]) -> String {
    let mut text = String::new();
    for (i, value) in cells.iter().enumerate() {
        text.push_str(value);
        if let Some(width) = WIDTHS.get(i) {
            let pad = width.saturating_sub(value.chars().count());
            text.push_str(&" ".repeat(pad + 3));
        }
    }
    let mut text = text.trim_end().to_string();
    text.push('\n');
    text
}

/// `events` as the aligned table LAST SEEN, TYPE, REASON, MESSAGE.
pub fn table(events: &[Event], now: Timestamp) -> String {
    std::iter::once(line(&HEADER.map(String::from)))
        .chain(events.iter().map(|e| line(&row(e, now))))
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    use super::*;

    fn event(reason: &str, type_: &str, note: &str, second: i64) -> Event {
        Event {
            reason: Some(reason.into()),
            type_: Some(type_.into()),
            note: Some(note.into()),
            event_time: Some(MicroTime(Timestamp::from_second(second).unwrap())),
            ..Event::default()
        }
    }

    #[test]
    fn events_are_listed_oldest_first_in_fixed_columns() {
        let mut events = vec![
            event("NewTag", "Normal", "new tag v1.3.0", 900),
            event("InitialSync", "Normal", "found 3 tags, latest v1.2.0", 100),
            event("SyncFailed", "Warning", "bad\nkeys", 950),
        ];
        sort_oldest_first(&mut events);
        let text = table(&events, Timestamp::from_second(1000).unwrap());
        assert_eq!(
            text,
            "LAST SEEN   TYPE      REASON               MESSAGE\n\
             15m         Normal    InitialSync          found 3 tags, latest v1.2.0\n\
             100s        Normal    NewTag               new tag v1.3.0\n\
             50s         Warning   SyncFailed           bad\\nkeys\n"
        );
    }

    #[test]
    fn the_selector_names_this_tagwatch_and_the_operator() {
        let tw = TagWatch::test();
        assert_eq!(
            field_selector(&tw),
            "regarding.name=web,regarding.uid=uid-1,reportingController=tagwatch.dev/controller"
        );
    }
}
