//! `palier-player`: the fullscreen player of a building's screens, and its offscreen tools.
//!
//! A thin binary over the `palier_player` library: it parses the command line, sets up
//! logging, and prints any error once.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;
use palier_content::config::{BackendChoice, BoardConfig};
use palier_content::{CacheReader, DataDir};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use palier_player::board::Board;
use palier_player::engine::{Engine, EnginePaths};
use palier_player::headless::Headless;
use palier_player::render::Gpu;
use palier_player::render::adapter::Need;
use palier_player::source::{Assets, DemoData, demo_config};

#[derive(Debug, Parser)]
#[command(
    name = "palier-player",
    version,
    about = "Shows a building's flashes, offers and promotions on its screens"
)]
struct Cli {
    #[command(flatten)]
    source: SourceArgs,
    /// GPU backend (overrides the configuration; WGPU_BACKEND overrides both).
    #[arg(long, global = true, value_enum)]
    backend: Option<Backend>,
    /// Play without windows: the same rotation, drawn offscreen, with plays recorded
    /// (boards without a display, end-to-end tests).
    #[arg(long)]
    headless: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Args)]
struct SourceArgs {
    /// Use the bundled demo content: a lift screen and a three-screen lobby.
    #[arg(long, global = true)]
    demo: bool,
    /// The board's configuration file (screens, data directory, player settings).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A content cache to read instead of the configured one.
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "demo")]
    cache: Option<PathBuf>,
    /// Where the fallback image and demo pack live (default: found automatically).
    #[arg(long, global = true, value_name = "DIR")]
    assets: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Backend {
    Auto,
    Vulkan,
    Gl,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write exactly the frame a screen shows at an instant.
    Render {
        /// RFC 3339 instant (2026-11-24T08:30:00Z), local time in the building's zone
        /// (2026-11-24T09:30), or `now` with an optional offset (`now+90s`, `now+1d@09:30`).
        #[arg(long, default_value = "now")]
        at: String,
        /// Screen name from the configuration (the demo has lift, lobby-left, lobby-centre, lobby-right).
        #[arg(long)]
        screen: String,
        #[arg(long, value_name = "PNG")]
        out: PathBuf,
    },
    /// Write a contact sheet: one full rotation per screen, each tile labelled with its start time.
    Sheet {
        #[arg(long, value_name = "PNG")]
        out: PathBuf,
        /// Start of the rotation (same forms as `render --at`).
        #[arg(long, default_value = "now")]
        at: String,
    },
    /// Log the GPU adapter, run a rendering self-test and check the cache.
    Check,
}

fn main() -> ExitCode {
    palier_player::memory::return_large_blocks();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wgpu_core=warn,wgpu_hal=warn,naga=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: journald and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("palier-player: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The configuration, the content snapshot and what keeps a demo's files alive.
struct Loaded {
    config: BoardConfig,
    board: Board,
    cache: PathBuf,
    _demo: Option<DemoData>,
}

fn load(
    source: &SourceArgs,
    backend: Option<Backend>,
    needs_content: bool,
) -> anyhow::Result<(Loaded, Assets)> {
    let assets = Assets::locate(source.assets.as_deref())?;
    let mut config = match &source.config {
        Some(path) => {
            let loaded = BoardConfig::load(path)?;
            for warning in &loaded.warnings {
                tracing::warn!(config = %path.display(), "{warning}");
            }
            Some(loaded.config)
        }
        None => None,
    };
    let (cache_path, demo) = if source.demo {
        let demo = DemoData::install(&assets, Timestamp::now())?;
        let data = demo.data_dir();
        config = Some(config.unwrap_or_else(|| demo_config(data.path())));
        (data.cache(), Some(demo))
    } else if let Some(cache) = &source.cache {
        let data_dir = cache.parent().map(PathBuf::from).unwrap_or_default();
        config = Some(config.unwrap_or_else(|| demo_config(&data_dir)));
        (cache.clone(), None)
    } else if let Some(config) = &config {
        (DataDir::new(&config.data_dir).cache(), None)
    } else {
        bail!("say what to play: --demo, --config FILE (a board) or --cache PATH");
    };
    let mut config = config.expect("set above");
    if let Some(backend) = backend {
        config.player.backend = match backend {
            Backend::Auto => BackendChoice::Auto,
            Backend::Vulkan => BackendChoice::Vulkan,
            Backend::Gl => BackendChoice::Gl,
        };
    }
    let snapshot = match CacheReader::open(&cache_path).and_then(|mut reader| reader.snapshot()) {
        Ok(snapshot) => snapshot,
        // Playing starts on the fallback slide and keeps probing; drawing a frame needs content.
        Err(e) if !needs_content => {
            tracing::warn!(error = %e, "starting on the fallback slide");
            palier_content::Snapshot::empty(palier_content::cache::media_dir_for(&cache_path))
        }
        Err(e) => return Err(e).context("reading the content cache"),
    };
    let board = Board::new(snapshot, &config, &assets);
    Ok((Loaded { config, board, cache: cache_path, _demo: demo }, assets))
}

/// Parses `--at`: an RFC 3339 instant, a local date-time in the building's zone, or `now`
/// with an optional offset (`now+90s`, `now-2h`, `now+1d@09:30`).
fn parse_instant(text: &str, board: &Board) -> anyhow::Result<Timestamp> {
    if text.starts_with("now") {
        return palier_content::demo::resolve_relative(text, Timestamp::now(), &board.tz)
            .map_err(|e| anyhow::anyhow!("--at {text:?}: {e}"));
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let local: jiff::civil::DateTime = text.parse().with_context(|| {
        format!(
            "--at {text:?} is neither an instant (2026-11-24T08:30:00Z) nor a local time (2026-11-24T09:30)"
        )
    })?;
    Ok(local.to_zoned(board.tz.clone())?.timestamp())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Render { at, screen, out }) => {
            let (mut loaded, _) = load(&cli.source, cli.backend, true)?;
            let at = parse_instant(&at, &loaded.board)?;
            let mut headless =
                Headless::new(Gpu::headless_for(loaded.config.player.backend, screens_need(&loaded.config))?);
            let screen = Headless::screen(&loaded.config, &screen)?.clone();
            let frame = headless.frame(&mut loaded.board, &loaded.config, &screen, at, true)?;
            frame.save(&out).with_context(|| format!("writing {}", out.display()))?;
            tracing::info!(screen = %screen.name, %at, out = %out.display(), "frame written");
            Ok(())
        }
        Some(Command::Sheet { out, at }) => {
            let (mut loaded, _) = load(&cli.source, cli.backend, true)?;
            let at = parse_instant(&at, &loaded.board)?;
            let mut headless =
                Headless::new(Gpu::headless_for(loaded.config.player.backend, screens_need(&loaded.config))?);
            // Written beside, then renamed: an earlier sheet stays whole if this one fails.
            let partial = out.with_extension("png.partial");
            let file =
                std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
            let written =
                headless.write_sheet(&mut loaded.board, &loaded.config, at, std::io::BufWriter::new(file));
            let (width, height) = match written {
                Ok(size) => size,
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e).with_context(|| format!("writing {}", out.display()));
                }
            };
            std::fs::rename(&partial, &out)
                .with_context(|| format!("renaming {} to {}", partial.display(), out.display()))?;
            tracing::info!(out = %out.display(), width, height, "contact sheet written");
            Ok(())
        }
        Some(Command::Check) => check(&cli),
        None => play(&cli),
    }
}

/// What the adapter must offer for this board's screens: a texture as long as the longest.
fn screens_need(config: &BoardConfig) -> Need {
    let largest_side = config.screens.iter().map(|s| s.width.max(s.height)).max().unwrap_or(0);
    Need { largest_side }
}

/// Plays the rotation until stopped: in windows, or offscreen with `--headless`.
fn play(cli: &Cli) -> anyhow::Result<()> {
    let (loaded, assets) = load(&cli.source, cli.backend, false)?;
    let cache = loaded.cache.clone();
    let journal = cache
        .parent()
        .map_or_else(|| DataDir::new(&loaded.config.data_dir).journal(), |dir| DataDir::new(dir).journal());
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone()).context("installing signal handlers")?;
    }
    let backend = loaded.config.player.backend;
    let need = screens_need(&loaded.config);
    let engine = Engine::start(loaded.config, assets, EnginePaths { cache, journal }, Timestamp::now());
    if cli.headless {
        tracing::info!("playing headless");
        palier_player::live::run(engine, Gpu::headless_for(backend, need)?, stop)?;
    } else {
        palier_player::app::run(engine, cli.source.demo, stop)?;
    }
    Ok(())
}

fn check(cli: &Cli) -> anyhow::Result<()> {
    let choice = cli.backend.map_or(BackendChoice::Auto, |b| match b {
        Backend::Auto => BackendChoice::Auto,
        Backend::Vulkan => BackendChoice::Vulkan,
        Backend::Gl => BackendChoice::Gl,
    });
    let gpu = Gpu::headless(choice)?;
    println!("adapter: {}", gpu.describe());
    println!("max texture side: {}", gpu.max_texture_side());
    let report = palier_player::render::frame::self_test(&gpu)?;
    if !report.passed() {
        bail!("GPU self-test failed: {report:?}");
    }
    println!("self-test: passed ({} text pixels)", report.text_pixels);
    if cli.source.demo || cli.source.cache.is_some() || cli.source.config.is_some() {
        let (loaded, _) = load(&cli.source, cli.backend, true)?;
        let snapshot = &loaded.board.snapshot;
        println!(
            "cache: generation {}, {} items, {} quarantined, {} not showable here",
            snapshot.generation,
            snapshot.items.len(),
            snapshot.quarantined.len(),
            loaded.board.unshowable.len()
        );
    }
    Ok(())
}
