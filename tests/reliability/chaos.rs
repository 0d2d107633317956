//! The disruptions of the reliability suite, on a schedule drawn from a seed: UHub
//! faults injected by the emulator (RetCode 153 and 150, HTTP 502, latency beyond the
//! poll timeout, dropped connections), the operator killed with SIGKILL and started
//! again, and the apiserver restarted.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

use testkit::Emulator;
use testkit::Operator;
use testkit::controlplane::ControlPlane;

/// Pause before each disruption, in milliseconds.
const PAUSE_MS: Range<u64> = 1_000..4_000;
/// How long a UHub fault stays on, in milliseconds.
const FAULT_MS: Range<u64> = 2_000..8_000;
/// How long a killed operator stays down, in milliseconds.
const DOWN_MS: Range<u64> = 0..3_000;
/// Injected latency beyond the poll timeout.
const LATENCY_BEYOND_TIMEOUT: Duration = Duration::from_secs(1);

/// One kind of disruption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Disruption {
    RetCode153,
    RetCode150,
    Http502,
    Latency,
    DroppedConnections,
    OperatorKilled,
    ApiserverRestarted,
}

impl Disruption {
    pub const ALL: [Disruption; 7] = [
        Disruption::RetCode153,
        Disruption::RetCode150,
        Disruption::Http502,
        Disruption::Latency,
        Disruption::DroppedConnections,
        Disruption::OperatorKilled,
        Disruption::ApiserverRestarted,
    ];

    /// How the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Disruption::RetCode153 => "RetCode 153",
            Disruption::RetCode150 => "RetCode 150",
            Disruption::Http502 => "HTTP 502",
            Disruption::Latency => "latency beyond timeout",
            Disruption::DroppedConnections => "dropped connections",
            Disruption::OperatorKilled => "operator SIGKILL",
            Disruption::ApiserverRestarted => "apiserver restart",
        }
    }

    /// The emulator fault settings of a UHub fault (`None` for the other kinds), with an
    /// error or reset rate drawn from `rng`: 30% to 100% of the requests fail.
    fn fault(self, rng: &mut StdRng, poll_timeout: Duration) -> Option<Value> {
        let rate = f64::from(rng.random_range(3..=10_u8)) / 10.0;
        let latency = poll_timeout + LATENCY_BEYOND_TIMEOUT;
        match self {
            Disruption::RetCode153 => Some(json!({"retCode": 153, "errorRate": rate})),
            Disruption::RetCode150 => Some(json!({"retCode": 150, "errorRate": rate})),
            Disruption::Http502 => Some(json!({"httpStatus": 502, "errorRate": rate})),
            Disruption::Latency => Some(json!({"latencyMs": latency.as_millis() as u64})),
            Disruption::DroppedConnections => Some(json!({"resetRate": rate})),
            Disruption::OperatorKilled | Disruption::ApiserverRestarted => None,
        }
    }
}

/// What the disruptions act on.
pub struct Targets<'a> {
    pub control_plane: &'a ControlPlane,
    pub emulator: &'a Emulator,
    pub operator: &'a mut Operator,
    /// The TagWatches' `spec.timeout`; injected latency exceeds it.
    pub poll_timeout: Duration,
}

/// A seeded schedule of disruptions.
pub struct Chaos<'a> {
    targets: Targets<'a>,
    rng: StdRng,
    started: Instant,
}

impl<'a> Chaos<'a> {
    pub fn new(targets: Targets<'a>, seed: u64) -> Self {
        Chaos {
            targets,
            rng: StdRng::seed_from_u64(seed),
            started: Instant::now(),
        }
    }

    /// Applies disruptions until `end` and returns how many of each kind it applied.
    /// When it returns, no fault is injected and the operator is running.
    pub async fn run_until(mut self, end: Instant) -> BTreeMap<Disruption, u32> {
        let mut applied = BTreeMap::new();
        loop {
            let mut round = Disruption::ALL;
            round.shuffle(&mut self.rng);
            for disruption in round {
                self.pause(PAUSE_MS).await;
                if Instant::now() >= end {
                    return applied;
                }
                self.apply(disruption).await;
                *applied.entry(disruption).or_default() += 1;
            }
        }
    }

    async fn apply(&mut self, disruption: Disruption) {
        let at = self.started.elapsed().as_secs_f64();
        let targets = &mut self.targets;
        if let Some(fault) = disruption.fault(&mut self.rng, targets.poll_timeout) {
            println!("[{at:6.1}s] {}: {fault}", disruption.label());
            targets.emulator.set_faults(fault).await;
            self.pause(FAULT_MS).await;
            self.targets.emulator.clear_faults().await;
            return;
        }
        println!("[{at:6.1}s] {}", disruption.label());
        match disruption {
            Disruption::OperatorKilled => {
                assert!(
                    targets.operator.is_running(),
                    "the operator exited by itself before it was killed"
                );
                targets.operator.kill();
                self.pause(DOWN_MS).await;
                self.targets.operator.start_again();
            }
            Disruption::ApiserverRestarted => targets.control_plane.restart_apiserver().await,
            fault => unreachable!("{fault:?} is a UHub fault"),
        }
    }

    /// Waits for a time drawn from `range_ms`: the schedule's own pacing.
    async fn pause(&mut self, range_ms: Range<u64>) {
        let ms = if range_ms.is_empty() {
            range_ms.start
        } else {
            self.rng.random_range(range_ms)
        };
        sleep(Duration::from_millis(ms)).await;
    }
}
