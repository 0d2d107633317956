//! The reliability suite: tags are pushed to UHub (the emulator) at a steady rate while
//! disruptions follow a seeded random schedule (UHub faults: RetCode 153 and 150, HTTP
//! 502, latency beyond `spec.timeout`, dropped connections; the operator killed with
//! SIGKILL and started again; the apiserver restarted). Once pushing stops and UHub is
//! healthy, every TagWatch's status must match the tags UHub serves, and every pushed
//! tag must have produced exactly one NewTag event on each TagWatch of its image.
//!
//! Settings, from the environment (whole numbers):
//! - `TAGWATCH_RELIABILITY_SECONDS`: how long tags are pushed under disruption (60);
//! - `TAGWATCH_RELIABILITY_TAGWATCHES`: how many TagWatches, two per image (6);
//! - `TAGWATCH_RELIABILITY_SEED`: draws the disruption schedule and the images pushed
//!   to; random unless set, and printed, so that a failing run's schedule can be
//!   replayed.
//!
//! Pushes go to random images at one tag per image per interval on average, so that a
//! poll rarely finds more new tags than are announced one by one.
//! `make bench-faults` runs a longer configuration; BENCHMARKS.md records its report.

mod chaos;
mod ledger;
mod scale_smoke;
mod truth;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kube::api::ListParams;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tags::Tag;
use tagwatch::api::v1alpha1::TagWatch;
use tokio::time::{Instant, MissedTickBehavior};

use chaos::{Chaos, Disruption, Targets};
use ledger::Tally;
use tagwatch::controller::events::REPORTING_CONTROLLER;
use tagwatch::testing::env::{Env, PROMPTLY, REPO, spec};
use testkit::Emulator;
use testkit::controlplane::{ControlPlane, eventually};

/// The TagWatches' interval: the shortest the CRD allows.
const INTERVAL: Duration = Duration::from_secs(10);
/// The TagWatches' `spec.timeout`.
const POLL_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for every status to match UHub once disruptions end: a poll in
/// backoff waits at most one interval, plus jitter, on a loaded machine.
const CONVERGENCE: Duration = Duration::from_secs(90);
/// The tags every image starts with, older than any pushed one.
const FIRST_TAGS: [(&str, &str); 2] = [
    ("v1.0.0", "2020-01-01 10:00:00"),
    ("v1.1.0", "2020-02-01 10:00:00"),
];

/// The run's settings, see the module documentation.
#[derive(Debug)]
struct Settings {
    seconds: u64,
    tagwatches: usize,
    seed: u64,
}

impl Settings {
    fn from_env() -> Settings {
        let tagwatches = env_number("TAGWATCH_RELIABILITY_TAGWATCHES", 6);
        assert!(
            tagwatches >= 1,
            "TAGWATCH_RELIABILITY_TAGWATCHES must be at least 1"
        );
        Settings {
            seconds: env_number("TAGWATCH_RELIABILITY_SECONDS", 60),
            tagwatches: tagwatches as usize,
            seed: env_number("TAGWATCH_RELIABILITY_SEED", rand::random()),
        }
    }

    fn images(&self) -> Vec<String> {
        let count = self.tagwatches.div_ceil(2);
        (0..count).map(|i| format!("img-{i}")).collect()
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text.trim().parse().unwrap_or_else(|e| {
            panic!("{name}={text:?} is not a whole number ({e}); unset it for the default")
        }),
        Err(std::env::VarError::NotPresent) => default,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// One TagWatch of the run and the image it watches.
struct Watch {
    name: String,
    image: String,
}

#[tokio::test]
async fn every_pushed_tag_is_announced_once_through_faults() {
    let settings = Settings::from_env();
    println!(
        "reliability run: {settings:?}; replay with TAGWATCH_RELIABILITY_SEED={}",
        settings.seed
    );
    // A control plane of its own: restarting the apiserver would disturb other tests.
    let control_plane = ControlPlane::start();
    let mut stack = Env::builder("reliability").on(&control_plane).start().await;
    let images = settings.images();
    let watches = ready_tagwatches(&stack, &images, settings.tagwatches).await;

    let end = Instant::now() + Duration::from_secs(settings.seconds);
    let Env {
        operator, emulator, ..
    } = &mut stack;
    let emulator = &*emulator;
    let operator = operator.as_mut().expect("the env's operator");
    let targets = Targets {
        control_plane: &control_plane,
        emulator,
        operator,
        poll_timeout: POLL_TIMEOUT,
    };
    let (disruptions, pushed) = tokio::join!(
        Chaos::new(targets, settings.seed).run_until(end),
        push_steadily(emulator, &images, settings.seed, end),
    );
    assert!(
        stack.operator().is_running(),
        "the operator exited by itself"
    );
    let uhub_stats = stack.emulator.stats().await;

    let uhub = truth::tags_per_image(&stack, &images).await;
    for (image, names) in &pushed {
        truth::includes(&uhub[image], names);
    }
    let healthy = Instant::now();
    wait_for_status_to_match(&stack, &watches, &uhub).await;
    let converged = healthy.elapsed();

    let notes = new_tag_notes(&stack).await;
    let mut tally = Tally::default();
    let mut problems = Vec::new();
    for watch in &watches {
        let pushed = pushed.get(&watch.image).map_or(&[][..], Vec::as_slice);
        let notes = notes.get(&watch.name).map_or(&[][..], Vec::as_slice);
        let of_watch = Tally::of(pushed, notes).unwrap_or_else(|e| panic!("{}: {e}", watch.name));
        if !of_watch.is_clean() {
            problems.push(format!(
                "{}: {of_watch:?}; NewTag notes: {notes:#?}",
                watch.name
            ));
        }
        tally.absorb(of_watch);
    }
    let report = Report {
        settings: &settings,
        disruptions: &disruptions,
        uhub_stats: &uhub_stats,
        tags_pushed: pushed.values().map(Vec::len).sum(),
        tally: &tally,
        converged,
    };
    println!("{report}");
    assert!(
        problems.is_empty(),
        "not exactly one NewTag event per pushed tag:\n{}",
        problems.join("\n")
    );
}

/// Creates `count` TagWatches over `images` (each image starting with [`FIRST_TAGS`]),
/// polled every [`INTERVAL`] with a [`POLL_TIMEOUT`], and returns them once all are Ready.
async fn ready_tagwatches(stack: &Env, images: &[String], count: usize) -> Vec<Watch> {
    for image in images {
        for (name, time) in FIRST_TAGS {
            stack.emulator.push_tag(REPO, image, name, Some(time)).await;
        }
    }
    stack.apply_valid_secret().await;
    let watches: Vec<Watch> = (0..count)
        .map(|i| Watch {
            name: format!("tw-{i}"),
            image: images[i % images.len()].clone(),
        })
        .collect();
    for watch in &watches {
        let extra = json!({
            "imageName": watch.image,
            "interval": humantime::format_duration(INTERVAL).to_string(),
            "timeout": humantime::format_duration(POLL_TIMEOUT).to_string(),
            "historyLimit": 1000,
        });
        stack.create_tagwatch(&watch.name, spec(extra)).await;
    }
    for watch in &watches {
        stack
            .wait_for_ready(&watch.name, "True", "Succeeded", PROMPTLY)
            .await;
    }
    watches
}

/// Pushes a new tag to an image drawn from the seed, one tag per image per
/// [`INTERVAL`] on average, until `end`; returns the tags pushed to each image.
async fn push_steadily(
    emulator: &Emulator,
    images: &[String],
    seed: u64,
    end: Instant,
) -> BTreeMap<String, Vec<String>> {
    // Another stream than the disruption schedule's, from the same seed.
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(1));
    let mut ticks = tokio::time::interval(INTERVAL / images.len() as u32);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pushed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in 0.. {
        ticks.tick().await;
        if Instant::now() >= end {
            break;
        }
        let image = &images[rng.random_range(0..images.len())];
        let name = format!("r{n}");
        emulator.push_tag(REPO, image, &name, None).await;
        pushed.entry(image.clone()).or_default().push(name);
    }
    pushed
}

/// Waits until every TagWatch's status records the tags UHub serves for its image.
async fn wait_for_status_to_match(
    stack: &Env,
    watches: &[Watch],
    uhub: &BTreeMap<String, Vec<Tag>>,
) {
    let api = stack.tagwatches();
    eventually("every status matches UHub", CONVERGENCE, || {
        let api = api.clone();
        async move {
            for watch in watches {
                let tw: TagWatch = api.get(&watch.name).await.map_err(|e| e.to_string())?;
                truth::status_matches(&tw, &uhub[&watch.image])
                    .map_err(|problem| format!("{}: {problem}", watch.name))?;
            }
            Ok(())
        }
    })
    .await;
}

/// The notes of the operator's NewTag events, per TagWatch.
async fn new_tag_notes(stack: &Env) -> BTreeMap<String, Vec<String>> {
    let events = stack
        .namespace
        .api::<Event>()
        .list(&ListParams::default())
        .await
        .expect("listing events");
    let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for event in events.items {
        let regarding = event.regarding.as_ref().and_then(|r| r.name.clone());
        if event.reporting_controller.as_deref() == Some(REPORTING_CONTROLLER)
            && event.reason.as_deref() == Some("NewTag")
            && let Some(name) = regarding
        {
            notes
                .entry(name)
                .or_default()
                .push(event.note.unwrap_or_default());
        }
    }
    notes
}

/// What a run did and found.
struct Report<'a> {
    settings: &'a Settings,
    disruptions: &'a BTreeMap<Disruption, u32>,
    /// The emulator's request counters.
    uhub_stats: &'a Value,
    tags_pushed: usize,
    tally: &'a Tally,
    /// From UHub healthy again to every status matching it.
    converged: Duration,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.settings;
        writeln!(
            f,
            "reliability report: seed {}, {} s of pushes, {} TagWatches on {} images",
            s.seed,
            s.seconds,
            s.tagwatches,
            s.images().len()
        )?;
        let applied: Vec<String> = Disruption::ALL
            .iter()
            .map(|d| format!("{} {}", d.label(), self.disruptions.get(d).unwrap_or(&0)))
            .collect();
        writeln!(f, "  disruptions applied: {}", applied.join(", "))?;
        let stats = self.uhub_stats;
        writeln!(
            f,
            "  UCloud requests: {} in all; answers by RetCode {}, by HTTP status {}; connections dropped: {}",
            stats["total"], stats["byRetCode"], stats["byHttpStatus"], stats["resets"]
        )?;
        let t = self.tally;
        writeln!(
            f,
            "  tags pushed: {}; NewTag announcements expected: {}",
            self.tags_pushed, t.expected
        )?;
        writeln!(
            f,
            "  NewTag events missing: {}, duplicated: {}, unexpected: {}, unnamed: {}",
            t.missing.len(),
            t.duplicated.len(),
            t.unexpected.len(),
            t.unnamed
        )?;
        write!(
            f,
            "  every status matched UHub {:.1} s after the disruptions ended",
            self.converged.as_secs_f64()
        )
    }
}
