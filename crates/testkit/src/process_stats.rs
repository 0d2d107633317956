//! A process's resident memory and CPU time, read from Linux's `/proc/<pid>/status`
//! and `/proc/<pid>/stat`, for benchmarks that measure the real operator process.

/// One reading of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessStats {
    /// Resident set size now (`VmRSS`), bytes.
    pub rss_bytes: u64,
    /// The largest resident set size so far (`VmHWM`), bytes.
    pub peak_rss_bytes: u64,
    /// User plus system CPU time so far, seconds.
    pub cpu_seconds: f64,
}

impl ProcessStats {
    /// Reads process `pid`; `None` once it is gone.
    pub fn read(pid: u32) -> Option<ProcessStats> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Some(ProcessStats {
            rss_bytes: status_kib(&status, "VmRSS:")? * 1024,
            peak_rss_bytes: status_kib(&status, "VmHWM:")? * 1024,
            cpu_seconds: cpu_ticks(&stat)? as f64 / ticks_per_second(),
        })
    }
}

/// A `Name:   123 kB` line of `/proc/<pid>/status`, in KiB.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(name))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// utime + stime of `/proc/<pid>/stat`, fields 14 and 15, counted after the command
/// name, which is in parentheses and may itself contain spaces.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}
