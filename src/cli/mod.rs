//! The `tagwatch` command line: global options (logging), the subcommands, and how a
//! command's outcome becomes one stderr line and an exit code ([`exit`]).

pub mod election;
pub mod exit;
pub mod notify_args;
pub mod output;
pub mod run;
pub mod tags;

use std::fmt::Display;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

use exit::Exit;

/// Watches UCloud UHub image tags.
#[derive(Parser, Debug)]
#[command(name = "tagwatch", version, propagate_version = true)]
#[command(after_help = "Each command's --help lists its exit codes.")]
pub struct Cli {
    /// Log filter: a level (error, warn, info, debug, trace) or tracing directives
    /// such as "info,tagwatch=debug". Default: warn for tags.
    #[arg(
        long,
        global = true,
        value_name = "FILTER",
        env = "TAGWATCH_LOG_LEVEL",
        display_order = 900
    )]
    pub log_level: Option<String>,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, env = "TAGWATCH_LOG_FORMAT", display_order = 901,
          default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the tags of a UHub image, newest first.
    Tags(tags::TagsArgs),
    /// Run the operator: poll the TagWatches of the cluster.
    Run(run::RunArgs),
    /// Print the TagWatch CustomResourceDefinition as YAML.
    Crd,
}

impl Command {
    fn default_log_level(&self) -> &'static str {
        match self {
            Command::Tags(_) | Command::Crd => "warn",
            Command::Run(_) => "info",
        }
    }
}

/// Log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Parses the command line, sets up logging and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = cli
        .log_level
        .clone()
        .unwrap_or_else(|| cli.command.default_log_level().to_string());
    if let Err(err) = init_logging(&level, cli.log_format) {
        return fail(Exit::Usage, &err).into();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(Exit::Failure, &format!("cannot start the runtime: {err}")).into(),
    };
    let exit = runtime.block_on(async {
        match cli.command {
            Command::Tags(args) => tags::run(args).await,
            Command::Run(args) => run::run(args).await,
            Command::Crd => {
                print!("{}", crate::api::crd_yaml());
                Exit::Success
            }
        }
    });
    exit.into()
}

/// Logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// The `--log-level` filter does not parse.
    #[error("invalid --log-level {filter:?}: {source}")]
    Filter {
        /// The filter as given.
        filter: String,
        /// Why it does not parse.
        source: tracing_subscriber::filter::ParseError,
    },
    /// A global subscriber was already installed.
    #[error("cannot set up logging: {0}")]
    Install(String),
}

/// Sets up the global tracing subscriber writing to stderr.
pub fn init_logging(filter: &str, format: LogFormat) -> Result<(), LoggingError> {
    let filter = EnvFilter::try_new(filter).map_err(|source| LoggingError::Filter {
        filter: filter.to_string(),
        source,
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|e| LoggingError::Install(e.to_string()))
}

/// Prints `error: <message>` as one line on stderr and returns `exit`.
pub fn fail(exit: Exit, message: &dyn Display) -> Exit {
    eprintln!("error: {}", one_line(&message.to_string()));
    exit
}

/// `text` with line breaks and other control characters turned into spaces.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn errors_are_one_line() {
        assert_eq!(one_line("a\nb\r\n\tc"), "a b c");
        assert_eq!(one_line("plain"), "plain");
    }

    #[test]
    fn global_options_parse_anywhere() {
        let cli = Cli::try_parse_from([
            "tagwatch",
            "tags",
            "--repo",
            "r",
            "--image",
            "i",
            "--log-format",
            "json",
            "--log-level",
            "debug",
        ])
        .unwrap();
        assert_eq!(cli.log_format, LogFormat::Json);
        assert_eq!(cli.log_level.as_deref(), Some("debug"));
        assert!(init_logging("not a [valid filter", LogFormat::Text).is_err());
    }
}
