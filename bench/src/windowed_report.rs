//! The windowed part of the benchmark: the player in real windows under Xvfb on both of
//! Mesa's software backends (Vulkan through lavapipe, GL through llvmpipe and EGL) beside a
//! Chromium kiosk showing the same rotation, for the four demo screens and for one portrait
//! screen; memory once the programs have run long enough to settle; and a static slide.
//!
//! Programs take turns for CPU and wake-ups (medians of several runs of a window each); for
//! the steady-state memory they run side by side (memory does not depend on sharing the
//! cores), sampled every 20 s.

use std::path::Path;
use std::time::Duration;

use jiff::SignedDuration;
use serde_json::{Map, Value, json};

use crate::page;
use crate::procs::Usage;
use crate::report::{Table, num, ratio, with_unit};
use crate::stats::median;
use crate::windowed::{self, Backend, ChromiumGpu, PalierSetup, WindowedRun, chromium_flags};
use palier_player::source::Assets;

/// Seconds per slide in the windowed runs, and the crossfade (the player's default).
pub const SLIDE_SECONDS: u32 = 10;
pub const CROSSFADE_MS: u32 = 600;
/// How often memory is sampled in the steady-state run.
const PSS_PERIOD: Duration = Duration::from_secs(20);

/// How the windowed part runs.
#[derive(Debug, Clone)]
pub struct WindowedOptions {
    pub runs: usize,
    pub warmup: Duration,
    pub window: Duration,
    /// The Xvfb screen of the four-screen runs (one portrait screen gets 1080×1920).
    pub monitor: (u32, u32),
    pub chromium_gpu: ChromiumGpu,
    /// How long the side-by-side memory run lasts; its last minute is the steady state.
    pub steady: Duration,
    /// Whether Chromium is installed.
    pub with_chromium: bool,
}

/// The two sets of screens measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Screens {
    /// The demo's lift screen and three lobby panels.
    Demo,
    /// The lift screen alone.
    Lift,
}

impl Screens {
    fn label(self) -> &'static str {
        match self {
            Screens::Demo => "4 screens",
            Screens::Lift => "1 portrait screen",
        }
    }

    fn count(self) -> usize {
        match self {
            Screens::Demo => 4,
            Screens::Lift => 1,
        }
    }
}

/// Field-wise medians of several runs, per minute where it is a count over the window.
#[derive(Debug, Clone, Copy)]
struct Medians {
    cpu_s: f64,
    xvfb_cpu_s: f64,
    wakeups_per_min: f64,
    main_wakeups_per_min: f64,
    rss: f64,
    pss: f64,
    frames_per_min: f64,
    processes: f64,
    threads: f64,
    first_frame_ms: f64,
}

fn medians(runs: &[WindowedRun]) -> Option<Medians> {
    if runs.is_empty() {
        return None;
    }
    let of = |f: &dyn Fn(&WindowedRun) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let per_min = |count: u64, usage: &Usage| count as f64 * 60.0 / usage.seconds;
    Some(Medians {
        cpu_s: of(&|r| r.program.cpu_s * 60.0 / r.program.seconds),
        xvfb_cpu_s: of(&|r| r.xvfb.cpu_s * 60.0 / r.xvfb.seconds),
        wakeups_per_min: of(&|r| per_min(r.program.wakeups, &r.program)),
        main_wakeups_per_min: of(&|r| per_min(r.program.main_wakeups, &r.program)),
        rss: of(&|r| r.program.peak_rss_mib),
        pss: of(&|r| r.program.peak_pss_mib),
        frames_per_min: of(&|r| r.frames.map_or(f64::NAN, |f| per_min(f, &r.program))),
        processes: of(&|r| r.program.processes as f64),
        threads: of(&|r| r.program.threads as f64),
        first_frame_ms: of(&|r| r.first_frame_ms.unwrap_or(f64::NAN)),
    })
}

fn medians_json(m: &Medians) -> Value {
    let finite = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
    json!({
        "cpu_s_per_min": m.cpu_s,
        "xvfb_cpu_s_per_min": m.xvfb_cpu_s,
        "wakeups_per_min": m.wakeups_per_min,
        "main_thread_wakeups_per_min": m.main_wakeups_per_min,
        "peak_rss_mib": m.rss,
        "peak_pss_mib": m.pss,
        "frames_per_min": finite(m.frames_per_min),
        "processes": m.processes,
        "threads": m.threads,
        "first_frame_ms": finite(m.first_frame_ms),
    })
}

fn usage_json(run: &WindowedRun) -> Value {
    let u = &run.program;
    json!({
        "seconds": u.seconds, "cpu_s": u.cpu_s, "wakeups": u.wakeups, "main_thread_wakeups": u.main_wakeups,
        "peak_rss_mib": u.peak_rss_mib, "peak_pss_mib": u.peak_pss_mib, "processes": u.processes,
        "threads": u.threads, "xvfb_cpu_s": run.xvfb.cpu_s, "frames": run.frames,
        "first_frame_ms": run.first_frame_ms,
    })
}

/// The highest PSS sampled in the last minute of a series, and its first sample's.
fn settled(series: &[(f64, f64)]) -> (f64, f64) {
    let end = series.last().map_or(0.0, |s| s.0);
    let last_minute = series.iter().filter(|s| s.0 >= end - 60.0).map(|s| s.1).fold(f64::NAN, f64::max);
    (series.first().map_or(f64::NAN, |s| s.1), last_minute)
}

/// Everything measured for one set of screens.
struct Measured {
    palier: Vec<(Backend, Vec<WindowedRun>)>,
    chromium: Vec<WindowedRun>,
    /// Per program (Vulkan, GL, Chromium): (seconds, MiB) samples of the side-by-side run.
    steady: Vec<Vec<(f64, f64)>>,
}

/// Runs the windowed part and adds its sections to `table` and `results`.
pub fn windowed_part(
    options: &WindowedOptions,
    player: &Path,
    assets: &Assets,
    work: &Path,
    table: &mut Table,
    results: &mut Map<String, Value>,
    progress: &dyn Fn(&str),
) -> anyhow::Result<()> {
    let timed = page::timed_assets(assets, SLIDE_SECONDS, &work.join("timed-assets"))?;
    let lift_dir = work.join("lift-board");
    std::fs::create_dir_all(&lift_dir)?;
    let lift_config = crate::player::one_screen_config(true, &lift_dir)?;
    let mut json_parts = Map::new();
    for screens in [Screens::Demo, Screens::Lift] {
        let (monitor, config) = match screens {
            Screens::Demo => (options.monitor, None),
            Screens::Lift => ((1080, 1920), Some(lift_config.as_path())),
        };
        let setup = |backend| PalierSetup { player, assets: &timed.dir, config, backend, demo: true };
        let page_for = |name: &str| -> anyhow::Result<std::path::PathBuf> {
            // A fresh page per run: its schedule starts now, like the player's demo.
            let dir = work.join(format!("page-{}-{name}", screens.count()));
            let page = page::write_page(
                &timed,
                screens.count(),
                monitor,
                SignedDuration::from_mins(15),
                CROSSFADE_MS,
                &dir,
            )?;
            Ok(page.path)
        };
        let mut measured = Measured {
            palier: vec![(Backend::Vulkan, Vec::new()), (Backend::Gl, Vec::new())],
            chromium: Vec::new(),
            steady: Vec::new(),
        };
        // Programs take turns, so a change in the machine's load touches all of them.
        for run in 0..options.runs {
            for (backend, runs) in &mut measured.palier {
                progress(&format!(
                    "windowed, {}, run {}/{}: palier-player on {}",
                    screens.label(),
                    run + 1,
                    options.runs,
                    backend.label()
                ));
                runs.push(windowed::palier(&setup(*backend), monitor, options.warmup, options.window)?);
            }
            if options.with_chromium {
                progress(&format!(
                    "windowed, {}, run {}/{}: Chromium kiosk",
                    screens.label(),
                    run + 1,
                    options.runs
                ));
                let page = page_for(&format!("run-{run}"))?;
                let warmup = options.warmup + Duration::from_secs(5);
                measured.chromium.push(windowed::chromium(
                    &page,
                    options.chromium_gpu,
                    monitor,
                    warmup,
                    options.window,
                )?);
            }
        }
        progress(&format!(
            "windowed, {}: memory side by side for {} min",
            screens.label(),
            options.steady.as_secs() / 60
        ));
        let mut programs = vec![
            windowed::start_palier(&setup(Backend::Vulkan), monitor)?,
            windowed::start_palier(&setup(Backend::Gl), monitor)?,
        ];
        if options.with_chromium {
            programs.push(windowed::start_chromium(
                &page_for("steady")?,
                options.chromium_gpu,
                monitor,
                Duration::ZERO,
            )?);
        }
        measured.steady = windowed::pss_over_time(&mut programs, options.steady, PSS_PERIOD);
        drop(programs);
        let json = report(options, screens, monitor, &measured, table);
        json_parts
            .insert(if screens == Screens::Demo { "demo_4_screens" } else { "lift_1_screen" }.into(), json);
    }
    json_parts.insert(
        "settings".into(),
        json!({
            "window_s": options.window.as_secs(), "warmup_s": options.warmup.as_secs(), "runs": options.runs,
            "slide_seconds": SLIDE_SECONDS, "crossfade_ms": CROSSFADE_MS, "steady_s": options.steady.as_secs(),
            "pss_period_s": PSS_PERIOD.as_secs(), "chromium_flags": chromium_flags(options.chromium_gpu, options.monitor),
            "chromium_gpu": options.chromium_gpu.label(),
            "palier": format!("palier-player --demo --assets <demo pack with duration_s = {SLIDE_SECONDS}>, WGPU_BACKEND=vulkan|gl"),
        }),
    );
    results.insert("windowed".into(), Value::Object(json_parts));
    Ok(())
}

/// One section per backend: Palier beside Chromium.
fn report(
    options: &WindowedOptions,
    screens: Screens,
    monitor: (u32, u32),
    measured: &Measured,
    table: &mut Table,
) -> Value {
    let chromium = medians(&measured.chromium);
    let steady: Vec<(f64, f64)> = measured.steady.iter().map(|s| settled(s)).collect();
    let chromium_steady = steady.get(2).map_or(f64::NAN, |s| s.1);
    let mut json_backends = Map::new();
    for (index, (backend, runs)) in measured.palier.iter().enumerate() {
        let Some(p) = medians(runs) else { continue };
        table.section(
            &format!(
                "Windowed, {} on a {}×{} Xvfb, Palier on {}: {} s of rotation ({SLIDE_SECONDS} s slides, {CROSSFADE_MS} ms crossfades) after {} s, median of {}",
                screens.label(),
                monitor.0,
                monitor.1,
                backend.label(),
                options.window.as_secs(),
                options.warmup.as_secs(),
                options.runs
            ),
            ["Palier", "Chromium", "Palier/Chromium"],
        );
        let c = |f: fn(&Medians) -> f64| chromium.as_ref().map_or(f64::NAN, f);
        let rows: [(&str, fn(&Medians) -> f64, usize, &str); 6] = [
            ("CPU seconds per minute, all processes", |m| m.cpu_s, 2, "s"),
            ("CPU seconds per minute, X server", |m| m.xvfb_cpu_s, 2, "s"),
            ("wake-ups per minute, all threads", |m| m.wakeups_per_min, 0, ""),
            ("wake-ups per minute, main thread", |m| m.main_wakeups_per_min, 0, ""),
            ("peak RSS in the first minute, summed over processes", |m| m.rss, 0, "MiB"),
            ("peak PSS in the first minute, summed over processes", |m| m.pss, 0, "MiB"),
        ];
        for (label, field, decimals, unit) in rows {
            table.row(
                label,
                [
                    with_unit(field(&p), decimals, unit).trim().to_owned(),
                    with_unit(c(field), decimals, unit).trim().to_owned(),
                    ratio(field(&p), c(field)),
                ],
            );
        }
        let (start_pss, settled_pss) = steady.get(index).copied().unwrap_or((f64::NAN, f64::NAN));
        table.row(
            &format!(
                "peak PSS in the last minute of {} min side by side (first sample {})",
                options.steady.as_secs() / 60,
                with_unit(start_pss, 0, "MiB").trim()
            ),
            [
                with_unit(settled_pss, 0, "MiB").trim().to_owned(),
                with_unit(chromium_steady, 0, "MiB").trim().to_owned(),
                ratio(settled_pss, chromium_steady),
            ],
        );
        table.row(
            "frames presented per minute, all screens",
            [num(p.frames_per_min, 0), "–".into(), String::new()],
        );
        table.row("processes", [num(p.processes, 0), num(c(|m| m.processes), 0), String::new()]);
        table.row("threads", [num(p.threads, 0), num(c(|m| m.threads), 0), String::new()]);
        table.row(
            &format!("start to first frame on all {} windows", screens.count()),
            [with_unit(p.first_frame_ms, 0, "ms"), "–".into(), String::new()],
        );
        json_backends.insert(
            backend.env().into(),
            json!({
                "adapter": runs.first().map(|r| r.adapter.clone()),
                "runs": runs.iter().map(usage_json).collect::<Vec<_>>(),
                "median": medians_json(&p),
                "pss_over_time_mib": measured.steady.get(index),
            }),
        );
    }
    json!({
        "screens": screens.count(),
        "xvfb_screen": [monitor.0, monitor.1],
        "palier": json_backends,
        "chromium": chromium.as_ref().map(|c| json!({
            "gpu_process": measured.chromium.first().map(|r| r.adapter.clone()),
            "runs": measured.chromium.iter().map(usage_json).collect::<Vec<_>>(),
            "median": medians_json(c),
            "pss_over_time_mib": measured.steady.get(2),
        })),
    })
}

/// A static slide: one portrait screen showing the fallback slide (an empty cache), nothing
/// changing for `window`. Frames presented, CPU and wake-ups, on each backend.
pub fn static_part(
    options: &WindowedOptions,
    player: &Path,
    assets: &Assets,
    work: &Path,
    table: &mut Table,
    results: &mut Map<String, Value>,
    progress: &dyn Fn(&str),
) -> anyhow::Result<()> {
    let dir = work.join("static-board");
    std::fs::create_dir_all(&dir)?;
    let config = crate::player::one_screen_config(true, &dir)?;
    let mut measured = Vec::new();
    for backend in [Backend::Vulkan, Backend::Gl] {
        progress(&format!("static slide on {}", backend.label()));
        let setup = PalierSetup { player, assets: &assets.dir, config: Some(&config), backend, demo: false };
        let running = windowed::start_palier(&setup, (1080, 1920))?;
        std::thread::sleep(options.warmup);
        measured.push((backend, running.measure(options.window)));
    }
    table.section(
        &format!(
            "A static slide: 1 portrait screen, nothing to show but the fallback slide, {} s after {} s",
            options.window.as_secs(),
            options.warmup.as_secs()
        ),
        [Backend::Vulkan.label(), Backend::Gl.label(), ""],
    );
    let cell = |f: &dyn Fn(&WindowedRun) -> String| -> [String; 3] {
        [f(&measured[0].1), f(&measured[1].1), String::new()]
    };
    table.row(
        "frames presented (one when the header clock's minute turns)",
        cell(&|r| r.frames.map_or("–".into(), |f| f.to_string())),
    );
    table.row(
        "CPU, share of one core",
        cell(&|r| with_unit(100.0 * r.program.cpu_s / r.program.seconds, 2, "%").trim().to_owned()),
    );
    table.row(
        "wake-ups per second, all threads / main thread",
        cell(&|r| {
            format!(
                "{} / {}",
                num(r.program.wakeups as f64 / r.program.seconds, 1),
                num(r.program.main_wakeups as f64 / r.program.seconds, 1)
            )
        }),
    );
    results.insert(
        "static_slide".into(),
        json!(measured.iter().map(|(b, r)| (b.env().to_owned(), usage_json(r))).collect::<Map<_, _>>()),
    );
    Ok(())
}
