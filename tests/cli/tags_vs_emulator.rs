//! `tagwatch tags` and `uhub-emulator` agree end to end: the client lists every tag of an
//! image, newest first, through pages the emulator caps below the client's page size.

use std::process::Command;

use uhub_emulator::Emulator;

fn fixture(tags: usize, format: &str) -> String {
    let mut yaml = format!(
        "credentials: [{{publicKey: pub-agree, privateKey: pri-agree}}]\nmaxLimit: 7\nupdateTimeFormat: {format}\nimages:\n  - repo: team\n    image: web\n    projectId: org-agree\n    tags:\n"
    );
    for i in 0..tags {
        // Minutes apart, listed oldest first so that the order is the emulator's work.
        yaml.push_str(&format!(
            "      - {{name: v1.{i}.0, updateTime: {}, digest: 'sha256:{i:064x}'}}\n",
            1_790_000_000 + 60 * i as i64
        ));
    }
    yaml
}

async fn list_with_cli(url: &str, page_size: &str) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_tagwatch"))
        .args([
            "tags",
            "--repo",
            "team",
            "--image",
            "web",
            "--project-id",
            "org-agree",
        ])
        .args(["--page-size", page_size, "--output", "json"])
        .env("UCLOUD_ENDPOINT", url)
        .env("UCLOUD_PUBLIC_KEY", "pub-agree")
        .env("UCLOUD_PRIVATE_KEY", "pri-agree")
        .env_remove("UCLOUD_SECURITY_TOKEN")
        .output()
        .expect("run tagwatch tags");
    assert!(
        output.status.success(),
        "tagwatch tags failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

// The CLI runs as a blocking child process while the emulator serves on the runtime's
// other worker thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_lists_every_tag_newest_first_through_capped_pages() {
    for format in ["datetime", "unix"] {
        let emulator = Emulator::builder()
            .fixture_yaml(&fixture(45, format))
            .unwrap()
            .spawn()
            .await
            .unwrap();
        let listed = list_with_cli(&emulator.url(), "20").await;
        assert_eq!(listed["tagCount"], 45, "{format}");
        let names: Vec<&str> = listed["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = (0..45).rev().map(|i| format!("v1.{i}.0")).collect();
        assert_eq!(names, expected, "{format}");
        let newest = &listed["tags"][0];
        assert_eq!(newest["digest"], format!("sha256:{:064x}", 44));
        match format {
            // Unix times arrive as JSON numbers and are kept as their text.
            "unix" => assert_eq!(newest["updateTime"], (1_790_000_000 + 60 * 44).to_string()),
            _ => assert!(newest["updateTime"].as_str().unwrap().contains(' ')),
        }
        let stats = emulator.state().stats().snapshot();
        // 45 tags in pages of at most 7: 7 requests, all successful.
        let body = serde_json::to_value(&stats).unwrap();
        assert_eq!(body["byAction"]["GetImageTag"], 7, "{format}: {body}");
        assert_eq!(body["byRetCode"]["0"], 7, "{format}: {body}");
    }
}
