//! What a screen costs: prints medians, never asserts. Run with
//! `cargo bench -p palier-player --bench player` (add `-- --quick` to skip the 60-second
//! windowed run, which needs `Xvfb`).
//!
//! On a machine without a GPU the figures are Mesa's software rasterizer's: the CPU does the
//! GPU's work, so CPU time per frame is the honest cost.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use palier_content::config::{BackendChoice, Rotation, ScreenConfig};
use palier_content::demo::DemoPack;
use palier_content::wire::PlayTrigger;
use palier_content::{Cache, CacheReader, Channel};
use palier_player::board::Board;
use palier_player::playlist::{Showing, SlideRef};
use palier_player::render::compose::{Compositor, Layer};
use palier_player::render::{Gpu, SLIDE_FORMAT, SlideRenderer};
use palier_player::source::{Assets, demo_config};

const BIN: &str = env!("CARGO_BIN_EXE_palier-player");

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let gpu = Gpu::headless(BackendChoice::Auto).expect("a GPU adapter (install mesa-vulkan-drivers)");
    println!(
        "machine: {} cores, adapter {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        gpu.describe()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let board = demo_board(dir.path());
    slide_draws(&gpu, &board);
    crossfade_frames(&gpu, &board);
    start_to_first_frame();
    sheet_memory();
    if !quick {
        windowed_minute();
    }
}

fn demo_board(dir: &Path) -> Board {
    let now: Timestamp = "2026-11-24T08:00:00Z".parse().expect("instant");
    let assets = Assets::locate(None).expect("assets");
    let pack = DemoPack::load(&assets.demo_pack(), now).expect("demo pack");
    let path = dir.join("cache.sqlite");
    pack.install(&mut Cache::open(&path).expect("cache"), now).expect("install");
    let snapshot = CacheReader::open(&path).expect("cache").snapshot().expect("snapshot");
    Board::new(snapshot, &demo_config(dir), &assets)
}

fn lift() -> ScreenConfig {
    ScreenConfig {
        name: "lift".into(),
        role: "lift".into(),
        channels: Channel::ALL.to_vec(),
        width: 1080,
        height: 1920,
        rotation: Rotation::R0,
        output: None,
    }
}

fn showing(board: &Board, id: Option<&str>) -> Showing {
    let at: Timestamp = "2026-11-24T08:00:00Z".parse().expect("instant");
    let slide = match id {
        Some(id) => {
            SlideRef::Item { id: id.into(), version: board.snapshot.item(id).expect("demo item").version }
        }
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

/// CPU seconds used so far by this process, all threads (llvmpipe's included).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    ticks / 100.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn p99(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * 0.99).ceil() as usize).min(values.len()) - 1]
}

fn wait_idle(gpu: &Gpu) {
    gpu.device.poll(wgpu::PollType::wait_indefinitely()).expect("GPU finished");
}

fn slide_draws(gpu: &Gpu, board: &Board) {
    let mut renderer = SlideRenderer::new(gpu);
    let screen = lift();
    println!("\nslide draw at 1080×1920 (layout, upload, render; 12 runs each)");
    println!("{:<20} {:>12} {:>12} {:>14}", "template", "median ms", "p99 ms", "CPU ms / draw");
    let cases = [
        ("flash", Some("flash-eau")),
        ("urgent flash", Some("flash-ascenseur")),
        ("offer + photo", Some("demande-chat")),
        ("promo + photo", Some("promo-fleurs")),
        ("event + photo", Some("event-jardin")),
        ("news", Some("news-marche")),
        ("fallback", None),
    ];
    let at: Timestamp = "2026-11-24T08:00:00Z".parse().expect("instant");
    for (name, id) in cases {
        let showing = showing(board, id);
        let scene = board.scene(&screen, &showing, at);
        for path in palier_player::board::pictures(&scene) {
            if !renderer.has_picture(&path) {
                let picture = palier_player::render::images::decode(&path, 1920).expect("demo picture");
                renderer.add_picture(gpu, &picture);
            }
        }
        let mut times = Vec::new();
        let cpu_before = cpu_seconds(std::process::id());
        for _ in 0..12 {
            let start = Instant::now();
            let slide = renderer.draw(gpu, &scene);
            wait_idle(gpu);
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            drop(slide);
        }
        let cpu = (cpu_seconds(std::process::id()) - cpu_before) * 1000.0 / 12.0;
        println!("{name:<20} {:>12.1} {:>12.1} {:>14.1}", median(times.clone()), p99(times), cpu);
    }
}

fn crossfade_frames(gpu: &Gpu, board: &Board) {
    let mut renderer = SlideRenderer::new(gpu);
    let screen = lift();
    let at: Timestamp = "2026-11-24T08:00:00Z".parse().expect("instant");
    let a = renderer.draw(gpu, &board.scene(&screen, &showing(board, Some("flash-eau")), at));
    let b = renderer.draw(gpu, &board.scene(&screen, &showing(board, Some("news-marche")), at));
    let compositor = Compositor::new(&gpu.device, SLIDE_FORMAT);
    let (ba, bb) = (compositor.bind(&gpu.device, &a.texture), compositor.bind(&gpu.device, &b.texture));
    let target = gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some("bench output"),
        size: wgpu::Extent3d { width: 1080, height: 1920, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: SLIDE_FORMAT,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
        view_formats: &[],
    });
    let view = target.create_view(&wgpu::TextureViewDescriptor::default());
    let mut times = Vec::new();
    let cpu_before = cpu_seconds(std::process::id());
    const FRAMES: usize = 120;
    for frame in 0..FRAMES {
        let opacity = frame as f32 / FRAMES as f32;
        let layers = [Layer { slide: &ba, opacity: 1.0 }, Layer { slide: &bb, opacity }];
        let start = Instant::now();
        compositor.prepare(&gpu.queue, &layers, Rotation::R0, 1.0, (1080, 1920));
        let mut encoder =
            gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("bench") });
        compositor.render(&mut encoder, &view, &layers);
        gpu.queue.submit([encoder.finish()]);
        wait_idle(gpu);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let cpu = (cpu_seconds(std::process::id()) - cpu_before) * 1000.0 / FRAMES as f64;
    let over = times.iter().filter(|&&t| t > 16.7).count() as f64 / FRAMES as f64 * 100.0;
    println!("\ncrossfade frame at 1080×1920 ({FRAMES} frames, two slide layers)");
    println!(
        "median {:.2} ms, p99 {:.2} ms, {over:.0} % over 16.7 ms, CPU {cpu:.2} ms / frame",
        median(times.clone()),
        p99(times)
    );
}

fn start_to_first_frame() {
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut child = Command::new(BIN)
            .args(["--demo", "--headless"])
            .env("RUST_LOG", "palier_player=info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("palier-player runs");
        let stderr = child.stderr.take().expect("stderr");
        for line in BufReader::new(stderr).lines() {
            if line.map(|l| l.contains("first frame presented")).unwrap_or(true) {
                break;
            }
        }
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        let _ = child.kill();
        let _ = child.wait();
    }
    println!(
        "\nprocess start to first frame, headless (demo install included, 5 runs): median {:.0} ms",
        median(times)
    );
}

fn sheet_memory() {
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(["--demo", "sheet", "--out"])
        .arg(out.path().with_extension("png"))
        .stderr(Stdio::null())
        .spawn()
        .expect("palier-player runs");
    let pid = child.id();
    let mut peak_kib = 0u64;
    while child.try_wait().expect("wait").is_none() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            for line in status.lines().filter(|l| l.starts_with("VmHWM:")) {
                peak_kib =
                    peak_kib.max(line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "\n`sheet --demo`: {:.1} s, peak RSS {:.0} MiB",
        start.elapsed().as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
}

fn windowed_minute() {
    let display = ":91";
    let mut xvfb = match Command::new("Xvfb")
        .args([display, "-screen", "0", "1920x1080x24"])
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(x) => x,
        Err(e) => {
            println!("\nwindowed run skipped: Xvfb not available ({e})");
            return;
        }
    };
    std::thread::sleep(Duration::from_secs(1));
    let mut player = Command::new(BIN)
        .arg("--demo")
        .env("DISPLAY", display)
        .stderr(Stdio::null())
        .spawn()
        .expect("palier-player runs");
    let pid = player.id();
    std::thread::sleep(Duration::from_secs(5));
    let switches = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("voluntary_ctxt_switches"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    let (cpu0, wake0) = (cpu_seconds(pid), switches(pid));
    std::thread::sleep(Duration::from_secs(60));
    let (cpu1, wake1) = (cpu_seconds(pid), switches(pid));
    let _ = player.kill();
    let _ = player.wait();
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    println!(
        "\n`palier-player --demo` under Xvfb, 4 windows, 60 s: {:.1} CPU seconds ({:.1} % of one core), {} main-thread wake-ups",
        cpu1 - cpu0,
        (cpu1 - cpu0) / 60.0 * 100.0,
        wake1 - wake0
    );
}
