//! `palier-sync`: the board's sync daemon and its installer commands. It parses arguments,
//! sets up logging, calls the library, and prints an error once (with its causes) before
//! exiting non-zero.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use palier_sync::board::{Board, DaemonConfig};
use palier_sync::report;

/// Keeps this board's content in step with the platform.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The board file (its [sync] section configures this daemon).
    #[arg(long, global = true, default_value = "/etc/palier/palier.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the service (the default): sync rounds, change hints, uploads.
    Run,
    /// Enrols this board with a one-time code from the platform's admin.
    Enrol {
        #[arg(long)]
        code: String,
    },
    /// Runs one sync round (enrolling first if needed), uploads plays and a heartbeat, exits;
    /// the exit code is non-zero when the round failed.
    SyncOnce,
    /// Checks the board file and explains each problem.
    CheckConfig,
    /// Prints where this board's sync stands.
    Status,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: journald and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("palier-sync: error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn load(path: &std::path::Path) -> Result<DaemonConfig> {
    let (config, warnings) = DaemonConfig::load(path)?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    Ok(config)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command.unwrap_or(Command::Run) {
        Command::CheckConfig => {
            let check = report::check_config(&cli.config);
            print!("{}", check.render(&cli.config));
            Ok(if check.ok() { 0 } else { 2 })
        }
        Command::Status => {
            let config = load(&cli.config)?;
            print!("{}", report::status(&config.board));
            Ok(0)
        }
        Command::Enrol { code } => {
            let board = Board::open(load(&cli.config)?)?;
            let credentials = runtime()?.block_on(board.enrol(&code))?;
            println!(
                "enrolled as {} (building {}, roles {}); credentials in {}",
                credentials.device_id,
                credentials.building_id,
                credentials.roles.join(","),
                board.data.credentials().display()
            );
            Ok(0)
        }
        Command::SyncOnce => {
            let board = Board::open(load(&cli.config)?)?;
            let (round, plays) = runtime()?.block_on(board.sync_once())?;
            println!(
                "generation {}: {} added, {} updated, {} removed, {} quarantined, {} held back; {} plays uploaded, {} pending",
                round.generation,
                round.added,
                round.updated,
                round.removed,
                round.quarantined,
                round.held_back,
                plays.acknowledged,
                plays.pending
            );
            if round.held_back > 0 {
                bail!(
                    "{} item(s) held back: their pictures could not be fetched; run again",
                    round.held_back
                );
            }
            Ok(0)
        }
        Command::Run => {
            let config = load(&cli.config)?;
            runtime()?.block_on(palier_sync::run(config, shutdown_signal()))?;
            Ok(0)
        }
    }
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: stopping"),
    }
}
