//! `palier-soak`: the reliability soak's parts, each for a count or a duration; prints a
//! table and writes `target/soak/<part>.json`. Run through `bench/soak`, which builds the
//! release binaries first.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use palier_bench::machine::Machine;
use palier_bench::soak::{self, PartReport};

#[derive(Debug, Parser)]
#[command(name = "palier-soak", about = "Reliability soak: long, repeated runs of Palier's failure paths")]
struct Cli {
    /// Where the JSON files go.
    #[arg(long, default_value = "target/soak")]
    out: PathBuf,
    #[command(subcommand)]
    part: Part,
}

#[derive(Debug, Subcommand)]
enum Part {
    /// `kill -9` of palier-sync at random moments of a seeded publishing stream.
    Crashes {
        #[arg(long, default_value_t = 1000)]
        kills: u32,
        /// Replays a run's stream and kill moments (printed at the start of every run).
        #[arg(long)]
        seed: Option<u64>,
        /// Kill moments are drawn up to this many milliseconds after the daemon's start.
        #[arg(long, default_value_t = 3000)]
        longest_run_ms: u64,
    },
    /// A month without the platform on an injected clock, through a daylight-saving change.
    Offline {
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Items published for the month.
        #[arg(long, default_value_t = 40)]
        items: u32,
        #[arg(long)]
        seed: Option<u64>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let report = match cli.part {
        Part::Crashes { kills, seed, longest_run_ms } => {
            let seed = soak::seed(seed);
            println!("crashes: {kills} kills, seed {seed} (--seed {seed} replays the stream and the kill moments)");
            soak::crashes::run(&soak::crashes::Settings {
                kills,
                seed,
                longest_run: Duration::from_millis(longest_run_ms),
            })
        }
        Part::Offline { days, items, seed } => {
            let seed = soak::seed(seed);
            println!("offline: {days} days, {items} items, seed {seed}");
            soak::offline::run(&soak::offline::Settings { days, items, seed })
        }
    };
    finish(&report, &cli.out)
}

/// Prints the table, writes the JSON; fails when the part saw a failure.
fn finish(report: &PartReport, out: &std::path::Path) -> std::process::ExitCode {
    let machine = Machine::describe("not used".into());
    let header = serde_json::json!({
        "date": jiff::Timestamp::now().to_string(),
        "commit": machine.commit,
        "machine": format!("{} cores, {}, {:.0} GiB, Linux {}", machine.cores, machine.cpu_model, machine.memory_gib, machine.kernel),
    });
    println!("{}", report.table());
    match report.write_json(out, &header) {
        Ok(path) => println!("written to {}", path.display()),
        Err(e) => {
            eprintln!("palier-soak: writing {}/{}.json failed: {e}", out.display(), report.part);
            return std::process::ExitCode::FAILURE;
        }
    }
    if report.passed() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE }
}
