//! `uhub-emulator`: serves a local UCloud UHub API (see `uhub_emulator`).
//!
//! Prints `listening on http://ADDR:PORT` as its first stdout line, logs to stderr and
//! exits with status 0 on SIGTERM or SIGINT.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use uhub_emulator::{self as emulator, Credential, Emulator, Fixture};

/// How long open requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A local UCloud UHub API for development, demos, tests and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "uhub-emulator", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:0")]
    listen: String,
    /// YAML fixture with credentials and images. Without it the emulator starts empty
    /// with one generated credential pair, printed on stderr.
    #[arg(long, value_name = "FILE")]
    fixture: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("uhub-emulator: {message}");
    ExitCode::FAILURE
}

async fn run(args: Args) -> Result<(), String> {
    let builder = match &args.fixture {
        Some(path) => Emulator::builder().fixture(Fixture::load(path).map_err(|e| e.to_string())?),
        None => {
            let credential = Credential::generate();
            eprintln!(
                "uhub-emulator: no --fixture: serving no images; credential publicKey={} privateKey={}",
                credential.public_key, credential.private_key
            );
            Emulator::builder().credential(&credential.public_key, &credential.private_key)
        }
    };
    let state = builder.build().map_err(|e| e.to_string())?;
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    announce(&format!("listening on http://{addr}"))?;
    let fixture = args.fixture.as_deref().map(|p| p.display().to_string());
    tracing::info!(%addr, fixture = fixture.as_deref().unwrap_or("none"), "serving the UHub API");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(emulator::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let signal_name = tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
        result = &mut server => {
            return match result {
                Ok(Ok(())) => Err("the server stopped unexpectedly".into()),
                Ok(Err(e)) => Err(format!("server error: {e}")),
                Err(e) => Err(format!("server task failed: {e}")),
            };
        }
    };
    tracing::info!("{signal_name} received, shutting down");
    let _ = stop.send(());
    if tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err() {
        tracing::warn!("open requests did not finish within {SHUTDOWN_GRACE:?}; exiting");
    }
    Ok(())
}

/// Prints the first stdout line and flushes it, so a parent process can read it at once.
fn announce(line: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}
