//! The Python SDK baseline: CPU per poll of the official UCloud Python SDK polling the
//! benchmark's images (bench/python/sdk_poll.py), measured two ways after a warm-up poll:
//!
//! - **back to back**: [`MEASURED_POLLS`] polls in a tight loop, the loop at its
//!   cheapest (every poll finds the interpreter, the connection and the caches warm);
//! - **paced**: at the operator's poll rate, one poll every `interval / TagWatches`
//!   (as a script polling each of the configuration's images once per interval would
//!   run), at most [`MEASURED_POLLS`] of them. With fewer images than TagWatches
//!   (`--python-polls`), each image comes round more often; the rate stays the same.

use std::path::Path;
use std::time::Duration;

use testkit::Emulator;

use super::{Config, IMAGE_PREFIX, PRIVATE_KEY, PUBLIC_KEY, REPO};

/// Polls each measure makes at most: one pass over 100 or 200 images was too short a
/// measure (its CPU per poll moved by up to 2x between runs of the same configuration).
pub const MEASURED_POLLS: u32 = 1000;

/// How the baseline's polls follow each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// One after the other, [`MEASURED_POLLS`] of them.
    BackToBack,
    /// One every `interval / TagWatches`, as many as the TagWatches (at most
    /// [`MEASURED_POLLS`]).
    OncePerInterval,
}

/// CPU seconds per poll of the Python SDK polling `config.python_images` images in
/// turn, paced as `pace` says.
pub fn cpu_per_poll(python: &Path, emulator: &Emulator, config: &Config, pace: Pace) -> f64 {
    let script = testkit::paths::repo_file("bench/python/sdk_poll.py");
    let (polls, gap) = match pace {
        Pace::BackToBack => (MEASURED_POLLS, Duration::ZERO),
        Pace::OncePerInterval => (
            config.tagwatches.min(MEASURED_POLLS),
            config.interval / config.tagwatches.max(1),
        ),
    };
    let mut command = std::process::Command::new(python);
    command.arg(script).args([
        "--url",
        emulator.url(),
        "--public-key",
        PUBLIC_KEY,
        "--private-key",
        PRIVATE_KEY,
        "--repo",
        REPO,
        "--polls",
        &polls.to_string(),
        "--pace",
        &gap.as_secs_f64().to_string(),
    ]);
    for i in 0..config.python_images.min(config.tagwatches) {
        command.args(["--image", &format!("{IMAGE_PREFIX}{i}")]);
    }
    let output = command.output().expect("run the Python SDK baseline");
    assert!(
        output.status.success(),
        "the Python SDK baseline failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the baseline prints JSON");
    result["cpuSeconds"].as_f64().unwrap() / result["polls"].as_f64().unwrap()
}
