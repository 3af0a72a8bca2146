//! What a screen costs, side by side with a browser-based player: one table on stdout, the
//! same figures in `target/bench/results.json` (and the table in `target/bench/table.md`).
//! Prints figures, asserts nothing.
//!
//! Run it with `bench/run` (which builds the release binaries first), or
//! `cargo bench -p palier-bench --bench cost -- [--quick] [--runs N] [--window SECONDS]
//! [--only windowed|player|sync] [--chromium-gpu disabled|default]`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use jiff::Timestamp;
use palier_bench::machine::{Machine, load_average};
use palier_bench::report::{Table, num, with_unit};
use palier_bench::stats::{median, p95, p99, share_over};
use palier_bench::windowed::ChromiumGpu;
use palier_bench::windowed_report::{WindowedOptions, static_part, windowed_part};
use palier_bench::{big_cache, player, sync};
use palier_content::config::BackendChoice;
use palier_player::render::Gpu;
use palier_player::source::Assets;
use serde_json::{Map, Value, json};

// The default --monitor, 7056x1920: an Xvfb screen on which the demo's windows (one
// 1080×1920 beside a row of three 1920×1080, with the layout's 1 % gaps) come out at their
// native size, so every pixel a board would drive is drawn, by both players.

/// What a screen costs, beside a Chromium kiosk showing the same rotation.
#[derive(Debug, Clone, Parser)]
#[command(name = "cost", about = "Palier's benchmark (run it with bench/run)")]
struct Options {
    /// Runs of each windowed measurement (the table shows medians).
    #[arg(long, default_value_t = 3, value_parser = parse_runs)]
    runs: usize,
    /// Seconds each windowed run measures.
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// Minutes of the side-by-side run whose last minute gives the steady-state memory.
    #[arg(long, default_value_t = 6)]
    steady_minutes: u64,
    /// One short run of everything (20-second windows, 2 minutes side by side), to check the
    /// benchmark itself.
    #[arg(long)]
    quick: bool,
    /// Only these parts; repeat for several.
    #[arg(long, value_parser = ["windowed", "player", "sync", "scale"])]
    only: Vec<String>,
    /// Whether Chromium may use its GPU process.
    #[arg(long, value_enum, default_value = "disabled")]
    chromium_gpu: ChromiumGpuArg,
    /// The Xvfb screen both players run on.
    #[arg(long, value_name = "WIDTHxHEIGHT", value_parser = parse_monitor, default_value = "7056x1920")]
    monitor: (u32, u32),
    /// `cargo bench` passes this; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ChromiumGpuArg {
    Disabled,
    Default,
}

fn parse_runs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_monitor(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text.split_once('x').ok_or("WIDTHxHEIGHT, e.g. 7056x1920")?;
    Ok((w.parse().map_err(|e| format!("width: {e}"))?, h.parse().map_err(|e| format!("height: {e}"))?))
}

impl Options {
    fn parse_args() -> Options {
        let mut options = Options::parse();
        if options.quick {
            options.runs = 1;
            options.window = 20;
            options.steady_minutes = 2;
        }
        options
    }

    fn chromium_gpu(&self) -> ChromiumGpu {
        match self.chromium_gpu {
            ChromiumGpuArg::Disabled => ChromiumGpu::Disabled,
            ChromiumGpuArg::Default => ChromiumGpu::Default,
        }
    }

    fn windowed(&self) -> WindowedOptions {
        WindowedOptions {
            runs: self.runs,
            warmup: Duration::from_secs(if self.quick { 5 } else { 10 }),
            window: Duration::from_secs(self.window),
            monitor: self.monitor,
            chromium_gpu: self.chromium_gpu(),
            steady: Duration::from_secs(60 * self.steady_minutes),
            with_chromium: which("chromium"),
        }
    }

    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == part)
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("palier-bench: {e:#}");
        std::process::exit(1);
    }
}

fn progress(message: &str) {
    eprintln!("[{}] {message}", Timestamp::now().strftime("%H:%M:%S"));
}

fn run() -> anyhow::Result<()> {
    let options = Options::parse_args();
    let load_start = load_average();
    let started = Timestamp::now();
    let bins = (
        palier_testkit::processes::binary("palier-player"),
        palier_testkit::processes::binary("palier-platform"),
        palier_testkit::processes::binary("palier-sync"),
    );
    let assets = Assets::locate(None)?;
    let work = tempfile::Builder::new().prefix("palier-bench-").tempdir()?;
    let gpu =
        Gpu::headless(BackendChoice::Auto).context("a GPU adapter (apt-get install mesa-vulkan-drivers)")?;
    let machine = Machine::describe(gpu.describe());
    let mut table = Table::default();
    let mut results = Map::new();

    // The 1-minute load average as each part starts: what else the machine was doing (the
    // benchmark's own earlier parts included).
    let mut loads: Vec<(&str, f64)> = Vec::new();
    if options.wants("windowed") {
        loads.push(("windowed", load_average()[0]));
        let windowed = options.windowed();
        windowed_part(&windowed, &bins.0, &assets, work.path(), &mut table, &mut results, &progress)?;
        static_part(&windowed, &bins.0, &assets, work.path(), &mut table, &mut results, &progress)?;
    }
    if options.wants("player") {
        loads.push(("player", load_average()[0]));
        player_section(&options, &gpu, &bins.0, &assets, work.path(), &mut table, &mut results)?;
    }
    drop(gpu);
    if options.wants("sync") {
        loads.push(("sync", load_average()[0]));
        sync_section(&options, &bins.2, &assets, &mut table, &mut results)?;
    }
    if options.wants("scale") {
        loads.push(("scale", load_average()[0]));
        scale_section(&options, &assets, &mut table, &mut results)?;
    }

    let load_end = load_average();
    table.header = vec![format!(
        "Palier benchmark, {} UTC, commit {}; {} run(s) per figure where repeated",
        started.strftime("%Y-%m-%d %H:%M"),
        machine.commit,
        options.runs
    )];
    table.header.extend(machine.header());
    table.header.push(format!(
        "1-minute load average: {:.2} at start; {}; {:.2} at end (5 and 15 min at start: {:.2} {:.2})",
        load_start[0],
        loads.iter().map(|(part, load)| format!("{load:.2} before {part}")).collect::<Vec<_>>().join(", "),
        load_end[0],
        load_start[1],
        load_start[2]
    ));
    let rendered = table.render();
    println!("{rendered}");

    results.insert("generated_at".into(), json!(started.to_string()));
    let arguments: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    results.insert("arguments".into(), json!(arguments));
    results.insert("machine".into(), machine.to_json());
    let before: Map<String, Value> =
        loads.iter().map(|(part, load)| ((*part).to_owned(), json!(load))).collect();
    results.insert(
        "load_average".into(),
        json!({"start": load_start, "before_part_1min": before, "end": load_end}),
    );
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| palier_testkit::processes::workspace_root().join("target"))
        .join("bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("results.json"), serde_json::to_vec_pretty(&Value::Object(results))?)?;
    std::fs::write(dir.join("table.md"), &rendered)?;
    eprintln!("written: {}, {}", dir.join("results.json").display(), dir.join("table.md").display());
    Ok(())
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn player_section(
    options: &Options,
    gpu: &Gpu,
    player_bin: &std::path::Path,
    assets: &Assets,
    work: &std::path::Path,
    table: &mut Table,
    results: &mut Map<String, Value>,
) -> anyhow::Result<()> {
    let draws = if options.quick { 8 } else { 30 };
    let frames = if options.quick { 60 } else { 300 };
    let starts = if options.quick { 2 } else { 5 };
    let board_dir = work.join("draw-board");
    std::fs::create_dir_all(&board_dir)?;
    let board = player::demo_board(assets, &board_dir)?;
    // The GL backend beside (llvmpipe through EGL, the path a Raspberry Pi 4 takes).
    let gl =
        Gpu::headless(BackendChoice::Gl).ok().filter(|g| g.adapter.get_info().backend == wgpu::Backend::Gl);
    let mut json_orientations = Map::new();
    let mut rows: Vec<(String, [String; 2])> = Vec::new();
    let mut columns = Vec::new();
    for (index, portrait) in [true, false].into_iter().enumerate() {
        let screen = player::screen(portrait);
        let orientation = if portrait { "portrait" } else { "landscape" };
        progress(&format!("player, {orientation}: start to first frame, slide draws, crossfade frames"));
        let dir = work.join(format!("start-{orientation}"));
        std::fs::create_dir_all(&dir)?;
        let start_ms: Vec<f64> = (0..starts)
            .map(|_| player::start_to_first_frame(player_bin, portrait, &dir))
            .collect::<anyhow::Result<_>>()?;
        let slides = player::slide_draws(gpu, &board, &screen, draws);
        let fade = player::crossfade_frames(gpu, &board, &screen, frames, wgpu::TextureFormat::Bgra8Unorm);
        columns.push(format!("{orientation} {}×{}", screen.width, screen.height));

        let mut set = |row: usize, label: String, value: String| {
            if rows.len() <= row {
                rows.push((label, [String::new(), String::new()]));
            }
            rows[row].1[index] = value;
        };
        set(
            0,
            format!("start to first frame, headless, 1 screen (median of {starts})"),
            with_unit(median(&start_ms), 0, "ms"),
        );
        for (i, t) in slides.iter().enumerate() {
            set(
                i + 1,
                format!("draw {}, median / p99", t.name),
                format!("{} / {} ms", num(median(&t.ms), 1), num(p99(&t.ms), 1)),
            );
        }
        let n = slides.len() + 1;
        set(
            n,
            "crossfade frame, median / p99".into(),
            format!("{} / {} ms", num(median(&fade.ms), 2), num(p99(&fade.ms), 2)),
        );
        set(n + 1, "crossfade frames over 16.7 ms".into(), with_unit(share_over(&fade.ms, 16.7), 1, "%"));
        let gl_fade = gl
            .as_ref()
            .map(|gl| player::crossfade_frames(gl, &board, &screen, frames, wgpu::TextureFormat::Rgba8Unorm));
        set(
            n + 2,
            "crossfade frame on GL (llvmpipe through EGL), median / p99".into(),
            gl_fade
                .as_ref()
                .map_or("–".into(), |f| format!("{} / {} ms", num(median(&f.ms), 2), num(p99(&f.ms), 2))),
        );
        json_orientations.insert(
            orientation.into(),
            json!({
                "width": screen.width,
                "height": screen.height,
                "start_to_first_frame_ms": start_ms,
                "draws": slides.iter().map(|t| json!({"template": t.name, "median_ms": median(&t.ms), "p99_ms": p99(&t.ms), "cpu_ms_per_draw": t.cpu_ms, "samples_ms": t.ms})).collect::<Vec<_>>(),
                "crossfade": {"frames": frames, "median_ms": median(&fade.ms), "p99_ms": p99(&fade.ms), "over_16_7_ms_percent": share_over(&fade.ms, 16.7), "cpu_ms_per_frame": fade.cpu_ms},
                "crossfade_gl": gl_fade.as_ref().map(|f| json!({"frames": frames, "median_ms": median(&f.ms), "p99_ms": p99(&f.ms), "cpu_ms_per_frame": f.cpu_ms})),
            }),
        );
    }
    table.section(
        &format!(
            "Player, release, offscreen on {}, {draws} draws and {frames} frames each",
            short_adapter(&gpu.describe())
        ),
        [columns[0].as_str(), columns[1].as_str(), ""],
    );
    for (label, [a, b]) in rows {
        table.row(&label, [a, b, String::new()]);
    }

    progress("player: sheet of a 500-item cache");
    let cache_dir = work.join("cache-500");
    std::fs::create_dir_all(&cache_dir)?;
    let cache = big_cache::install(&assets.demo_pack(), 500, &cache_dir, Timestamp::now())?;
    let sheet_runs = if options.quick { 1 } else { options.runs };
    let sheets: Vec<(f64, f64)> = (0..sheet_runs)
        .map(|i| player::sheet(player_bin, &cache, &work.join(format!("sheet-{i}.png"))))
        .collect::<anyhow::Result<_>>()?;
    let seconds: Vec<f64> = sheets.iter().map(|s| s.0).collect();
    let peaks: Vec<f64> = sheets.iter().map(|s| s.1).collect();
    table.row(
        &format!("`sheet` of a 500-item cache, 4 screens: time, peak RSS (median of {sheet_runs})"),
        [
            format!("{} s, {} MiB", num(median(&seconds), 1), num(median(&peaks), 0)),
            String::new(),
            String::new(),
        ],
    );
    json_orientations.insert("adapter".into(), json!(gpu.describe()));
    json_orientations.insert(
        "sheet_500_items".into(),
        json!({"screens": 4, "max_tiles_per_screen": 60, "seconds": seconds, "peak_rss_mib": peaks, "median_seconds": median(&seconds), "median_peak_rss_mib": median(&peaks)}),
    );
    results.insert("player".into(), Value::Object(json_orientations));
    Ok(())
}

/// "llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, Cpu, …)" -> "llvmpipe (Vulkan)".
fn short_adapter(describe: &str) -> String {
    let name = describe.split(" (").next().unwrap_or(describe);
    let backend = describe.split('(').find_map(|part| {
        ["Vulkan", "Gl", "Metal", "Dx12"].into_iter().find(|b| part.starts_with(b)).map(str::to_owned)
    });
    match backend {
        Some(backend) => format!("{name} ({backend})"),
        None => name.to_owned(),
    }
}

fn sync_section(
    options: &Options,
    sync_bin: &std::path::Path,
    assets: &Assets,
    table: &mut Table,
    results: &mut Map<String, Value>,
) -> anyhow::Result<()> {
    progress("sync: a platform with the demo pack, published through its API");
    let demo = sync::DemoPlatform::start(&assets.demo_pack())?;
    table.section("Sync and platform, loopback", ["", "", ""]);

    progress("sync: idle polls through the counting proxy");
    let idle = sync::idle_polls(&demo, if options.quick { 2 } else { 3 })?;
    let request = median(&idle.polls.iter().map(|p| p.0 as f64).collect::<Vec<_>>());
    let response = median(&idle.polls.iter().map(|p| p.1 as f64).collect::<Vec<_>>());
    table.row(
        "idle poll (manifest 304), HTTP bytes request + response",
        [
            format!("{} + {} = {} B", num(request, 0), num(response, 0), num(request + response, 0)),
            String::new(),
            String::new(),
        ],
    );
    table.row(
        &format!(
            "first round of a lift board ({} items, {} requests), HTTP bytes",
            demo.items, idle.first_round_requests
        ),
        [format!("{} KiB", num(idle.first_round_bytes as f64 / 1024.0, 0)), String::new(), String::new()],
    );

    let runs = if options.quick { 1 } else { options.runs.max(3) };
    progress("sync: first syncs of the demo pack");
    let first = sync::first_syncs(&demo, sync_bin, runs)?;
    table.row(
        &format!("first sync of the demo pack, lift 1080×1920, `sync-once` (median of {runs})"),
        [with_unit(median(&first), 0, "ms"), String::new(), String::new()],
    );

    let trials = if options.quick { 5 } else { 20 };
    progress("sync: publish to cache through the change hint");
    let latencies = sync::publish_to_cache(&demo, trials)?;
    table.row(
        &format!("publish → cache through the change hint, p50 / p95 ({trials} trials)"),
        [
            format!("{} / {} ms", num(median(&latencies), 0), num(p95(&latencies), 0)),
            String::new(),
            String::new(),
        ],
    );

    let (devices, connections, seconds) = if options.quick { (50, 16, 5) } else { (200, 32, 10) };
    progress("platform: idle devices' polls served");
    let served = sync::devices_served(&demo, devices, connections, seconds, options.runs)?;
    let m = sync::median_run(&served).context("a load run")?;
    let rps = m.run.per_second();
    let platform_cores = m.platform.cpu_s / m.platform.seconds;
    let generator_cores = m.generator_cpu_s / m.run.seconds;
    let per_two_cores = rps * 2.0 / platform_cores;
    table.row(
        &format!("idle polls served per second ({devices} devices, {connections} connections, {seconds} s, median of {})", options.runs),
        [format!("{} /s, p99 {} ms", num(rps, 0), num(p99(&m.run.latencies_ms), 1)), String::new(), String::new()],
    );
    table.row(
        "… platform CPU meanwhile (load generator on the same 2 cores)",
        [
            format!("{} cores (generator {})", num(platform_cores, 2), num(generator_cores, 2)),
            String::new(),
            String::new(),
        ],
    );
    table.row(
        "… polls per second per 2 platform cores; devices at 1 poll/min",
        [
            format!("{} /s; {}", num(per_two_cores, 0), num(per_two_cores * 60.0, 0)),
            String::new(),
            String::new(),
        ],
    );
    results.insert(
        "sync".into(),
        json!({
            "platform_items": demo.items,
            "platform_media_bytes": demo.media_bytes,
            "idle_poll": sync::idle_json(&idle),
            "idle_poll_median_bytes": {"request": request, "response": response},
            "first_sync_ms": first,
            "first_sync_median_ms": median(&first),
            "publish_to_cache_ms": latencies,
            "publish_to_cache_p50_ms": median(&latencies),
            "publish_to_cache_p95_ms": p95(&latencies),
        }),
    );
    results.insert(
        "platform".into(),
        json!({
            "devices": devices,
            "connections": connections,
            "seconds": seconds,
            "runs": served.iter().map(|s| json!({
                "requests": s.run.requests,
                "errors": s.run.errors,
                "seconds": s.run.seconds,
                "per_second": s.run.per_second(),
                "p50_ms": median(&s.run.latencies_ms),
                "p99_ms": p99(&s.run.latencies_ms),
                "platform_cpu_s": s.platform.cpu_s,
                "platform_threads": s.platform.threads,
                "generator_cpu_s": s.generator_cpu_s,
            })).collect::<Vec<_>>(),
            "median_per_second": rps,
            "platform_cores_used": platform_cores,
            "per_second_per_two_platform_cores": per_two_cores,
        }),
    );
    Ok(())
}

/// The platform on PostgreSQL beside SQLite: polls per replica, hints across replicas, idle
/// streams one replica holds.
fn scale_section(
    options: &Options,
    assets: &Assets,
    table: &mut Table,
    results: &mut Map<String, Value>,
) -> anyhow::Result<()> {
    use palier_bench::scale;
    progress("scale: a throw-away PostgreSQL cluster (pg_virtualenv)");
    let cluster = palier_testkit::servers::PostgresCluster::start().map_err(anyhow::Error::msg)?;
    let (devices, connections, seconds) = if options.quick { (50, 16, 5) } else { (200, 32, 10) };
    table.section(
        "Platform past one machine, loopback (PostgreSQL 15 on the same 2 cores)",
        ["SQLite", "PostgreSQL", "PostgreSQL/SQLite"],
    );

    progress("scale: idle polls on SQLite, then on PostgreSQL");
    let sqlite = sync::DemoPlatform::start(&assets.demo_pack())?;
    let on_sqlite = sync::devices_served(&sqlite, devices, connections, seconds, options.runs)?;
    drop(sqlite);
    let url = cluster.database("palier_bench").map_err(anyhow::Error::msg)?;
    let mut postgres = sync::DemoPlatform::start_with(&assets.demo_pack(), &scale::settings_for(&url))?;
    let on_postgres = sync::devices_served(&postgres, devices, connections, seconds, options.runs)?;
    let (s, p) = (
        sync::median_run(&on_sqlite).context("a load run")?,
        sync::median_run(&on_postgres).context("a load run")?,
    );
    table.row(
        &format!("idle polls served per second by one process ({devices} devices, {connections} connections, {seconds} s, median of {})", options.runs),
        [
            format!("{} /s, p99 {} ms", num(s.run.per_second(), 0), num(p99(&s.run.latencies_ms), 1)),
            format!("{} /s, p99 {} ms", num(p.run.per_second(), 0), num(p99(&p.run.latencies_ms), 1)),
            format!("{}×", num(p.run.per_second() / s.run.per_second(), 2)),
        ],
    );

    progress("scale: publish on replica A, hint on replica B");
    let mut replica = postgres.platform.replica();
    replica.serve();
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let board = palier_bench::load::enrol(
        &http,
        &postgres.platform.url,
        &postgres.platform.device_code("lift"),
        "scale-board",
    )?;
    let trials = if options.quick { 5 } else { 30 };
    let across = scale::hint_across(&postgres.platform, &replica, &board.token, trials)?;
    table.row(
        &format!("publish on replica A → change hint on replica B's stream, p50 / p95 ({trials} trials)"),
        [String::new(), format!("{} / {} ms", num(median(&across), 0), num(p95(&across), 0)), String::new()],
    );

    let limit = scale::open_file_limit();
    let streams = if options.quick { 500 } else { (limit.saturating_sub(200) / 2).min(10_000) as usize };
    progress(&format!("scale: {streams} idle event streams on one replica"));
    let tokens: Vec<String> = (0..20)
        .map(|n| {
            palier_bench::load::enrol(&http, &replica.url, &replica.device_code("lift"), &format!("held-{n}"))
                .map(|d| d.token)
        })
        .collect::<anyhow::Result<_>>()?;
    let held = scale::hold_streams(&replica, &tokens, streams)?;
    table.row(
        &format!("idle event streams held by one replica (open-file limit {limit}): memory per stream"),
        [
            String::new(),
            format!(
                "{} streams, {} KiB each (RSS {} → {} MiB)",
                held.opened,
                num(held.kib_per_stream(), 1),
                num(held.rss_before_mib, 0),
                num(held.rss_after_mib, 0)
            ),
            String::new(),
        ],
    );
    replica.stop();
    postgres.platform.stop();
    results.insert(
        "scale".into(),
        json!({
            "devices": devices, "connections": connections, "seconds": seconds,
            "polls_per_second": {"sqlite": on_sqlite.iter().map(|r| r.run.per_second()).collect::<Vec<_>>(),
                                 "postgres": on_postgres.iter().map(|r| r.run.per_second()).collect::<Vec<_>>()},
            "hint_across_replicas_ms": across,
            "hint_across_replicas_p50_ms": median(&across),
            "hint_across_replicas_p95_ms": p95(&across),
            "streams_held": held.opened,
            "stream_kib": held.kib_per_stream(),
            "replica_rss_mib": {"before": held.rss_before_mib, "after": held.rss_after_mib},
        }),
    );
    Ok(())
}
