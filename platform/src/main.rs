//! `palier-platform`: the reference platform's command line. It parses arguments, runs the
//! command ([`palier_platform::cli`]), and prints an error once (with its causes) before
//! exiting 1.

use std::io::IsTerminal;

use anyhow::Context;
use clap::Parser;
use palier_platform::cli::{self, args::Cli};

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let outcome = tokio::runtime::Runtime::new().context("starting the async runtime").and_then(|runtime| {
        let outcome = runtime.block_on(cli::run(cli));
        // Open event streams and blocking store calls must not hold the exit up.
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        outcome
    });
    if let Err(e) = outcome {
        eprintln!("palier-platform: error: {e:#}");
        std::process::exit(1);
    }
}
