//! The operator runtime, with the real `tagwatch` binary against the local control plane
//! and the UHub emulator: `/metrics` scraped, parsed and matching docs/operations.md,
//! counters moving with polls, `/readyz`, poll log lines carrying their TagWatch, and
//! leader election between two processes (only the leader polls; SIGKILL hands over
//! within the lease duration without duplicate NewTag events; SIGTERM releases the
//! lease for an immediate handover).

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::events::v1::Event;
use kube::api::ListParams;
use serde_json::json;
use tagwatch::runtime::lease::{Attempt, LeaseLock};
use tagwatch::testing::env::Env;
use testkit::openmetrics::Scrape;
use testkit::{Emulator, Operator, TestNamespace, eventually};

/// The TagWatch every test creates.
const TAGWATCH: &str = "web";
/// The default timings of `--leader-elect`.
const LEASE_DURATION: Duration = Duration::from_secs(15);
const RETRY_PERIOD: Duration = Duration::from_secs(2);
/// How long the operator may take to start, sync and poll.
const SETTLE: Duration = Duration::from_secs(60);

/// An env without an operator (the tests start theirs) whose image has one tag, `v1`,
/// and the TagWatch [`TAGWATCH`] polling it every 10s.
async fn setup(prefix: &str) -> Env {
    let env = Env::builder(prefix)
        .tags(&[("v1", "2026-09-01 10:00:00")])
        .without_operator()
        .start()
        .await;
    env.apply_valid_secret().await;
    env.create_tagwatch(TAGWATCH, tagwatch::testing::env::spec(json!({})))
        .await;
    env
}

/// Starts an operator serving `env`, named `instance`, with `extra` flags.
fn operator(env: &Env, instance: &str, extra: &[&str]) -> Operator {
    let mut args = vec!["--instance", instance];
    args.extend_from_slice(extra);
    env.operator_process(&args)
}

/// Starts an operator taking part in leader election on `env`'s Lease.
fn candidate(env: &Env, instance: &str) -> Operator {
    operator(
        env,
        instance,
        &["--leader-elect", "--lease-namespace", env.name()],
    )
}

/// Waits until the TagWatch is Ready=True.
async fn wait_tagwatch_ready(env: &Env) {
    env.wait_for_ready(TAGWATCH, "True", "Succeeded", SETTLE)
        .await;
}

/// The NewTag events announcing `tag`.
async fn new_tag_events(env: &Env, tag: &str) -> Vec<Event> {
    let prefix = format!("new tag {tag} ");
    env.namespace
        .api::<Event>()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("NewTag"))
        .filter(|e| e.note.as_deref().is_some_and(|n| n.starts_with(&prefix)))
        .collect()
}

/// The metric names docs/operations.md documents: the first column of its metric table
/// (`tagwatch_` and `process_` names).
fn documented_metric_names() -> Vec<String> {
    let docs = include_str!("../../docs/operations.md");
    let mut names: Vec<String> = docs
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter(|rest| rest.starts_with("tagwatch_") || rest.starts_with("process_"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Scrapes until `check` accepts the metrics.
async fn scrape_until(operator: &Operator, what: &str, check: impl Fn(&Scrape) -> bool) -> Scrape {
    eventually(what, SETTLE, || async {
        let scrape = operator.scrape().await?;
        if check(&scrape) {
            Ok(scrape)
        } else {
            Err(format!("{:?}", scrape.samples))
        }
    })
    .await
}

fn succeeded_polls(scrape: &Scrape) -> f64 {
    scrape.value_or_zero("tagwatch_polls_total", &[("result", "Succeeded")])
}

fn ucloud_requests(scrape: &Scrape) -> f64 {
    scrape.value_or_zero("tagwatch_ucloud_requests_total", &[])
}

/// Waits until `operator` reports `tagwatch_leader 1`.
async fn wait_leading(operator: &Operator, what: &str, timeout: Duration) {
    eventually(what, timeout, || async {
        match operator.leader_gauge().await? {
            1.0 => Ok(()),
            other => Err(format!("leader gauge {other}")),
        }
    })
    .await
}

/// Waits until the emulator has answered exactly as many requests as `operator`
/// counted (and some): no other process sent any.
async fn wait_requests_all_from(operator: &Operator, emulator: &Emulator) {
    eventually("the emulator saw only this operator", SETTLE, || async {
        let counted = ucloud_requests(&operator.scrape().await?);
        let seen = emulator.stats().await["total"].as_f64().unwrap();
        (counted == seen && seen > 0.0)
            .then_some(())
            .ok_or(format!("operator {counted}, emulator {seen}"))
    })
    .await
}

/// Waits until exactly `count` NewTag events announce `tag`.
async fn wait_new_tag_events(env: &Env, tag: &str, count: usize) {
    eventually(
        &format!("{count} NewTag event(s) for {tag}"),
        SETTLE,
        || async {
            let n = new_tag_events(env, tag).await.len();
            (n == count).then_some(()).ok_or(format!("{n} events"))
        },
    )
    .await
}

#[tokio::test]
async fn metrics_are_parsed_documented_and_move_with_polls() {
    let env = setup("rt-metrics").await;
    let mut operator = operator(&env, "op-metrics", &[]);
    eventually("/readyz answers 200", SETTLE, || async {
        match operator.get("/readyz").await? {
            (200, _) => Ok(()),
            (status, body) => Err(format!("{status} {body}")),
        }
    })
    .await;
    assert_eq!(operator.get("/healthz").await.unwrap().0, 200);
    wait_tagwatch_ready(&env).await;

    let first = scrape_until(&operator, "the first poll is counted", |s| {
        succeeded_polls(s) >= 1.0
            && s.value("tagwatch_tagwatches", &[("ready", "True")]) == Some(1.0)
    })
    .await;
    let mut scraped = first.queried_names();
    scraped.sort();
    assert_eq!(
        scraped,
        documented_metric_names(),
        "the metrics served and those docs/operations.md documents differ"
    );
    assert_eq!(first.value("tagwatch_leader", &[]), Some(1.0));
    assert_eq!(first.value("tagwatch_tags_tracked", &[]), Some(1.0));
    let ok = [
        ("action", "GetImageTag"),
        ("result", "success"),
        ("ret_code", "0"),
        ("http_status", "200"),
    ];
    assert!(first.value_or_zero("tagwatch_ucloud_requests_total", &ok) >= 1.0);

    // The emulator saw exactly the requests the operator counted.
    wait_requests_all_from(&operator, &env.emulator).await;

    // A new tag moves the counters.
    let before = operator.scrape().await.unwrap();
    env.push("v2", None).await;
    env.annotate_poll(TAGWATCH).await;
    let after = scrape_until(&operator, "the new tag is counted", |s| {
        s.value("tagwatch_new_tags_total", &[]) == Some(1.0)
    })
    .await;
    assert!(succeeded_polls(&after) > succeeded_polls(&before));
    let count = |s: &Scrape, name: &str| s.value_or_zero(name, &[]);
    for histogram in [
        "tagwatch_poll_duration_seconds_count",
        "tagwatch_ucloud_request_duration_seconds_count",
        "tagwatch_ucloud_rate_limit_wait_seconds_count",
    ] {
        assert!(
            count(&after, histogram) > count(&before, histogram),
            "{histogram} did not move"
        );
    }
    scrape_until(&operator, "two tags are tracked", |s| {
        s.value("tagwatch_tags_tracked", &[]) == Some(2.0)
    })
    .await;
    assert_eq!(new_tag_events(&env, "v2").await.len(), 1);

    operator.signal("TERM");
    assert!(operator.wait_exit(SETTLE).await.success());
    assert_poll_lines_name_their_tagwatch(&operator, env.name(), &env.private_key);
}

/// Every poll log line (its result and each UCloud request) carries the TagWatch's
/// namespace and name in the `poll` span, and no line holds the private key.
fn assert_poll_lines_name_their_tagwatch(operator: &Operator, namespace: &str, private_key: &str) {
    let log = operator.log();
    assert!(!log.contains(private_key), "the private key was logged");
    let lines = operator.log_lines();
    let poll_lines: Vec<_> = lines
        .iter()
        .filter(|l| {
            matches!(
                l["fields"]["message"].as_str(),
                Some("poll succeeded" | "UCloud request")
            )
        })
        .collect();
    assert!(poll_lines.len() >= 4, "too few poll lines:\n{log}");
    for line in poll_lines {
        assert_eq!(line["span"]["name"], "poll", "{line}");
        assert_eq!(line["span"]["namespace"], namespace, "{line}");
        assert_eq!(line["span"]["tagwatch"], TAGWATCH, "{line}");
    }
}

/// A running candidate and its `--instance` name.
type Candidate = (&'static str, Operator);

/// Returns the two candidates as (leader, standby) once one of them leads.
async fn elect(a: Candidate, b: Candidate) -> (Candidate, Candidate) {
    let a_leads = eventually("one candidate leads", SETTLE, || async {
        match (a.1.leader_gauge().await?, b.1.leader_gauge().await?) {
            (1.0, 0.0) => Ok(true),
            (0.0, 1.0) => Ok(false),
            other => Err(format!("leader gauges {other:?}")),
        }
    })
    .await;
    if a_leads { (a, b) } else { (b, a) }
}

async fn assert_standby_ready(standby: &Operator) {
    let (status, body) = standby.get("/readyz").await.unwrap();
    assert_eq!((status, body.as_str()), (200, "ok: standby"));
}

#[tokio::test]
async fn only_the_leader_polls_and_sigkill_hands_over_without_duplicate_events() {
    let env = setup("rt-handover").await;
    let a = ("op-a", candidate(&env, "op-a"));
    let b = ("op-b", candidate(&env, "op-b"));
    let ((_, mut leader), (standby_name, standby)) = elect(a, b).await;
    wait_tagwatch_ready(&env).await;
    assert_standby_ready(&standby).await;

    // Only the leader polls: the emulator saw exactly the leader's requests.
    wait_requests_all_from(&leader, &env.emulator).await;
    let idle = standby.scrape().await.unwrap();
    assert_eq!(idle.value_or_zero("tagwatch_polls_total", &[]), 0.0);
    assert_eq!(ucloud_requests(&idle), 0.0);
    assert_eq!(idle.value("tagwatch_leader", &[]), Some(0.0));

    // The leader announces v2, then dies right after v3 was pushed.
    env.push("v2", None).await;
    env.annotate_poll(TAGWATCH).await;
    wait_new_tag_events(&env, "v2", 1).await;
    env.push("v3", None).await;
    let killed = Instant::now();
    leader.kill();

    let limit = LEASE_DURATION + RETRY_PERIOD * 2 + Duration::from_secs(2);
    wait_leading(&standby, "the standby takes over", limit + SETTLE).await;
    let takeover = killed.elapsed();
    eprintln!("takeover after SIGKILL of the leader: {takeover:?}");
    assert!(
        takeover <= limit,
        "takeover took {takeover:?}, more than {limit:?}"
    );

    // The new leader polls: v3 is announced once, by it, and v2 is not announced again.
    env.annotate_poll(TAGWATCH).await;
    wait_new_tag_events(&env, "v3", 1).await;
    let polls = succeeded_polls(&standby.scrape().await.unwrap());
    env.annotate_poll(TAGWATCH).await;
    scrape_until(&standby, "the new leader polls again", |s| {
        succeeded_polls(s) > polls
    })
    .await;
    let v3 = new_tag_events(&env, "v3").await;
    assert_eq!(v3.len(), 1, "{v3:?}");
    assert_eq!(v3[0].reporting_instance.as_deref(), Some(standby_name));
    assert_eq!(new_tag_events(&env, "v2").await.len(), 1);
}

#[tokio::test]
async fn sigterm_releases_the_lease_for_an_immediate_handover() {
    let env = setup("rt-release").await;
    let mut first = candidate(&env, "op-first");
    wait_leading(&first, "the first candidate leads", SETTLE).await;
    let second = candidate(&env, "op-second");
    eventually("the second candidate stands by", SETTLE, || async {
        match second.get("/readyz").await? {
            (200, body) if body == "ok: standby" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    wait_tagwatch_ready(&env).await;

    let stopped = Instant::now();
    first.signal("TERM");
    wait_leading(&second, "the second candidate takes over", LEASE_DURATION).await;
    let takeover = stopped.elapsed();
    eprintln!("takeover after SIGTERM of the leader: {takeover:?}");
    assert!(
        takeover < LEASE_DURATION / 2,
        "takeover after SIGTERM took {takeover:?}"
    );
    assert!(first.wait_exit(SETTLE).await.success());
    assert!(
        first.log().contains("released the lease"),
        "{}",
        first.log()
    );

    let lease = lease_spec(&env.namespace, "tagwatch-leader").await;
    let holder = lease.holder_identity.unwrap_or_default();
    assert!(holder.starts_with("op-second_"), "{holder}");
    assert_eq!(lease.lease_duration_seconds, Some(15));
    assert!(lease.lease_transitions >= Some(1));
}

/// The spec of the Lease `name`.
async fn lease_spec(namespace: &TestNamespace, name: &str) -> LeaseSpec {
    let lease = namespace.api::<Lease>().get(name).await.unwrap();
    lease.spec.expect("a Lease spec")
}

#[tokio::test]
async fn one_candidate_holds_the_lease_at_a_time() {
    let namespace = TestNamespace::new("rt-lease").await;
    let client = namespace.client();
    let lock = |identity: &str| {
        LeaseLock::new(
            client.clone(),
            namespace.name(),
            "lock",
            identity,
            LEASE_DURATION,
        )
    };
    let (mut x, mut y) = (lock("x"), lock("y"));
    let (rx, ry) = tokio::join!(x.try_acquire_or_renew(), y.try_acquire_or_renew());
    let (rx, ry) = (rx.unwrap(), ry.unwrap());
    let (holder, other, other_first) = match (&rx, &ry) {
        (Attempt::Held, _) => (&mut x, &mut y, ry),
        (_, Attempt::Held) => (&mut y, &mut x, rx),
        _ => panic!("nobody holds the lease: {rx:?} {ry:?}"),
    };
    assert_ne!(other_first, Attempt::Held, "both hold the lease");
    let holder_id = holder.identity().to_string();

    assert_eq!(holder.try_acquire_or_renew().await.unwrap(), Attempt::Held);
    assert_eq!(
        other.try_acquire_or_renew().await.unwrap(),
        Attempt::HeldBy(holder_id.clone())
    );
    other.release().await.unwrap(); // not the holder: nothing happens
    assert_eq!(holder.try_acquire_or_renew().await.unwrap(), Attempt::Held);

    holder.release().await.unwrap();
    assert_eq!(other.try_acquire_or_renew().await.unwrap(), Attempt::Held);
    let spec = lease_spec(&namespace, "lock").await;
    assert_eq!(spec.holder_identity.as_deref(), Some(other.identity()));
    assert_eq!(spec.lease_transitions, Some(1));
}

#[test]
fn leader_election_without_a_lease_namespace_is_a_usage_error() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tagwatch"))
        .args(["run", "--leader-elect", "--metrics-addr", "127.0.0.1:0"])
        .env_remove("POD_NAMESPACE")
        .env_remove("TAGWATCH_LEADER_ELECT")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if std::path::Path::new("/var/run/secrets/kubernetes.io/serviceaccount/namespace").exists() {
        return; // in a pod the namespace is known
    }
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--lease-namespace"), "{stderr}");
}
