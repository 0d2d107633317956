//! The `tagwatch` command line as users run it (the real binary), the committed CRD,
//! `make demo`, the layering of the code and the forge workflows.

mod crd;
mod demo;
mod krew;
mod layering;
mod tags;
mod tags_vs_emulator;
mod workflows;

/// A finished command's exit code, stdout and stderr, for assertion messages.
fn text(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
