//! The operator process's CPU time and resident memory under the names every Prometheus
//! client library uses (`process_cpu_seconds_total`, `process_resident_memory_bytes`),
//! read from the kernel at each scrape.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Collects the process metrics at scrape time.
#[derive(Debug)]
pub(super) struct Process;

/// User plus system CPU time of this process so far, in seconds (`getrusage`).
pub(super) fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// This process's resident set size in bytes (`/proc/self/statm`), if readable.
pub(super) fn resident_bytes() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    (page > 0).then_some(pages * page as f64)
}

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let cpu = ConstCounter::new(cpu_seconds());
        let metric = encoder.encode_descriptor(
            "process_cpu_seconds",
            "User and system CPU time the process used, in seconds",
            None,
            cpu.metric_type(),
        )?;
        cpu.encode(metric)?;
        if let Some(bytes) = resident_bytes() {
            let rss = ConstGauge::new(bytes);
            let metric = encoder.encode_descriptor(
                "process_resident_memory_bytes",
                "Resident memory of the process, in bytes",
                None,
                rss.metric_type(),
            )?;
            rss.encode(metric)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::super::{Caches, Metrics};
    use super::*;

    #[test]
    fn process_cpu_and_memory_under_their_usual_names() {
        let text = Metrics::new().encode(&Caches::default());
        assert!(
            text.contains("# TYPE process_cpu_seconds counter\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE process_resident_memory_bytes gauge\n"));
        assert!(!text.contains("tagwatch_process"), "{text}");
        let cpu = sample(&text, "process_cpu_seconds_total").expect("a CPU sample");
        assert!(cpu > 0.0 && cpu <= cpu_seconds(), "{cpu}");
        let rss = sample(&text, "process_resident_memory_bytes").expect("an RSS sample");
        assert!(
            rss > 1_000_000.0,
            "a test process holds more than 1 MB: {rss}"
        );
    }
}
