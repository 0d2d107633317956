//! End to end: what GitOps tools compute from live TagWatches in each state, with those
//! tools' own code (`make gitops-tools`): kstatus (`sigs.k8s.io/cli-utils`, what Flux
//! health checks use) and Argo CD's health check `deploy/argocd/health.lua` run in
//! gopher-lua as Argo CD runs a check from argocd-cm. The table is the one of
//! docs/gitops.md.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tagwatch::api::v1alpha1::TagWatch;
use tagwatch::testing::env::{Env, NEXT_POLL, PROMPTLY, condition, spec};
use testkit::paths;

/// Runs `tool args` with `object` (JSON) on stdin; returns its one answer's status and
/// message.
fn run(tool: &str, args: &[&str], object: &Value) -> (String, String) {
    let mut child = Command::new(paths::tool(tool, "gitops-tools"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {tool}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(object.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{tool} answered {:?}: {e}", output.stdout));
    let text = |key: &str| answer[key].as_str().unwrap_or_default().to_string();
    (text("status"), text("message"))
}

/// kstatus's status of `tw`, as the library computes it.
fn kstatus(tw: &TagWatch) -> String {
    run("kstatus", &[], &serde_json::to_value(tw).unwrap()).0
}

/// The health Argo CD gives `tw` with the shipped health.lua: status and message.
fn argo_cd_health(tw: &TagWatch) -> (String, String) {
    let script = paths::repo_file("deploy/argocd/health.lua");
    run(
        "luahealth",
        &[script.to_str().unwrap()],
        &serde_json::to_value(tw).unwrap(),
    )
}

fn has_condition(tw: &TagWatch, type_: &str, status: &str) -> bool {
    condition(tw, type_).is_some_and(|c| c.status == status)
}

#[tokio::test]
async fn kstatus_and_argo_cd_health_of_each_state() {
    let env = Env::start("health").await;
    let mut rows: Vec<(&str, String, (String, String))> = Vec::new();

    let ready = env.ready_tagwatch("ready", json!({})).await;
    rows.push(("Ready", kstatus(&ready), argo_cd_health(&ready)));

    env.apply_secret("wrong", "pub-wrong", "pri-wrong").await;
    env.create_tagwatch("wrong", spec(json!({"secretRef": {"name": "wrong"}})))
        .await;
    let stalled = env
        .wait_until("wrong", "Stalled", NEXT_POLL, |tw| {
            has_condition(tw, "Stalled", "True")
                .then_some(())
                .ok_or(format!("{:?}", tw.status))
        })
        .await;
    assert_eq!(
        condition(&stalled, "Ready").unwrap().reason,
        "AuthenticationFailed"
    );
    rows.push((
        "Stalled (wrong keys)",
        kstatus(&stalled),
        argo_cd_health(&stalled),
    ));

    // Suspended: status is kept as it was (observedGeneration stays behind).
    let suspended = env.patch("ready", json!({"spec": {"suspend": true}})).await;
    rows.push(("suspended", kstatus(&suspended), argo_cd_health(&suspended)));

    // UHub slow: the first poll of a new TagWatch is under way for seconds.
    env.emulator.set_faults(json!({"latencyMs": 6000})).await;
    env.create_tagwatch("slow", spec(json!({"timeout": "9s"})))
        .await;
    let reconciling = env
        .wait_until("slow", "Reconciling=True", PROMPTLY, |tw| {
            has_condition(tw, "Reconciling", "True")
                .then_some(())
                .ok_or(format!("{:?}", tw.status))
        })
        .await;
    rows.push((
        "Reconciling",
        kstatus(&reconciling),
        argo_cd_health(&reconciling),
    ));

    // UHub down: a transient failure.
    env.emulator.set_faults(json!({"httpStatus": 502})).await;
    env.create_tagwatch("down", spec(json!({}))).await;
    let transient = env
        .wait_until("down", "UpstreamUnavailable", NEXT_POLL, |tw| {
            let reason = condition(tw, "Ready").map(|c| c.reason.as_str());
            (reason == Some("UpstreamUnavailable") && !has_condition(tw, "Reconciling", "True"))
                .then_some(())
                .ok_or(format!("{:?}", tw.status))
        })
        .await;
    rows.push((
        "UpstreamUnavailable",
        kstatus(&transient),
        argo_cd_health(&transient),
    ));

    let unserved = Env::builder("health-unserved")
        .without_operator()
        .start()
        .await;
    let no_status = unserved.create_tagwatch("new", spec(json!({}))).await;
    assert!(no_status.status.is_none());
    rows.push(("no status", kstatus(&no_status), argo_cd_health(&no_status)));

    for (state, kstatus, (health, message)) in &rows {
        eprintln!("{state:22} kstatus {kstatus:11} Argo CD {health:12} {message}");
    }
    let table: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(state, k, (h, _))| (*state, k.as_str(), h.as_str()))
        .collect();
    assert_eq!(
        table,
        [
            ("Ready", "Current", "Healthy"),
            ("Stalled (wrong keys)", "Failed", "Degraded"),
            ("suspended", "InProgress", "Suspended"),
            ("Reconciling", "InProgress", "Progressing"),
            ("UpstreamUnavailable", "InProgress", "Degraded"),
            ("no status", "Current", "Progressing"),
        ]
    );
    let stalled_message = &rows[1].2.1;
    assert!(
        stalled_message.starts_with("AuthenticationFailed: "),
        "{stalled_message}"
    );
}
