//! `palier-soak`: the reliability soak's parts, each for a count or a duration; prints a
//! table and writes `target/soak/<part>.json`. Run through `bench/soak`, which builds the
//! release binaries first.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use palier_bench::machine::Machine;
use palier_bench::soak::{self, PartReport};
use palier_bench::windowed::Backend;

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
    /// The windowed demo (four screens) rotating 3-second slides until this many slide changes.
    Rotation {
        #[arg(long, default_value_t = 10_000)]
        crossfades: u64,
        /// vulkan (lavapipe) or gl (llvmpipe through EGL).
        #[arg(long, default_value = "vulkan")]
        backend: String,
        #[arg(long, default_value_t = 30)]
        sample_every_s: u64,
        /// The Xvfb screen the four windows sit on.
        #[arg(long, default_value = "7056x1920")]
        monitor: String,
    },
    /// One platform, thousands of simulated boards (event streams and polls) while a
    /// landlord publishes.
    Boards {
        #[arg(long, default_value_t = 10_000)]
        boards: usize,
        #[arg(long, default_value_t = 30)]
        minutes: u64,
        /// Each board polls its manifest every this many seconds (± 20 %).
        #[arg(long, default_value_t = 60)]
        poll_s: u64,
        /// A flash is published every this many seconds.
        #[arg(long, default_value_t = 30)]
        publish_every_s: u64,
        #[arg(long)]
        seed: Option<u64>,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let report = match cli.part {
        Part::Crashes { kills, seed, longest_run_ms } => {
            let seed = soak::seed(seed);
            println!(
                "crashes: {kills} kills, seed {seed} (--seed {seed} replays the stream and the kill moments)"
            );
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
        Part::Rotation { crossfades, backend, sample_every_s, monitor } => {
            let backend = match backend.as_str() {
                "vulkan" => Backend::Vulkan,
                "gl" => Backend::Gl,
                other => {
                    eprintln!("palier-soak: --backend {other:?}: pick vulkan or gl");
                    return std::process::ExitCode::FAILURE;
                }
            };
            let Some((width, height)) =
                monitor.split_once('x').and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
            else {
                eprintln!("palier-soak: --monitor takes WIDTHxHEIGHT, e.g. 7056x1920");
                return std::process::ExitCode::FAILURE;
            };
            println!(
                "rotation: until {crossfades} slide changes on the four demo screens ({})",
                backend.label()
            );
            let work = tempfile::tempdir().expect("a temporary directory");
            let settings = soak::rotation::Settings {
                crossfades,
                backend,
                sample_every: Duration::from_secs(sample_every_s),
                monitor: (width, height),
            };
            soak::rotation::run(&settings, &palier_testkit::processes::binary("palier-player"), work.path())
        }
        Part::Boards { boards, minutes, poll_s, publish_every_s, seed } => {
            let seed = soak::seed(seed);
            println!(
                "boards: {boards} simulated boards for {minutes} min, polls every {poll_s} s, seed {seed}"
            );
            soak::boards::run(&soak::boards::Settings {
                boards,
                duration: Duration::from_secs(60 * minutes),
                poll: Duration::from_secs(poll_s),
                publish_every: Duration::from_secs(publish_every_s),
                seed,
            })
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
