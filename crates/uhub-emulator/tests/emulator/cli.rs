//! The `uhub-emulator` command line contract: the `listening on` line, port 0, fixture
//! errors, the generated credential without a fixture, and a clean exit on SIGTERM and
//! SIGINT.

use std::process::{Command, Output, Stdio};

use testkit::emulator::{Emulator, post_form, signed};

const FIXTURE: &str = "credentials:\n  - {publicKey: p, privateKey: s}\n";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_uhub-emulator"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run uhub-emulator")
}

fn failure(args: &[&str]) -> String {
    let output = run(args);
    assert!(!output.status.success(), "{args:?} should fail");
    assert!(output.stdout.is_empty(), "nothing on stdout when failing");
    String::from_utf8(output.stderr).unwrap()
}

#[tokio::test]
async fn prints_the_listening_url_of_a_free_port_and_serves_there() {
    let emu = Emulator::start_binary(FIXTURE);
    let addr = emu.addr();
    assert_eq!(emu.url(), format!("http://127.0.0.1:{}", addr.port()));
    assert_ne!(addr.port(), 0);
    let answer = post_form(emu.url(), &signed(&[("Action", "GetRepo")], "p", "s")).await;
    assert_eq!(answer.body["RetCode"], 0);
    assert_eq!(answer.body["TotalCount"], 0);
    assert!(
        emu.stderr().contains("serving the UHub API"),
        "logs go to stderr"
    );
}

#[tokio::test]
async fn without_a_fixture_it_starts_empty_with_a_generated_credential() {
    let emu = Emulator::start_binary_empty();
    let (public_key, private_key) = emu.generated_credential();
    assert!(public_key.starts_with("pub-") && private_key.starts_with("pri-"));
    let params = [("Action", "GetRepo")];
    let ok = post_form(emu.url(), &signed(&params, &public_key, &private_key)).await;
    assert_eq!(ok.body["RetCode"], 0);
    assert_eq!(ok.body["RepoSet"], serde_json::json!([]));
    let wrong = post_form(emu.url(), &signed(&params, &public_key, "pri-guess")).await;
    assert_eq!(wrong.body["RetCode"], 171);
}

#[test]
fn exits_cleanly_on_sigterm_and_sigint() {
    for signal in ["TERM", "INT"] {
        let mut emu = Emulator::start_binary(FIXTURE);
        let status = emu.signal_and_wait(signal);
        assert_eq!(
            status.code(),
            Some(0),
            "SIG{signal}: {status:?}\n{}",
            emu.stderr()
        );
        assert!(emu.stderr().contains(&format!("SIG{signal} received")));
    }
}

#[test]
fn fixture_errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let stderr = failure(&["--fixture", missing.to_str().unwrap()]);
    assert!(
        stderr.contains("cannot read fixture file") && stderr.contains("missing.yaml"),
        "{stderr}"
    );

    let bad = dir.path().join("bad.yaml");
    let yaml = "credentials:\n  - {publicKey: p, privateKey: s}\nimages:\n  - {repo: r, image: i, tags: [{name: t, updateTime: later}]}\n";
    std::fs::write(&bad, yaml).unwrap();
    let stderr = failure(&["--fixture", bad.to_str().unwrap()]);
    assert!(
        stderr.contains(
            "bad.yaml: invalid fixture: images[0].tags[0].updateTime: \"later\" is not a time"
        ),
        "{stderr}"
    );

    std::fs::write(&bad, "credentials: [\n").unwrap();
    let stderr = failure(&["--fixture", bad.to_str().unwrap()]);
    assert!(stderr.contains("bad.yaml: invalid fixture: "), "{stderr}");
}

#[test]
fn bad_listen_addresses_and_arguments_fail() {
    let stderr = failure(&["--listen", "not-an-address"]);
    assert!(
        stderr.contains("cannot listen on not-an-address"),
        "{stderr}"
    );
    let stderr = failure(&["--port", "1"]);
    assert!(stderr.contains("--port"), "{stderr}");
}

#[test]
fn help_describes_the_options() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("--listen <ADDR:PORT>") && help.contains("--fixture <FILE>"),
        "{help}"
    );
}
