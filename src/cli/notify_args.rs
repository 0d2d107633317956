//! The `tagwatch run` flags of webhook notifications (`--notify-*`).

use clap::Args;

use super::tags::positive_duration;
use crate::notify::NotifierConfig;
use crate::notify::notifier::{DEFAULT_CONCURRENCY, DEFAULT_MAX_AGE, DEFAULT_TIMEOUT};

/// How notifications are delivered.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct NotifyArgs {
    /// Give up a notification not delivered within this time since its change was
    /// noticed, with a NotificationFailed Warning event.
    #[arg(long, value_name = "DURATION", env = "TAGWATCH_NOTIFY_MAX_AGE",
          default_value_t = DEFAULT_MAX_AGE.into(), value_parser = positive_duration)]
    pub notify_max_age: humantime::Duration,

    /// How long one delivery attempt (connect, send, answer) may take.
    #[arg(long, value_name = "DURATION", env = "TAGWATCH_NOTIFY_TIMEOUT",
          default_value_t = DEFAULT_TIMEOUT.into(), value_parser = positive_duration)]
    pub notify_timeout: humantime::Duration,

    /// Delivery attempts running at once, over all TagWatches.
    #[arg(long, value_name = "N", env = "TAGWATCH_NOTIFY_CONCURRENCY",
          default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..))]
    pub notify_concurrency: u16,
}

impl NotifyArgs {
    /// The notifier's settings.
    pub fn config(&self) -> NotifierConfig {
        NotifierConfig {
            timeout: self.notify_timeout.into(),
            max_age: self.notify_max_age.into(),
            concurrency: usize::from(self.notify_concurrency),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        notify: NotifyArgs,
    }

    #[test]
    fn defaults_and_bad_values() {
        let cli = Cli::try_parse_from(["t"]).unwrap();
        assert_eq!(cli.notify.config(), NotifierConfig::default());
        let cli = Cli::try_parse_from(["t", "--notify-max-age", "90s", "--notify-timeout", "2s"])
            .unwrap();
        assert_eq!(cli.notify.config().max_age, Duration::from_secs(90));
        assert_eq!(cli.notify.config().timeout, Duration::from_secs(2));
        for bad in [
            ["--notify-max-age", "0s"],
            ["--notify-timeout", "soon"],
            ["--notify-concurrency", "0"],
        ] {
            assert!(
                Cli::try_parse_from(["t", bad[0], bad[1]]).is_err(),
                "{bad:?}"
            );
        }
    }
}
