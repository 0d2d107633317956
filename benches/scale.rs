//! The scale benchmark: how many TagWatches one operator replica carries, at what
//! memory and CPU, how late its polls start, and what it asks of UCloud and the
//! apiserver. Each configuration runs the real operator (release build) on a private
//! local control plane against the UHub emulator; see `tagwatch::testing::scale` for the
//! phases and BENCHMARKS.md for results.
//!
//! `make bench-scale` runs the default matrix, each configuration with polls that probe
//! (the default) and with every page listed at every poll (`--full-listing-every 1`,
//! how polls worked before probes), back to back; one configuration:
//! `cargo bench --bench scale -- --tagwatches 1000 --tags 10 --interval 1m`.
//! `--baseline-binary PATH` also runs another build of the operator (say, of the code
//! before a change) for each configuration.
//! Under `cargo test` (no `--bench` flag) it does nothing: tests/reliability/scale_smoke.rs runs
//! the small configuration as a test.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use tagwatch::testing::scale::{Config, Report, Variant};

/// The operators each configuration runs, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Run {
    /// Every page at every poll (`--full-listing-every 1`).
    FullListings,
    /// The defaults: polls probe.
    Probes,
}

#[derive(Parser, Debug)]
struct Args {
    /// Set by `cargo bench`; without it (under `cargo test`) nothing runs.
    #[arg(long)]
    bench: bool,
    /// TagWatches per run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
    tagwatches: Vec<u32>,
    /// Tags per image, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10,1000")]
    tags: Vec<u32>,
    /// Interval of every TagWatch.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1m")]
    interval: Duration,
    /// Images that get a new tag in the push phase (at most the TagWatches).
    #[arg(long, default_value_t = 200)]
    pushes: u32,
    /// `--ucloud-qps`; by default twice the request rate the configuration needs.
    #[arg(long)]
    ucloud_qps: Option<u32>,
    /// `spec.historyLimit` of every TagWatch (default: the CRD's, 100).
    #[arg(long)]
    history_limit: Option<u32>,
    /// `--concurrency` of the operator.
    #[arg(long, default_value_t = 16)]
    concurrency: u32,
    /// Images the Python SDK baseline polls in turn (1,000 polls back to back, then
    /// paced at the operator's poll rate; see `tagwatch::testing::scale::python`); 0 skips
    /// it. (The flag keeps its name from when each image was polled once, so that the
    /// commands recorded in BENCHMARKS.md still run.)
    #[arg(long, default_value_t = 200)]
    python_polls: u32,
    /// Log level of the operator.
    #[arg(long, default_value = "info")]
    log_level: String,
    /// Which operators run each configuration, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "full-listings,probes")]
    runs: Vec<Run>,
    /// Also run this `tagwatch` binary (another build) first for each configuration.
    #[arg(long)]
    baseline_binary: Option<std::path::PathBuf>,
    /// What the table calls the baseline binary.
    #[arg(long, default_value = "baseline")]
    baseline_label: String,
    /// Ignored: cargo passes it to every bench target.
    #[arg(long, hide = true)]
    nocapture: bool,
}

fn main() {
    let args = Args::parse();
    if !args.bench {
        println!("scale: run with `make bench-scale` or `cargo bench --bench scale`");
        return;
    }
    let python = testkit::paths::python();
    let python = (args.python_polls > 0).then(|| {
        assert!(
            python.exists(),
            "{} is missing: run `make python-sdk`",
            python.display()
        );
        python
    });
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    println!("{}", Report::table_header());
    let mut variants: Vec<Variant> = Vec::new();
    if let Some(path) = &args.baseline_binary {
        assert!(path.exists(), "{} does not exist", path.display());
        variants.push(Variant::Binary {
            label: args.baseline_label.clone(),
            path: path.clone(),
        });
    }
    variants.extend(args.runs.iter().map(|run| match run {
        Run::FullListings => Variant::FullListings,
        Run::Probes => Variant::Probes,
    }));
    for &tags in &args.tags {
        for &tagwatches in &args.tagwatches {
            for variant in &variants {
                run_one(&runtime, &args, &python, variant, tagwatches, tags);
            }
        }
    }
}

/// Runs one configuration with `variant` and prints its row.
fn run_one(
    runtime: &tokio::runtime::Runtime,
    args: &Args,
    python: &Option<std::path::PathBuf>,
    variant: &Variant,
    tagwatches: u32,
    tags: u32,
) {
    let mut config = Config {
        variant: variant.clone(),
        tagwatches,
        tags,
        interval: args.interval,
        pushes: args.pushes,
        ucloud_qps: 0,
        concurrency: args.concurrency,
        history_limit: args.history_limit,
        log_level: args.log_level.clone(),
        python: python.clone(),
        python_images: args.python_polls,
        settle: false,
    };
    config.ucloud_qps = args.ucloud_qps.unwrap_or_else(|| config.needed_qps() * 2);
    let report = runtime.block_on(tagwatch::testing::scale::run(&config));
    println!("{}", report.table_row());
    eprintln!("{}", report.details());
}
