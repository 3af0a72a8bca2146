//! A day of rotation: `palier-player --demo` in four windows under Xvfb, every slide shown
//! for the shortest time a manifest allows (3 s, 600 ms crossfades), until the screens have
//! changed slide the given number of times. RSS, PSS, open descriptors and threads are
//! sampled throughout; growth is the last fifth's floor (memory) or median (descriptors,
//! threads) against the fifth after the warm-up. On llvmpipe and lavapipe GPU memory is the process's own memory, so
//! it is inside RSS and PSS.

use std::path::Path;
use std::time::{Duration, Instant};

use palier_content::limits::MIN_DURATION_S;
use palier_player::source::Assets;
use serde_json::json;

use super::PartReport;
use crate::page;
use crate::procs::{open_fds, pss_mib, status_field};
use crate::stats::median;
use crate::windowed::{Backend, PalierSetup, start_palier};

/// How a rotation soak runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Slide changes to reach, all four screens together.
    pub crossfades: u64,
    pub backend: Backend,
    pub sample_every: Duration,
    /// The Xvfb screen the four windows sit on.
    pub monitor: (u32, u32),
}

/// One sample of the player's resources.
#[derive(Debug, Clone, Copy)]
struct Sample {
    seconds: f64,
    slides: u64,
    rss_mib: f64,
    pss_mib: f64,
    fds: u64,
    threads: u64,
}

/// Growth beyond these counts as a leak.
const PSS_GROWTH_LIMIT_MIB: f64 = 20.0;
const FD_GROWTH_LIMIT: f64 = 2.0;

pub fn run(settings: &Settings, player: &Path, work: &Path) -> PartReport {
    let mut report = PartReport::new("rotation");
    let started = Instant::now();
    let timed = Assets::locate(None).map_err(|e| e.to_string()).and_then(|a| {
        page::timed_assets(&a, MIN_DURATION_S, &work.join("timed-assets")).map_err(|e| e.to_string())
    });
    let assets = match timed {
        Ok(assets) => assets,
        Err(e) => {
            report.fail(format!("the demo pack could not be retimed: {e}"));
            return report;
        }
    };
    let setup =
        PalierSetup { player, assets: &assets.dir, config: None, backend: settings.backend, demo: true };
    let mut running = match start_palier(&setup, settings.monitor) {
        Ok(running) => running,
        Err(e) => {
            report.fail(format!("the player did not start: {e:#}"));
            return report;
        }
    };
    let pid = running.program.pids().first().copied().unwrap_or(0);
    let mut samples: Vec<Sample> = Vec::new();
    loop {
        let slides = running.slides().unwrap_or(0);
        samples.push(Sample {
            seconds: started.elapsed().as_secs_f64(),
            slides,
            rss_mib: status_field(pid, "VmRSS:") as f64 / 1024.0,
            pss_mib: pss_mib(&running.program),
            fds: open_fds(pid),
            threads: status_field(pid, "Threads:"),
        });
        if slides >= settings.crossfades {
            break;
        }
        if !running.alive() {
            report.fail(format!("the player exited after {slides} slide changes"));
            break;
        }
        std::thread::sleep(settings.sample_every);
    }
    let frames = running.frames();
    drop(running);

    let n = samples.len();
    let fifth = (n / 5).max(1);
    let early = &samples[fifth.min(n - 1)..(2 * fifth).min(n).max(fifth.min(n - 1) + 1)];
    let late = &samples[n - fifth..];
    let of = |s: &[Sample], f: fn(&Sample) -> f64| median(&s.iter().map(f).collect::<Vec<_>>());
    let growth = |f: fn(&Sample) -> f64| of(late, f) - of(early, f);
    // Memory alternates with what is held at the sampled instant (one slide, or two during a
    // crossfade): its floor over each fifth is what would rise with a leak.
    let floor = |s: &[Sample], f: fn(&Sample) -> f64| s.iter().map(f).fold(f64::INFINITY, f64::min);
    let floor_growth = |f: fn(&Sample) -> f64| floor(late, f) - floor(early, f);
    let (rss, pss, fds, threads) = (
        floor_growth(|s| s.rss_mib),
        floor_growth(|s| s.pss_mib),
        growth(|s| s.fds as f64),
        growth(|s| s.threads as f64),
    );
    let last = samples.last().copied();
    if pss > PSS_GROWTH_LIMIT_MIB {
        report.fail(format!(
            "PSS grew by {pss:.1} MiB after the warm-up (more than {PSS_GROWTH_LIMIT_MIB} MiB)"
        ));
    }
    if fds > FD_GROWTH_LIMIT {
        report.fail(format!("open descriptors grew by {fds:.0} after the warm-up"));
    }
    let slides = last.map_or(0, |s| s.slides);
    report.row("backend", settings.backend.label());
    report.row("slide changes (4 screens, 3 s slides, 600 ms crossfades)", slides);
    report.row("frames presented", frames.map_or("not counted".into(), |f| f.to_string()));
    report.row("samples", format!("{n}, every {} s", settings.sample_every.as_secs()));
    report.row(
        "after warm-up → end: RSS floor (median)",
        format!(
            "{:.0} → {:.0} MiB ({rss:+.1}; median {:+.1})",
            floor(early, |s| s.rss_mib),
            floor(late, |s| s.rss_mib),
            growth(|s| s.rss_mib)
        ),
    );
    report.row(
        "after warm-up → end: PSS floor (median), GPU memory included",
        format!(
            "{:.0} → {:.0} MiB ({pss:+.1}; median {:+.1})",
            floor(early, |s| s.pss_mib),
            floor(late, |s| s.pss_mib),
            growth(|s| s.pss_mib)
        ),
    );
    report.row(
        "after warm-up → end: open descriptors",
        format!("{:+.0} (now {})", fds, last.map_or(0, |s| s.fds)),
    );
    report.row(
        "after warm-up → end: threads",
        format!("{:+.0} (now {})", threads, last.map_or(0, |s| s.threads)),
    );
    report.row("duration", format!("{:.0} s", started.elapsed().as_secs_f64()));
    report.json = json!({
        "backend": settings.backend.env(),
        "slide_changes": slides,
        "frames": frames,
        "growth": {"rss_mib": rss, "pss_mib": pss, "fds": fds, "threads": threads},
        "samples": samples.iter().map(|s| json!([s.seconds, s.slides, s.rss_mib, s.pss_mib, s.fds, s.threads])).collect::<Vec<_>>(),
        "sample_columns": ["seconds", "slides", "rss_mib", "pss_mib", "fds", "threads"],
        "seconds": started.elapsed().as_secs_f64(),
    });
    report
}
