//! A progress line for a wait, drawn only when stdout is a terminal: a spinner, what is
//! awaited and the seconds so far, redrawn in place and erased when the wait ends.
//! Output to a pipe or a file gets none of it.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the line is redrawn.
pub const TICK: Duration = Duration::from_millis(120);
const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/// Carriage return, then erase the line.
const ERASE: &str = "\r\x1b[2K";

/// The progress line of one wait; inactive (draws nothing) off a terminal.
pub struct Progress {
    what: String,
    started: Instant,
    frame: usize,
    active: bool,
}

impl Progress {
    /// A progress line saying `what`, drawn when stdout is a terminal.
    pub fn on_stdout(what: impl Into<String>) -> Progress {
        Progress::new(what, std::io::stdout().is_terminal())
    }

    /// A progress line saying `what`, drawn only when `active`.
    pub fn new(what: impl Into<String>, active: bool) -> Progress {
        Progress {
            what: what.into(),
            started: Instant::now(),
            frame: 0,
            active,
        }
    }

    /// The line to draw next (without the erase sequence).
    pub fn line(&mut self) -> String {
        let frame = FRAMES[self.frame % FRAMES.len()];
        self.frame += 1;
        format!(
            "{frame} {} ({}s)",
            self.what,
            self.started.elapsed().as_secs()
        )
    }

    /// Draws the next frame.
    pub fn tick(&mut self) {
        if self.active {
            let line = self.line();
            let mut stdout = std::io::stdout().lock();
            let _ = write!(stdout, "{ERASE}{line}");
            let _ = stdout.flush();
        }
    }

    /// Erases the line.
    pub fn finish(&mut self) {
        if std::mem::take(&mut self.active) {
            let mut stdout = std::io::stdout().lock();
            let _ = write!(stdout, "{ERASE}");
            let _ = stdout.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_spins_and_counts_seconds() {
        let mut progress = Progress::new("waiting for team/web", false);
        let first = progress.line();
        let second = progress.line();
        assert_eq!(first, "⠋ waiting for team/web (0s)");
        assert_eq!(second, "⠙ waiting for team/web (0s)");
    }
}
