//! The player's drawing costs, in this process with the player's own renderer, in portrait
//! (1080×1920) and landscape (1920×1080): each slide template drawn into its offscreen
//! texture (layout, upload, render, waiting for the device), and a crossfade frame composed
//! from two slide textures
//! (what every frame of a 600 ms transition costs). On a machine without a GPU this is
//! Mesa's software rasterizer, so wall time is CPU time.

use std::path::Path;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use palier_content::config::{Rotation, ScreenConfig};
use palier_content::demo::DemoPack;
use palier_content::wire::PlayTrigger;
use palier_content::{Cache, CacheReader, Channel};
use palier_player::board::{Board, pictures};
use palier_player::playlist::{Showing, SlideRef};
use palier_player::render::compose::{Compositor, Layer};
use palier_player::render::images::decode;
use palier_player::render::{Gpu, SlideRenderer};
use palier_player::source::{Assets, demo_config};

use crate::procs::{clock_ticks, cpu_ticks};

/// The instant slides are laid out for (a Tuesday morning, as in the golden images).
const AT: &str = "2026-11-24T08:00:00Z";

/// The templates measured: a name and the demo item that uses it (`None`: the fallback).
pub const TEMPLATES: [(&str, Option<&str>); 8] = [
    ("flash", Some("flash-eau")),
    ("urgent flash", Some("flash-ascenseur")),
    ("offer", Some("offre-perceuse")),
    ("offer + photo", Some("demande-chat")),
    ("promo + photo", Some("promo-fleurs")),
    ("event + photo", Some("event-jardin")),
    ("news", Some("news-marche")),
    ("fallback", None),
];

/// A portrait lift screen or a landscape lobby panel, showing every channel.
pub fn screen(portrait: bool) -> ScreenConfig {
    let (width, height) = if portrait { (1080, 1920) } else { (1920, 1080) };
    ScreenConfig {
        name: if portrait { "lift" } else { "lobby-centre" }.into(),
        role: if portrait { "lift" } else { "lobby-centre" }.into(),
        channels: Channel::ALL.to_vec(),
        width,
        height,
        rotation: Rotation::R0,
        output: None,
        max_per_origin: palier_content::config::DEFAULT_MAX_PER_ORIGIN,
    }
}

/// The demo pack installed in `dir` as of [`AT`].
pub fn demo_board(assets: &Assets, dir: &Path) -> anyhow::Result<Board> {
    let now: Timestamp = AT.parse()?;
    let pack = DemoPack::load(&assets.demo_pack(), now)?;
    let path = dir.join("cache.sqlite");
    pack.install(&mut Cache::open(&path)?, now)?;
    let snapshot = CacheReader::open(&path)?.snapshot()?;
    Ok(Board::new(snapshot, &demo_config(dir), assets))
}

fn showing(board: &Board, id: Option<&str>) -> Showing {
    let at: Timestamp = AT.parse().expect("instant");
    let slide = match id.and_then(|id| board.snapshot.item(id)) {
        Some(item) => SlideRef::Item { id: item.id.clone(), version: item.version },
        None => SlideRef::Fallback,
    };
    Showing {
        slide,
        start: at,
        end: at + SignedDuration::from_secs(10),
        trigger: PlayTrigger::Rotation,
        banner: None,
    }
}

fn wait_idle(gpu: &Gpu) {
    gpu.device.poll(wgpu::PollType::wait_indefinitely()).expect("the GPU finishes");
}

/// Wall times of repeated draws, and the CPU the process spent per draw.
#[derive(Debug, Clone)]
pub struct Timings {
    pub name: String,
    pub ms: Vec<f64>,
    pub cpu_ms: f64,
}

/// Draws each template `runs` times on `screen`.
pub fn slide_draws(gpu: &Gpu, board: &Board, screen: &ScreenConfig, runs: usize) -> Vec<Timings> {
    let mut renderer = SlideRenderer::new(gpu);
    let at: Timestamp = AT.parse().expect("instant");
    let tick = 1000.0 / clock_ticks();
    let me = std::process::id();
    TEMPLATES
        .iter()
        .map(|(name, id)| {
            let scene = board.scene(screen, &showing(board, *id), at);
            for path in pictures(&scene) {
                if !renderer.has_picture(&path) {
                    let picture = decode(&path, screen.width.max(screen.height)).expect("a demo picture");
                    renderer.add_picture(gpu, &picture);
                }
            }
            let cpu_before = cpu_ticks(me).unwrap_or(0);
            let ms = (0..runs)
                .map(|_| {
                    let start = Instant::now();
                    let slide = renderer.draw(gpu, &scene);
                    wait_idle(gpu);
                    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
                    drop(slide);
                    elapsed
                })
                .collect();
            let cpu_ms = (cpu_ticks(me).unwrap_or(0) - cpu_before) as f64 * tick / runs as f64;
            Timings { name: (*name).to_owned(), ms, cpu_ms }
        })
        .collect()
}

/// Composes `frames` crossfade frames (two slide layers, opacity rising) on `screen`.
pub fn crossfade_frames(
    gpu: &Gpu,
    board: &Board,
    screen: &ScreenConfig,
    frames: usize,
    format: wgpu::TextureFormat,
) -> Timings {
    let mut renderer = SlideRenderer::keeping(gpu, format);
    let at: Timestamp = AT.parse().expect("instant");
    let scene_a = board.scene(screen, &showing(board, Some("flash-eau")), at);
    let scene_b = board.scene(screen, &showing(board, Some("promo-fleurs")), at);
    for path in pictures(&scene_b) {
        let picture = decode(&path, screen.width.max(screen.height)).expect("a demo picture");
        renderer.add_picture(gpu, &picture);
    }
    let a = renderer.draw(gpu, &scene_a);
    let b = renderer.draw(gpu, &scene_b);
    let compositor = Compositor::new(&gpu.device, format);
    let (ba, bb) = (compositor.bind(&gpu.device, &a.texture), compositor.bind(&gpu.device, &b.texture));
    let size = (screen.width, screen.height);
    let target = palier_player::render::frame::offscreen_output_in(gpu, size, format);
    let me = std::process::id();
    let cpu_before = cpu_ticks(me).unwrap_or(0);
    let ms = (0..frames)
        .map(|frame| {
            let opacity = frame as f32 / frames as f32;
            let layers = &[Layer { slide: &ba, opacity: 1.0 }, Layer { slide: &bb, opacity }];
            let start = Instant::now();
            let prepared = compositor.prepare(&gpu.queue, layers, Rotation::R0, 1.0, &target);
            let mut encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("bench crossfade") });
            compositor.render(&mut encoder, &target, layers, prepared);
            gpu.queue.submit([encoder.finish()]);
            wait_idle(gpu);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let cpu_ms = (cpu_ticks(me).unwrap_or(0) - cpu_before) as f64 * (1000.0 / clock_ticks()) / frames as f64;
    Timings { name: "crossfade".to_owned(), ms, cpu_ms }
}

/// Writes `dir/<screen>.toml`: a board of one screen (the lift's, or a lobby panel) whose
/// data directory is `dir`.
pub fn one_screen_config(portrait: bool, dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let screen = screen(portrait);
    let config = dir.join(format!("{}.toml", screen.name));
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nbuilding_name = \"Résidence Les Tilleuls\"\n\n[[screen]]\nname = {:?}\nrole = {:?}\nwidth = {}\nheight = {}\n",
            dir, screen.name, screen.role, screen.width, screen.height
        ),
    )?;
    Ok(config)
}

/// From spawning `palier-player --demo --config <one screen> --headless` to its log saying
/// the first frame was presented (the demo pack installed first, as every demo start does).
pub fn start_to_first_frame(player: &Path, portrait: bool, dir: &Path) -> anyhow::Result<f64> {
    let config = one_screen_config(portrait, dir)?;
    let start = Instant::now();
    let mut child = std::process::Command::new(player)
        .args(["--demo", "--headless", "--config"])
        .arg(&config)
        .env("RUST_LOG", "palier_player=info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().expect("piped");
    let mut seen = false;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
        if line.is_ok_and(|l| l.contains("first frame presented")) {
            seen = true;
            break;
        }
    }
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    crate::windowed::terminate(&mut child);
    anyhow::ensure!(seen, "palier-player --headless ended without a first frame");
    Ok(elapsed)
}

/// `palier-player --cache <cache> sheet`: wall seconds and peak RSS (MiB, `VmHWM` polled
/// every 10 ms until exit).
pub fn sheet(player: &Path, cache: &Path, out: &Path) -> anyhow::Result<(f64, f64)> {
    let start = Instant::now();
    let mut child = std::process::Command::new(player)
        .arg("--cache")
        .arg(cache)
        .arg("sheet")
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(out.with_extension("log"))?)
        .spawn()?;
    let pid = child.id();
    let mut peak_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        peak_kib = crate::procs::peak_rss_kib(pid).unwrap_or(0).max(peak_kib);
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        let log = std::fs::read_to_string(out.with_extension("log")).unwrap_or_default();
        anyhow::bail!("palier-player sheet failed: {log}");
    }
    Ok((seconds, peak_kib as f64 / 1024.0))
}
