//! `palier-bench`: the benchmark's tools on their own, for trying things by hand. The
//! benchmark itself is `bench/run`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiff::{SignedDuration, Timestamp};
use palier_bench::demo_publish::{Publishers, publish_pack};
use palier_bench::stats::{median, p99};
use palier_bench::{big_cache, page, player};
use palier_content::config::BackendChoice;
use palier_player::render::Gpu;
use palier_player::source::Assets;

#[derive(Debug, Parser)]
#[command(name = "palier-bench", about = "Tools of Palier's benchmark (the benchmark itself: bench/run)")]
struct Cli {
    #[command(subcommand)]
    command: Tool,
}

#[derive(Debug, Subcommand)]
enum Tool {
    /// Publish the demo pack (or a pack in its format) to a platform through its API.
    PublishDemo {
        /// The platform, e.g. http://127.0.0.1:8080
        #[arg(long)]
        url: String,
        #[arg(long, env = "PALIER_LANDLORD_TOKEN")]
        landlord: String,
        #[arg(long, env = "PALIER_SHOP_TOKEN")]
        shop: String,
        #[arg(long, env = "PALIER_NEIGHBOURHOOD_TOKEN")]
        neighbourhood: String,
        /// The pack's directory (default: the bundled demo pack).
        #[arg(long)]
        pack: Option<PathBuf>,
    },
    /// Write a content cache of COUNT items made from the demo pack's items.
    BigCache {
        #[arg(long, default_value_t = 500)]
        count: usize,
        /// Data directory to create the cache in (cache.sqlite, media/, pack/).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the demo rotation as an HTML page for a browser kiosk (DIR/page.html).
    Page {
        #[arg(long)]
        out: PathBuf,
        /// Seconds per slide (as every item's duration_s).
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// Minutes of schedule before it repeats.
        #[arg(long, default_value_t = 15)]
        minutes: i64,
    },
    /// Compose crossfade frames offscreen and print their times (for profiling the compositor
    /// with `perf record`, or comparing backends).
    Crossfade {
        /// `vulkan`, `gl` or `auto`.
        #[arg(long, default_value = "auto")]
        backend: String,
        /// A landscape 1920×1080 screen instead of the portrait 1080×1920 one.
        #[arg(long)]
        landscape: bool,
        #[arg(long, default_value_t = 300)]
        frames: usize,
        /// Compose in RGBA instead of BGRA (the format of X11 surfaces).
        #[arg(long)]
        rgba: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let assets = Assets::locate(None)?;
    match Cli::parse().command {
        Tool::PublishDemo { url, landlord, shop, neighbourhood, pack } => {
            let publishers = Publishers { landlord, shop, neighbourhood };
            let pack = pack.unwrap_or_else(|| assets.demo_pack());
            let published = publish_pack(&url, &publishers, &pack, Timestamp::now())?;
            println!(
                "published {} items and {} pictures ({} bytes)",
                published.items.len(),
                published.media,
                published.media_bytes
            );
        }
        Tool::BigCache { count, out } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let cache = big_cache::install(&assets.demo_pack(), count, &out, Timestamp::now())?;
            println!("{}", cache.display());
        }
        Tool::Page { out, seconds, minutes } => {
            let timed = page::timed_assets(&assets, seconds, &out.join("assets"))?;
            let page =
                page::write_page(&timed, 4, (1920, 1080), SignedDuration::from_mins(minutes), 600, &out)?;
            println!("{}", page.path.display());
        }
        Tool::Crossfade { backend, landscape, frames, rgba } => {
            let choice = match backend.as_str() {
                "vulkan" => BackendChoice::Vulkan,
                "gl" => BackendChoice::Gl,
                "auto" => BackendChoice::Auto,
                other => anyhow::bail!("--backend {other}: vulkan, gl or auto"),
            };
            let gpu = Gpu::headless(choice)?;
            let dir = tempfile::tempdir()?;
            let board = player::demo_board(&assets, dir.path())?;
            let screen = player::screen(!landscape);
            let format = if rgba { wgpu::TextureFormat::Rgba8Unorm } else { wgpu::TextureFormat::Bgra8Unorm };
            let timings = player::crossfade_frames(&gpu, &board, &screen, frames, format);
            println!(
                "{}: {}×{}, {frames} frames: median {:.2} ms, p99 {:.2} ms, CPU {:.2} ms per frame",
                gpu.describe(),
                screen.width,
                screen.height,
                median(&timings.ms),
                p99(&timings.ms),
                timings.cpu_ms
            );
        }
    }
    Ok(())
}
