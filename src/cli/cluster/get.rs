//! `tagwatch get [NAME]`: TagWatches as a table (NAMESPACE with `-A`, NAME, IMAGE,
//! LATEST, TAGS, READY, REASON, LAST SYNC, AGE; SUSPENDED, LATEST IMAGE and MESSAGE with
//! `-o wide`), or the objects
//! as JSON or YAML, the way `kubectl get -o json|yaml` prints them.

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::ApiResource;
use serde::Serialize;
use serde_json::Value;

use super::format::{age, ready};
use super::{ClusterError, KubeArgs, connect, exit_help};
use crate::api::v1alpha1::TagWatch;
use crate::cli::exit::Exit;
use crate::cli::output::{aligned, cell};

/// Output formats of `get`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GetFormat {
    /// The table with SUSPENDED (spec.suspend), LATEST IMAGE (status.latestImage) and
    /// MESSAGE (the Ready message) too.
    Wide,
    /// The objects as JSON (a List without NAME), as `kubectl get -o json`.
    Json,
    /// The objects as YAML (a List without NAME), as `kubectl get -o yaml`.
    Yaml,
}

/// Arguments of `tagwatch get`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
#[command(after_help = exit_help())]
pub struct GetArgs {
    /// The TagWatch to show; every TagWatch of the namespace without it.
    pub name: Option<String>,

    /// Where the cluster is.
    #[command(flatten)]
    pub kube: KubeArgs,

    /// TagWatches of every namespace (the namespace is ignored).
    #[arg(short = 'A', long, conflicts_with = "name")]
    pub all_namespaces: bool,

    /// Only TagWatches matching this label selector, e.g. team=web.
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "name")]
    pub selector: Option<String>,

    /// Output format; an aligned table without it.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<GetFormat>,
}

/// Runs `tagwatch get`.
pub async fn run(args: GetArgs) -> Exit {
    match get(&args).await {
        Ok(text) => crate::cli::write_stdout(&text),
        Err(err) => err.report(),
    }
}

async fn get(args: &GetArgs) -> Result<String, ClusterError> {
    let cluster = connect(&args.kube).await?;
    let resource = ApiResource::erase::<TagWatch>(&());
    let all = args.all_namespaces;
    let api: Api<DynamicObject> = if all {
        Api::all_with(cluster.client.clone(), &resource)
    } else {
        Api::namespaced_with(cluster.client.clone(), &cluster.namespace, &resource)
    };
    let objects: Vec<Value> = match &args.name {
        Some(name) => {
            let object = api
                .get(name)
                .await
                .map_err(|e| ClusterError::api(e, &cluster.namespace, Some(name)))?;
            vec![plain(object)]
        }
        None => {
            let mut params = ListParams::default();
            if let Some(selector) = &args.selector {
                params = params.labels(selector);
            }
            let list = api
                .list(&params)
                .await
                .map_err(|e| ClusterError::api(e, &cluster.namespace, None))?;
            list.items.into_iter().map(plain).collect()
        }
    };
    let single = args.name.is_some();
    if !single
        && objects.is_empty()
        && !matches!(args.output, Some(GetFormat::Json | GetFormat::Yaml))
    {
        eprintln!("{}", cluster.nothing_found(all));
        return Ok(String::new());
    }
    let document = || {
        if single {
            objects[0].clone()
        } else {
            kubectl_list(objects.clone())
        }
    };
    Ok(match args.output {
        Some(GetFormat::Json) => to_json(&document()),
        Some(GetFormat::Yaml) => serde_norway::to_string(&document()).unwrap_or_default(),
        table => {
            let tagwatches: Vec<TagWatch> = objects
                .into_iter()
                .filter_map(|o| serde_json::from_value(o).ok())
                .collect();
            table_text(
                &tagwatches,
                all,
                table == Some(GetFormat::Wide),
                Timestamp::now(),
            )
        }
    })
}

/// An object as kubectl prints it: JSON, without `metadata.managedFields`.
fn plain(object: DynamicObject) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or_default();
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    value
}

/// The `v1` `List` kubectl prints for several objects.
fn kubectl_list(items: Vec<Value>) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    })
}

/// JSON indented by four spaces, as kubectl prints it.
fn to_json(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value
        .serialize(&mut serializer)
        .expect("a JSON value serializes");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// The table of `get`: NAMESPACE (with `all_namespaces`), NAME, IMAGE, LATEST, TAGS,
/// READY, REASON, LAST SYNC, AGE, and SUSPENDED, LATEST IMAGE and MESSAGE when `wide`;
/// `-` for what status lacks.
pub fn table_text(
    tagwatches: &[TagWatch],
    all_namespaces: bool,
    wide: bool,
    now: Timestamp,
) -> String {
    let mut header = vec![
        "NAME",
        "IMAGE",
        "LATEST",
        "TAGS",
        "READY",
        "REASON",
        "LAST SYNC",
        "AGE",
    ];
    if all_namespaces {
        header.insert(0, "NAMESPACE");
    }
    if wide {
        header.extend(["SUSPENDED", "LATEST IMAGE", "MESSAGE"]);
    }
    let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for tw in tagwatches {
        let status = tw.status.as_ref();
        let ready = ready(tw);
        let mut row = Vec::new();
        if all_namespaces {
            row.push(cell(tw.metadata.namespace.as_deref().unwrap_or_default()));
        }
        row.extend([
            cell(tw.metadata.name.as_deref().unwrap_or_default()),
            cell(&format!("{}/{}", tw.spec.repo_name, tw.spec.image_name)),
            cell(
                status
                    .and_then(|s| s.latest_tag.as_deref())
                    .unwrap_or_default(),
            ),
            status
                .and_then(|s| s.tag_count)
                .map_or_else(|| "-".to_string(), |n| n.to_string()),
            cell(ready.map(|c| c.status.as_str()).unwrap_or_default()),
            cell(ready.map(|c| c.reason.as_str()).unwrap_or_default()),
            age(
                status.and_then(|s| s.last_sync_time.as_ref()).map(|t| t.0),
                now,
            ),
            age(tw.metadata.creation_timestamp.as_ref().map(|t| t.0), now),
        ]);
        if wide {
            row.push(if tw.spec.suspend { "True" } else { "False" }.to_string());
            row.push(cell(
                status
                    .and_then(|s| s.latest_image.as_deref())
                    .unwrap_or_default(),
            ));
            row.push(cell(ready.map(|c| c.message.as_str()).unwrap_or_default()));
        }
        rows.push(row);
    }
    aligned(&rows, 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<GetArgs, clap::Error> {
        let argv = ["tagwatch", "get"].iter().chain(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Get(args) => args,
            other => panic!("parsed as {other:?}"),
        })
    }

    #[test]
    fn flags_parse_as_kubectl_spells_them() {
        let args = parse(&["web", "-n", "team", "-o", "wide", "--context", "dev"]).unwrap();
        assert_eq!(args.name.as_deref(), Some("web"));
        assert_eq!(args.kube.namespace.as_deref(), Some("team"));
        assert_eq!(args.kube.context.as_deref(), Some("dev"));
        assert_eq!(args.output, Some(GetFormat::Wide));
        let args = parse(&["-A", "-l", "team=web", "-o", "json", "--kubeconfig", "/k"]).unwrap();
        assert!(args.all_namespaces);
        assert_eq!(args.selector.as_deref(), Some("team=web"));
        assert_eq!(
            args.kube.kubeconfig.as_deref(),
            Some(std::path::Path::new("/k"))
        );
        for bad in [&["web", "-A"][..], &["-o", "table"], &["web", "-l", "a=b"]] {
            assert_eq!(parse(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn table_shows_dashes_for_what_status_lacks_and_ages_like_kubectl() {
        let now = Timestamp::from_second(10_000).unwrap();
        let synced = TagWatch::test()
            .synced(10_000 - 200, true)
            .tag_count(Some(4));
        let mut synced = synced;
        synced.status.as_mut().unwrap().latest_image = Some("uhub/demo/web:v4".into());
        let mut fresh = TagWatch::test().named("new").in_namespace("ops");
        fresh.spec.suspend = true;
        let text = table_text(&[synced, fresh], true, true, now);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "NAMESPACE   NAME   IMAGE      LATEST   TAGS   READY   REASON      LAST SYNC   AGE   SUSPENDED   LATEST IMAGE       MESSAGE"
        );
        assert!(
            lines[1].ends_with("   False       uhub/demo/web:v4   ok"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("team        web    demo/web   "),
            "{text}"
        );
        assert!(
            lines[1].contains("   4      True    Succeeded   3m20s"),
            "{text}"
        );
        assert_eq!(
            lines[2],
            "ops         new    demo/web   -        -      -       -           -           -     True        -                  -"
        );
    }

    #[test]
    fn json_is_indented_like_kubectl() {
        let list = kubectl_list(vec![serde_json::json!({"kind": "TagWatch"})]);
        assert_eq!(
            to_json(&list),
            "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n            \"kind\": \"TagWatch\"\n        }\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n"
        );
    }
}
