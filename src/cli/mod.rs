//! The `tagwatch` command line: global options (logging), the subcommands, and how a
//! command's outcome becomes one stderr line and an exit code ([`exit`]). Installed as
//! `kubectl-tagwatch`, the same binary is the kubectl plugin `kubectl tagwatch`.

pub mod cluster;
pub mod election;
pub mod exit;
pub mod notify_args;
pub mod output;
pub mod run;
pub mod tags;

use std::fmt::Display;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
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
    /// List TagWatches: image, latest tag, tag count, Ready and why, last sync.
    Get(cluster::get::GetArgs),
    /// Show one TagWatch: spec, status, conditions, newest tags, notifications, events.
    Describe(cluster::describe::DescribeArgs),
    /// Request a poll of a TagWatch now and (on a terminal) wait for its outcome.
    Reconcile(cluster::reconcile::ReconcileArgs),
    /// Stop polling a TagWatch (or --all); its status is kept.
    Suspend(cluster::suspend::SuspendArgs),
    /// Poll a suspended TagWatch (or --all) again.
    Resume(cluster::suspend::SuspendArgs),
    /// List the operator's events about a TagWatch, oldest first (--watch for new ones).
    Events(cluster::events::EventsArgs),
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
            Command::Run(_) => "info",
            _ => "warn",
        }
    }
}

/// The file name kubectl's plugin discovery finds the binary under on `PATH`, so that
/// `kubectl tagwatch ...` runs `tagwatch ...`.
pub const KUBECTL_PLUGIN: &str = "kubectl-tagwatch";

/// Parses `args` (the first being the program as invoked). Invoked as
/// [`KUBECTL_PLUGIN`], usage and help name the command `kubectl tagwatch`.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let plugin = args
        .first()
        .and_then(|program| std::path::Path::new(program).file_name())
        .is_some_and(|name| name == KUBECTL_PLUGIN);
    let mut command = Cli::command();
    if plugin {
        command = command.bin_name("kubectl tagwatch");
    }
    let mut matches = command.try_get_matches_from(args)?;
    Cli::from_arg_matches_mut(&mut matches)
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
    let cli = match parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
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
    // The command runs as a task on a worker thread, not on this thread inside
    // `block_on`: the controllers spawn every reconcile and drive their watches, and
    // from a worker a spawned task lands in that worker's own queue and its result
    // wakes no other thread. Run from here, every reconcile crossed threads twice.
    let exit = runtime.block_on(async {
        match tokio::spawn(run_command(cli.command)).await {
            Ok(exit) => exit,
            Err(err) => match err.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(err) => fail(Exit::Failure, &format!("the command was cancelled: {err}")),
            },
        }
    });
    exit.into()
}

/// Runs one command to its exit status.
async fn run_command(command: Command) -> Exit {
    match command {
        Command::Get(args) => cluster::get::run(args).await,
        Command::Describe(args) => cluster::describe::run(args).await,
        Command::Reconcile(args) => cluster::reconcile::run(args).await,
        Command::Suspend(args) => cluster::suspend::run(args, true).await,
        Command::Resume(args) => cluster::suspend::run(args, false).await,
        Command::Events(args) => cluster::events::run(args).await,
        Command::Tags(args) => tags::run(args).await,
        Command::Run(args) => run::run(args).await,
        Command::Crd => {
            print!("{}", crate::api::crd_yaml());
            Exit::Success
        }
    }
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

/// The target of kube-runtime's `reconciling object` span, opened around every
/// reconcile. Its fields repeat the `poll` span's, and formatting them for every
/// reconcile (quiet ones included, which log nothing) is a measurable share of a quiet
/// poll's CPU: it is off unless `--log-level` names `kube_runtime` itself.
const KUBE_RUNTIME_CONTROLLER: &str = "kube_runtime::controller";

/// The `--log-level` filter, with kube-runtime's controller below `warn` off unless the
/// filter names `kube_runtime` (see [`KUBE_RUNTIME_CONTROLLER`]).
fn log_filter(filter: &str) -> Result<EnvFilter, LoggingError> {
    let invalid = |source| LoggingError::Filter {
        filter: filter.to_string(),
        source,
    };
    let parsed = EnvFilter::try_new(filter).map_err(invalid)?;
    if filter.contains("kube_runtime") {
        return Ok(parsed);
    }
    let quiet_runtime = format!("{KUBE_RUNTIME_CONTROLLER}=warn")
        .parse()
        .map_err(invalid)?;
    Ok(parsed.add_directive(quiet_runtime))
}

/// Sets up the global tracing subscriber writing to stderr.
pub fn init_logging(filter: &str, format: LogFormat) -> Result<(), LoggingError> {
    let filter = log_filter(filter)?;
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

/// Writes `text` to stdout: [`Exit::Success`], also when the reader went away (a closed
/// pipe, as `| head` does), [`Exit::Failure`] when it cannot be written.
pub fn write_stdout(text: &str) -> Exit {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Exit::Success,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(err) => fail(Exit::Failure, &format!("cannot write the output: {err}")),
    }
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
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn readme_lists_every_subcommand() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        let start = readme
            .find("\n## Commands\n")
            .expect("README.md has ## Commands");
        let section = &readme[start + 1..];
        let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
        let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
        for command in Cli::command().get_subcommands() {
            let name = command.get_name();
            let listed = rows.iter().any(|row| {
                let first = row.split(" | ").next().unwrap_or_default();
                first.contains(&format!("`tagwatch {name}`"))
                    || first.contains(&format!("`{name}`"))
            });
            assert!(listed, "README.md's ## Commands lacks `tagwatch {name}`");
        }
    }

    #[test]
    fn invoked_as_the_kubectl_plugin_it_is_tagwatch() {
        let cli = parse_from(["/home/u/.krew/bin/kubectl-tagwatch", "get", "-A"]).unwrap();
        assert!(matches!(cli.command, Command::Get(ref args) if args.all_namespaces));
        let err = parse_from(["/usr/local/bin/kubectl-tagwatch", "--help"]).unwrap_err();
        assert!(err.to_string().contains("Usage: kubectl tagwatch"), "{err}");
        let err = parse_from(["tagwatch", "--help"]).unwrap_err();
        assert!(err.to_string().contains("Usage: tagwatch"), "{err}");
        let err = parse_from(["kubectl-tagwatch", "nothing"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn kube_runtime_reconcile_span_is_off_unless_named() {
        let span_enabled = |filter: &str| {
            let subscriber = tracing_subscriber::registry().with(log_filter(filter).unwrap());
            tracing::subscriber::with_default(subscriber, || {
                !tracing::info_span!(target: "kube_runtime::controller", "reconciling object")
                    .is_disabled()
            })
        };
        assert!(!span_enabled("info"));
        assert!(!span_enabled("debug,tagwatch=debug"));
        assert!(span_enabled("info,kube_runtime=info"));
        assert!(span_enabled("info,kube_runtime::controller=debug"));
        let poll_span = || !tracing::info_span!("poll").is_disabled();
        let subscriber = tracing_subscriber::registry().with(log_filter("info").unwrap());
        assert!(tracing::subscriber::with_default(subscriber, poll_span));
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
