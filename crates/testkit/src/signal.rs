//! Sends a signal to a process with `kill -SIGNAL PID`, as a user at a shell would.

use std::process::Command;

/// Sends `signal` (e.g. "TERM") to `pid`; panics when `kill` fails.
pub fn send(pid: u32, signal: &str) {
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -{signal} {pid} failed");
}
