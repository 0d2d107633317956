//! Unit tests of fixture parsing and checking.

use super::*;

const ISSUE_EXAMPLE: &str = r#"
credentials:
  - publicKey: "pub-1"
    privateKey: "pri-1"
maxLimit: 50
updateTimeFormat: datetime
images:
  - repo: team
    image: web
    projectId: org-1
    tags:
      - name: v1.0.0
        updateTime: "2026-11-01 08:00:00"
        digest: "sha256:abc"
      - name: v1.1.0
        updateTime: 1795773600
      - name: v1.2.0
"#;

fn invalid_message(yaml: &str) -> String {
    match Fixture::from_yaml(yaml) {
        Err(FixtureError::Invalid { message, .. }) => message,
        other => panic!("expected an invalid fixture, got {other:?}"),
    }
}

fn minimal(images: &str) -> String {
    format!("credentials:\n  - {{publicKey: p, privateKey: s}}\n{images}")
}

#[test]
fn parses_the_documented_format() {
    let f = Fixture::from_yaml(ISSUE_EXAMPLE).unwrap();
    assert_eq!(f.credentials, [Credential::new("pub-1", "pri-1")]);
    assert_eq!(f.max_limit, Some(50));
    assert_eq!(f.update_time_format, UpdateTimeFormat::Datetime);
    let image = &f.images[0];
    assert_eq!((image.repo.as_str(), image.image.as_str()), ("team", "web"));
    assert_eq!(image.project_id.as_deref(), Some("org-1"));
    assert_eq!(image.tags[0].digest.as_deref(), Some("sha256:abc"));
    assert_eq!(
        image.tags[0].update_time.as_ref().unwrap().unix_seconds(),
        Some(1_793_491_200)
    );
    assert_eq!(
        image.tags[1].update_time,
        Some(TimeValue::Number(1_795_773_600))
    );
    assert_eq!(image.tags[2].update_time, None);
}

#[test]
fn defaults_for_optional_settings() {
    let f = Fixture::from_yaml(&minimal("")).unwrap();
    assert_eq!(f.max_limit, None);
    assert_eq!(f.update_time_format, UpdateTimeFormat::Datetime);
    assert!(f.images.is_empty());
    assert_eq!(f.order, TagOrder::Newest, "as UHub serves them");
    let f = Fixture::from_yaml(&minimal("updateTimeFormat: unix\n")).unwrap();
    assert_eq!(f.update_time_format, UpdateTimeFormat::Unix);
    for (text, order) in [
        ("newest", TagOrder::Newest),
        ("oldest", TagOrder::Oldest),
        ("name", TagOrder::Name),
    ] {
        let f = Fixture::from_yaml(&minimal(&format!("order: {text}\n"))).unwrap();
        assert_eq!(f.order, order);
    }
    let message = invalid_message(&minimal("order: random\n"));
    assert!(message.contains("order"), "{message}");
}

#[test]
fn unknown_keys_and_values_are_errors_that_name_them() {
    let msg = invalid_message(&minimal("maxLimt: 5\n"));
    assert!(msg.contains("maxLimt"), "{msg}");
    let msg = invalid_message(&minimal("updateTimeFormat: iso\n"));
    assert!(msg.contains("iso") && msg.contains("datetime"), "{msg}");
    let msg = invalid_message(&minimal(
        "images:\n  - {repo: a, image: b, tags: [{nmae: x}]}\n",
    ));
    assert!(msg.contains("nmae") && msg.contains("images[0]"), "{msg}");
}

#[test]
fn inconsistent_content_is_an_error_that_says_where() {
    let cases = [
        ("credentials: []\n", "credentials: at least one"),
        (
            "credentials:\n  - {publicKey: p, privateKey: s}\n  - {publicKey: p, privateKey: t}\n",
            "credentials[1]: publicKey \"p\" is listed twice",
        ),
        (
            "credentials:\n  - {publicKey: p, privateKey: \"\"}\n",
            "credentials[0]: publicKey and privateKey must not be empty",
        ),
        (&minimal("maxLimit: 0\n"), "maxLimit: must be at least 1"),
        (
            &minimal("images:\n  - {repo: a, image: b}\n  - {repo: a, image: b}\n"),
            "images[1]: image \"a/b\" is listed twice",
        ),
        (
            &minimal("images:\n  - {repo: \"\", image: b}\n"),
            "images[0].repo: must not be empty",
        ),
        (
            &minimal("images:\n  - {repo: a, image: b, projectId: \"\"}\n"),
            "images[0].projectId: must not be empty",
        ),
        (
            &minimal("images:\n  - {repo: a, image: b, tags: [{name: x}, {name: x}]}\n"),
            "images[0].tags[1]: tag \"x\" is listed twice",
        ),
        (
            &minimal("images:\n  - {repo: a, image: b, tags: [{name: x, updateTime: soon}]}\n"),
            "images[0].tags[0].updateTime: \"soon\" is not a time",
        ),
    ];
    for (yaml, expected) in cases {
        let msg = invalid_message(yaml);
        assert!(
            msg.starts_with(expected),
            "{msg:?} should start with {expected:?}"
        );
    }
}

#[test]
fn empty_and_unreadable_files_are_explained() {
    let msg = invalid_message("  \n");
    assert!(msg.contains("empty"), "{msg}");
    let missing = std::path::Path::new("/nonexistent/dir/fixture.yaml");
    let err = Fixture::load(missing).unwrap_err();
    assert!(matches!(err, FixtureError::Read { .. }));
    assert!(
        err.to_string().contains("/nonexistent/dir/fixture.yaml"),
        "{err}"
    );
}

#[test]
fn load_names_the_file_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "credentials: 5\n").unwrap();
    let err = Fixture::load(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: invalid fixture: ", path.display())),
        "{err}"
    );
}

#[test]
fn time_values_accept_the_known_formats() {
    let secs = 1_795_773_600;
    for value in [
        TimeValue::Number(secs),
        TimeValue::Number(secs * 1000),
        TimeValue::Text("2026-11-27 18:00:00".into()),
        TimeValue::Text("2026-11-27T10:00:00Z".into()),
        TimeValue::Text(secs.to_string()),
    ] {
        assert_eq!(value.unix_seconds(), Some(secs), "{value:?}");
    }
    let err = TimeValue::Number(-1).require_unix_seconds().unwrap_err();
    assert!(err.starts_with("-1 is not a time"), "{err}");
}

#[test]
fn debug_output_hides_private_keys() {
    let f = Fixture::from_yaml(ISSUE_EXAMPLE).unwrap();
    let shown = format!("{f:?}");
    assert!(
        shown.contains("pub-1") && !shown.contains("pri-1"),
        "{shown}"
    );
    let generated = Credential::generate();
    assert!(generated.public_key.starts_with("pub-"));
    assert!(generated.private_key.starts_with("pri-"));
    assert_ne!(generated, Credential::generate());
}
