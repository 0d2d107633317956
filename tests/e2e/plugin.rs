//! The cluster commands as a user runs them: the control plane's real kubectl finds the
//! `kubectl-tagwatch` link to the built `tagwatch` binary on `PATH`, so that
//! `kubectl tagwatch get|describe|reconcile|suspend|resume|events` runs against an
//! [`Env`]. Each command's output and exit code; `reconcile --wait` returning once the
//! operator polled, with its outcome; suspend and resume in status and in the
//! emulator's request count; the progress line only on a terminal (`script` from
//! util-linux gives the command a pseudo-terminal).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use tagwatch::testing::env::{
    Env, PROMPTLY, ready, shared_control_plane, table_cells, tagwatch_binary,
};
use testkit::{TestNamespace, eventually};

/// A directory holding `kubectl-tagwatch`, a link to the built binary, to put on `PATH`.
struct Plugin {
    dir: tempfile::TempDir,
}

impl Plugin {
    fn install() -> Plugin {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::os::unix::fs::symlink(tagwatch_binary(), dir.path().join("kubectl-tagwatch"))
            .expect("linking kubectl-tagwatch");
        Plugin { dir }
    }

    /// `PATH` with the plugin's directory first.
    fn path(&self) -> std::ffi::OsString {
        let mut paths = vec![self.dir.path().to_path_buf()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(paths).expect("a PATH")
    }

    /// `kubectl tagwatch ARGS` (the real kubectl, KUBECONFIG in its environment).
    fn command(&self, args: &[&str]) -> Command {
        let mut kubectl = shared_control_plane().kubectl_env();
        kubectl.env("PATH", self.path()).arg("tagwatch").args(args);
        kubectl
    }

    fn run(&self, args: &[&str]) -> Run {
        let output = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("running kubectl tagwatch");
        Run::from(args, output)
    }

    /// Runs `kubectl tagwatch ARGS` and checks that it succeeded.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "{run}");
        run.stdout
    }
}

/// What a command printed and how it ended.
struct Run {
    command: String,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(args: &[&str], output: Output) -> Run {
        Run {
            command: format!("kubectl tagwatch {}", args.join(" ")),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} exited with {}\nstdout:\n{}\nstderr:\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// The cells of an aligned table's lines (no cell of these tests holds two spaces).
fn rows(table: &str) -> Vec<Vec<String>> {
    table_cells(table)
}

/// The real kubectl's output of `args` (with `-n namespace`), parsed as JSON or YAML.
fn kubectl_document(namespace: &str, args: &[&str], yaml: bool) -> Value {
    let mut all = vec!["-n", namespace];
    all.extend_from_slice(args);
    let text = shared_control_plane().kubectl_stdout(&all);
    if yaml {
        serde_norway::from_str(&text).expect("kubectl's YAML")
    } else {
        serde_json::from_str(&text).expect("kubectl's JSON")
    }
}

/// The value of `key:` in `describe`'s output (`key` with its indentation).
fn field(description: &str, key: &str) -> String {
    description
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key:?} in:\n{description}"))
        .trim()
        .to_string()
}

const HEADER: [&str; 8] = [
    "NAME",
    "IMAGE",
    "LATEST",
    "TAGS",
    "READY",
    "REASON",
    "LAST SYNC",
    "AGE",
];

#[tokio::test]
async fn get_describe_and_events_through_kubectl() {
    let env = Env::start("plugin-get").await;
    let ns = env.name().to_string();
    // An interval no test waits for: nothing writes status while the outputs are compared.
    env.ready_tagwatch("web", json!({"interval": "1h"})).await;
    env.create_tagwatch(
        "broken",
        tagwatch::testing::env::spec(json!({"interval": "1h", "secretRef": {"name": "absent"}})),
    )
    .await;
    env.wait_for_ready("broken", "False", "CredentialsNotFound", PROMPTLY)
        .await;
    let plugin = Plugin::install();

    // get: the table, one row per TagWatch, sorted by name.
    let table = rows(&plugin.ok(&["get", "-n", &ns]));
    assert_eq!(table[0], HEADER, "{table:?}");
    assert_eq!(table.len(), 3, "{table:?}");
    assert_eq!(
        table[1][..7],
        [
            "broken",
            "team/web",
            "-",
            "-",
            "False",
            "CredentialsNotFound",
            "-"
        ],
        "{table:?}"
    );
    assert_eq!(
        table[2][..6],
        ["web", "team/web", "v1.2.0", "3", "True", "Succeeded"],
        "{table:?}"
    );

    // -o wide adds whether it is suspended, the latest image and the Ready message; -A
    // the namespace.
    let wide = rows(&plugin.ok(&["get", "web", "-n", &ns, "-o", "wide"]));
    assert_eq!(wide[0][..8], HEADER);
    assert_eq!(wide[0][8..], ["SUSPENDED", "LATEST IMAGE", "MESSAGE"]);
    assert_eq!(
        wide[1][8..],
        [
            "False",
            "uhub.service.ucloud.cn/team/web:v1.2.0",
            "found 3 tags, latest v1.2.0"
        ]
    );
    let everywhere = rows(&plugin.ok(&["get", "-A"]));
    assert_eq!(everywhere[0][0], "NAMESPACE");
    assert_eq!(everywhere[0][1..], HEADER);
    let ours: Vec<&Vec<String>> = everywhere.iter().filter(|r| r[0] == ns).collect();
    assert_eq!(ours.len(), 2, "{everywhere:?}");
    let selected = plugin.run(&["get", "-n", &ns, "-l", "no-such=label"]);
    assert_eq!(
        (selected.code, selected.stdout.as_str()),
        (0, ""),
        "{selected}"
    );
    assert_eq!(
        selected.stderr,
        format!("No resources found in {ns} namespace.\n")
    );

    // -o json and -o yaml: what kubectl get prints, for one object and for a List.
    for (args, yaml) in [
        (&["get", "web", "-o", "json"][..], false),
        (&["get", "-o", "json"], false),
        (&["get", "web", "-o", "yaml"], true),
        (&["get", "-o", "yaml"], true),
    ] {
        let mut ours = args.to_vec();
        ours.extend(["-n", &ns]);
        let text = plugin.ok(&ours);
        let printed: Value = if yaml {
            serde_norway::from_str(&text).unwrap()
        } else {
            serde_json::from_str(&text).unwrap()
        };
        let mut kubectl_args = vec!["get", "tagwatches"];
        kubectl_args.extend_from_slice(&args[1..]);
        let expected = kubectl_document(&ns, &kubectl_args, yaml);
        assert_eq!(printed, expected, "kubectl tagwatch {}", args.join(" "));
    }
    let one: Value =
        serde_json::from_str(&plugin.ok(&["get", "web", "-n", &ns, "-o", "json"])).unwrap();
    assert_eq!(one["kind"], "TagWatch");
    assert_eq!(
        one["status"]["latestImage"],
        "uhub.service.ucloud.cn/team/web:v1.2.0"
    );
    assert!(one["metadata"].get("managedFields").is_none());

    // describe: the spec, status, conditions, the newest tags one row each, events.
    let description = plugin.ok(&["describe", "web", "-n", &ns]);
    for (key, value) in [
        ("Namespace", ns.clone()),
        ("  Image", "team/web".to_string()),
        ("  Suspended", "false".to_string()),
        (
            "  Latest image",
            "uhub.service.ucloud.cn/team/web:v1.2.0".to_string(),
        ),
        ("  Latest digest", format!("sha256:{:064x}", 1)),
        ("  Tags", "3 tracked of 3 in UHub".to_string()),
    ] {
        assert_eq!(field(&description, key), value, "{key}:\n{description}");
    }
    for expected in [
        "Tags (newest 3 of 3):\n  TAG     UPDATED              DIGEST\n".to_string(),
        format!("  v1.1.0  2026-10-01 10:00:00  sha256:{:064x}\n", 2),
        "Pending notifications (0):\n  <none>\n".to_string(),
        "Events (latest 1 of 1):\n".to_string(),
    ] {
        assert!(
            description.contains(&expected),
            "lacks {expected:?}:\n{description}"
        );
    }
    let conditions = description
        .lines()
        .skip_while(|l| *l != "Conditions:")
        .nth(2)
        .unwrap();
    assert_eq!(
        rows(conditions)[0],
        [
            "Ready",
            "True",
            "Succeeded",
            &rows(conditions)[0][3],
            "found 3 tags, latest v1.2.0"
        ]
    );

    // events: the operator's events, oldest first.
    let events = rows(&plugin.ok(&["events", "web", "-n", &ns]));
    assert_eq!(events[0], ["LAST SEEN", "TYPE", "REASON", "MESSAGE"]);
    assert_eq!(
        events[1][1..],
        ["Normal", "InitialSync", "found 3 tags, latest v1.2.0"]
    );
    assert_eq!(events.len(), 2, "{events:?}");
    let broken = rows(&plugin.ok(&["events", "broken", "-n", &ns]));
    assert_eq!(broken[1][1..3], ["Warning", "SyncFailed"], "{broken:?}");

    // Failures and their codes.
    let missing = plugin.run(&["get", "missing", "-n", &ns]);
    assert_eq!(missing.code, 14, "{missing}");
    assert_eq!(
        missing.stderr,
        format!("error: TagWatch {ns}/missing not found\n")
    );
    for args in [
        &["describe", "missing"][..],
        &["events", "missing"],
        &["reconcile", "missing"],
        &["suspend", "missing"],
    ] {
        let mut all = args.to_vec();
        all.extend(["-n", &ns]);
        assert_eq!(plugin.run(&all).code, 14, "{args:?}");
    }
    let context = plugin.run(&["get", "-n", &ns, "--context", "no-such-context"]);
    assert_eq!(context.code, 11, "{context}");
    assert!(
        context.stderr.starts_with("error: kubeconfig: "),
        "{context}"
    );
    let usage = plugin.run(&["get", "web", "-A"]);
    assert_eq!(usage.code, 2, "{usage}");
    assert!(
        usage.stderr.contains("Usage: kubectl tagwatch get"),
        "{usage}"
    );
}

#[tokio::test]
async fn kubeconfig_context_and_namespace_are_read_as_kubectl_reads_them() {
    let env = Env::start("plugin-config").await;
    let ns = env.name().to_string();
    env.ready_tagwatch("web", json!({"interval": "1h"})).await;
    let plugin = Plugin::install();

    // A copy of the kubeconfig whose current context has the env's namespace, and a
    // second context without one.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::copy(env.kubeconfig(), &config).unwrap();
    let kubectl = |args: &[&str]| {
        let status = shared_control_plane()
            .kubectl_env()
            .env("KUBECONFIG", &config)
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "kubectl {args:?}");
    };
    let current = String::from_utf8(
        shared_control_plane()
            .kubectl_env()
            .env("KUBECONFIG", &config)
            .args(["config", "current-context"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let current = current.trim();
    let cluster = format!("--cluster={}", current.split('@').nth(1).unwrap_or(current));
    let user = format!("--user={}", current.split('@').next().unwrap_or(current));
    kubectl(&[
        "config",
        "set-context",
        "--current",
        &format!("--namespace={ns}"),
    ]);
    kubectl(&[
        "config",
        "set-context",
        "elsewhere",
        &cluster,
        &user,
        "--namespace=kube-system",
    ]);

    let listed = |command: &mut Command| {
        let output = command.stdin(Stdio::null()).output().unwrap();
        let run = Run::from(&["get"], output);
        assert_eq!(run.code, 0, "{run}");
        rows(&run.stdout)
            .iter()
            .skip(1)
            .map(|r| r[0].clone())
            .collect::<Vec<_>>()
    };
    // The context's namespace is the default one.
    let mut via_env = plugin.command(&["get"]);
    via_env.env("KUBECONFIG", &config);
    assert_eq!(listed(&mut via_env), ["web"]);
    // --kubeconfig after the plugin's name, no KUBECONFIG.
    let mut via_flag = plugin.command(&["get", "--kubeconfig", config.to_str().unwrap()]);
    via_flag.env_remove("KUBECONFIG");
    assert_eq!(listed(&mut via_flag), ["web"]);
    // --context switches to another context and so to its namespace; -n wins over both.
    let mut other = plugin.command(&["get", "--context", "elsewhere"]);
    other.env("KUBECONFIG", &config);
    let output = other.stdin(Stdio::null()).output().unwrap();
    assert_eq!(
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned()
        ),
        (
            Some(0),
            "No resources found in kube-system namespace.\n".to_string()
        )
    );
    let mut named = plugin.command(&["get", "--context", "elsewhere", "-n", &ns]);
    named.env("KUBECONFIG", &config);
    assert_eq!(listed(&mut named), ["web"]);
    // No kubeconfig at all, and not in a cluster.
    let mut none = plugin.command(&["get"]);
    none.env("KUBECONFIG", dir.path().join("absent"));
    let output = none.stdin(Stdio::null()).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(11),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Lines a child prints, as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// Kills `child` (kubectl exec'd the plugin, so this is the plugin) and reaps it.
fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn reconcile_waits_for_the_poll_and_prints_its_outcome() {
    let env = Env::start("plugin-reconcile").await;
    let ns = env.name().to_string();
    // Only a requested poll can explain a new tag in status.
    env.ready_tagwatch("web", json!({"interval": "1h"})).await;
    let plugin = Plugin::install();

    let mut watch = plugin
        .command(&["events", "web", "-n", &ns, "--watch"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting events --watch");
    let watched = lines_of(&mut watch);

    env.push("v1.3.0", None).await;
    let before = env.requests().await;
    let run = plugin.run(&["reconcile", "web", "-n", &ns, "--wait"]);
    assert_eq!(run.code, 0, "{run}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "reconcile requested: TagWatch {ns}/web (tagwatch.dev/reconcile-requested-at="
        )),
        "{run}"
    );
    assert_eq!(
        lines[1..],
        [
            "poll handled: Ready=True Succeeded: found 4 tags, latest v1.3.0",
            "latest tag: v1.3.0",
            "latest image: uhub.service.ucloud.cn/team/web:v1.3.0",
        ],
        "{run}"
    );
    assert!(
        !run.stdout.contains("waiting for"),
        "no progress line off a terminal: {run}"
    );
    // It returned after the poll: status already has the tag, the request was made.
    let tw = env.tagwatches().get("web").await.unwrap();
    let status = tw.status.as_ref().unwrap();
    assert_eq!(status.latest_tag.as_deref(), Some("v1.3.0"));
    let requested =
        tw.metadata.annotations.as_ref().unwrap()["tagwatch.dev/reconcile-requested-at"].clone();
    assert!(lines[0].ends_with(&format!("={requested})")), "{run}");
    assert_eq!(
        status.last_handled_reconcile_at.as_deref(),
        Some(requested.as_str())
    );
    assert_eq!(env.requests().await, before + 1);

    // events --watch printed the header, the initial sync, then the new tag.
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + PROMPTLY;
    while !seen.iter().any(|l: &String| l.contains("LatestTagChanged")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match watched.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("events --watch printed only {seen:?}"),
        }
    }
    kill(&mut watch);
    let reasons: Vec<String> = rows(&seen.join("\n"))
        .iter()
        .map(|r| r[2].clone())
        .collect();
    assert_eq!(
        reasons,
        ["REASON", "InitialSync", "NewTag", "LatestTagChanged"],
        "{seen:?}"
    );

    // Without --wait, off a terminal: the request only.
    let run = plugin.run(&["reconcile", "web", "-n", &ns]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.stdout.lines().count(), 1, "{run}");

    // A failed poll: its reason, and exit code 15.
    env.apply_secret(tagwatch::testing::env::SECRET, &env.public_key, "wrong")
        .await;
    let failed = plugin.run(&["reconcile", "web", "-n", &ns, "--wait"]);
    assert_eq!(failed.code, 15, "{failed}");
    assert!(
        failed
            .stdout
            .contains("poll handled: Ready=False AuthenticationFailed: "),
        "{failed}"
    );
    assert!(
        failed.stdout.contains("latest tag: v1.3.0"),
        "the last good status is kept: {failed}"
    );
    assert_eq!(
        failed.stderr,
        format!("error: the poll of TagWatch {ns}/web failed: AuthenticationFailed\n")
    );

    // Nobody serves a TagWatch of a namespace without an operator: 17 after --timeout.
    let unserved = TestNamespace::new_in(shared_control_plane(), "plugin-unserved").await;
    tagwatch::testing::env::create_tagwatch(
        &unserved.api(),
        "web",
        tagwatch::testing::env::spec(json!({})),
    )
    .await;
    let timed_out = plugin.run(&[
        "reconcile",
        "web",
        "-n",
        unserved.name(),
        "--wait",
        "--timeout",
        "2s",
    ]);
    assert_eq!(timed_out.code, 17, "{timed_out}");
    assert!(
        timed_out
            .stderr
            .contains("did not handle the request within 2s"),
        "{timed_out}"
    );
    let described = plugin.ok(&["describe", "web", "-n", unserved.name()]);
    assert!(described.contains("No status yet"), "{described}");
}

#[tokio::test]
async fn the_progress_line_shows_only_on_a_terminal() {
    let env = Env::start("plugin-tty").await;
    let ns = env.name().to_string();
    env.ready_tagwatch("web", json!({"interval": "1h"})).await;
    let plugin = Plugin::install();
    let script = which("script");

    // Under a pseudo-terminal: --wait is the default, and the progress line is drawn
    // (a spinner redrawn in place, then erased) before the outcome.
    let command_line = format!("kubectl tagwatch reconcile web -n {ns}");
    let output = Command::new(&script)
        .args([
            "--quiet",
            "--return",
            "--command",
            &command_line,
            "/dev/null",
        ])
        .env("PATH", plugin.path())
        .env("KUBECONFIG", env.kubeconfig())
        .stdin(Stdio::null())
        .output()
        .expect("running script");
    let transcript = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{transcript}");
    assert!(
        transcript.contains(&format!(
            "waiting for the operator to poll TagWatch {ns}/web ("
        )),
        "{transcript:?}"
    );
    assert!(
        transcript.contains("\r\x1b[2K"),
        "redrawn in place: {transcript:?}"
    );
    assert!(
        transcript.contains("poll handled: Ready=True Succeeded: found 3 tags, latest v1.2.0"),
        "{transcript:?}"
    );

    // The same to a pipe: no --wait unless asked, and never a progress line.
    let piped = plugin.run(&["reconcile", "web", "-n", &ns]);
    assert_eq!(piped.stdout.lines().count(), 1, "{piped}");
    let waited = plugin.run(&["reconcile", "web", "-n", &ns, "--wait"]);
    assert_eq!(waited.code, 0, "{waited}");
    assert!(
        !waited.stdout.contains("waiting for") && !waited.stdout.contains('\x1b'),
        "{waited}"
    );
    assert!(
        waited.stdout.contains("poll handled: Ready=True"),
        "{waited}"
    );
}

/// The path of `tool` on `PATH` (`make test-deps` installs it).
fn which(tool: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(tool))
        .find(|path| Path::new(path).is_file())
        .unwrap_or_else(|| panic!("{tool} is not on PATH: run `make test-deps`"))
}

#[tokio::test]
async fn suspend_and_resume_through_kubectl() {
    let env = Env::start("plugin-suspend").await;
    let ns = env.name().to_string();
    env.ready_tagwatch("web", json!({})).await;
    env.create_tagwatch(
        "api",
        tagwatch::testing::env::spec(json!({"interval": "1h"})),
    )
    .await;
    env.wait_for_ready("api", "True", "Succeeded", PROMPTLY)
        .await;
    let plugin = Plugin::install();
    // Right after a poll the next one is an interval away: no poll is in flight.
    let polled = env.request_poll("web").await;

    assert_eq!(
        plugin.ok(&["suspend", "web", "-n", &ns]),
        format!("TagWatch {ns}/web suspended\n")
    );
    let flat = env.requests().await;
    let suspended = env.tagwatches().get("web").await.unwrap();
    assert!(suspended.spec.suspend);
    let description = plugin.ok(&["describe", "web", "-n", &ns]);
    assert_eq!(field(&description, "  Suspended"), "true", "{description}");
    let suspended_column = |plugin: &Plugin| {
        let wide = rows(&plugin.ok(&["get", "web", "-n", &ns, "-o", "wide"]));
        assert_eq!(wide[0][8], "SUSPENDED", "{wide:?}");
        wide[1][8].clone()
    };
    assert_eq!(suspended_column(&plugin), "True");
    let refused = plugin.run(&["reconcile", "web", "-n", &ns, "--wait"]);
    assert_eq!(refused.code, 16, "{refused}");
    assert!(refused.stderr.contains("is suspended"), "{refused}");
    // More than one interval (10 s, plus up to 10% jitter) without a request.
    env.no_requests_throughout(flat, Duration::from_secs(15))
        .await;
    let kept = env.tagwatches().get("web").await.unwrap();
    assert_eq!(kept.status, polled.status, "status is kept while suspended");

    assert_eq!(
        plugin.ok(&["resume", "web", "-n", &ns]),
        format!("TagWatch {ns}/web resumed\n")
    );
    let resumed = env.tagwatches().get("web").await.unwrap();
    assert!(!resumed.spec.suspend);
    assert_eq!(suspended_column(&plugin), "False");
    let tw = env.wait_observed("web", resumed.metadata.generation).await;
    assert!(env.requests().await > flat);
    assert_eq!(ready(&tw).unwrap().status, "True");

    // --all: every TagWatch of the namespace.
    let all = plugin.ok(&["suspend", "--all", "-n", &ns]);
    assert_eq!(
        all,
        format!("TagWatch {ns}/api suspended\nTagWatch {ns}/web suspended\n")
    );
    for name in ["api", "web"] {
        assert!(
            env.tagwatches().get(name).await.unwrap().spec.suspend,
            "{name}"
        );
    }
    let all = plugin.ok(&["resume", "--all", "-n", &ns]);
    assert_eq!(
        all,
        format!("TagWatch {ns}/api resumed\nTagWatch {ns}/web resumed\n")
    );
    eventually("both resumed", PROMPTLY, || async {
        let list = env
            .tagwatches()
            .list(&Default::default())
            .await
            .map_err(|e| e.to_string())?;
        list.items
            .iter()
            .all(|tw| !tw.spec.suspend)
            .then_some(())
            .ok_or_else(|| "still suspended".to_string())
    })
    .await;
}
