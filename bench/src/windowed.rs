//! A minute of rotation in real windows, under a fresh Xvfb each time: `palier-player
//! --demo` (four windows side by side) and the Chromium kiosk showing the same rotation
//! (one window holding the four screens at the same places), measured alike with
//! [`crate::procs::Watch`] after a warm-up: CPU seconds and wake-ups of every process and
//! thread, peak RSS and PSS summed over the program's processes, and the X server's CPU
//! beside (it receives every frame both programs present).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::procs::{Program, Usage, Watch};

/// Sampling period of the watches.
const PERIOD: Duration = Duration::from_millis(500);

/// An X server of its own for one run; stopped when dropped.
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    /// Starts `Xvfb` with one `size` screen on a display number it picks itself, and
    /// returns once it accepts clients (it prints the number then: `-displayfd`).
    pub fn start(size: (u32, u32)) -> anyhow::Result<Xvfb> {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                &format!("{}x{}x24", size.0, size.1),
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb (apt-get install xvfb)")?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("Xvfb's stdout")?;
        BufReader::new(stdout).read_line(&mut line).context("reading Xvfb's display number")?;
        let number = line.trim();
        if number.is_empty() {
            terminate(&mut child);
            bail!("Xvfb exited before it opened a display");
        }
        Ok(Xvfb { display: format!(":{number}"), child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// SIGTERM, then SIGKILL after five seconds.
pub fn terminate(child: &mut Child) {
    palier_testkit::processes::terminate(child, Duration::from_secs(5));
}

/// What one windowed run measured.
#[derive(Debug, Clone)]
pub struct WindowedRun {
    pub program: Usage,
    pub xvfb: Usage,
    /// From spawning the program to its first frame on every screen (Palier only).
    pub first_frame_ms: Option<f64>,
    /// Frames presented during the window, all screens (Palier only: it logs each).
    pub frames: Option<u64>,
    /// The adapter or GPU mode it drew with, as it said.
    pub adapter: String,
}

/// The backend the player draws with (`WGPU_BACKEND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// lavapipe, Mesa's Vulkan on the CPU.
    Vulkan,
    /// llvmpipe through EGL: the path a Raspberry Pi 4 takes with its GPU.
    Gl,
}

impl Backend {
    pub fn env(self) -> &'static str {
        match self {
            Backend::Vulkan => "vulkan",
            Backend::Gl => "gl",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Backend::Vulkan => "Vulkan (lavapipe)",
            Backend::Gl => "GL (llvmpipe through EGL)",
        }
    }
}

/// How to start the player for a windowed run.
#[derive(Debug, Clone, Copy)]
pub struct PalierSetup<'a> {
    pub player: &'a Path,
    /// The demo pack's assets (slides retimed for the benchmark).
    pub assets: &'a Path,
    /// A board file with fewer screens than the demo's four.
    pub config: Option<&'a Path>,
    pub backend: Backend,
    /// With the demo's content (`--demo`), or only what the board file's cache holds.
    pub demo: bool,
}

/// A program running under an Xvfb of its own; stopped when dropped.
#[derive(Debug)]
pub struct Running {
    child: Child,
    xvfb: Xvfb,
    pub program: Program,
    first_frame_ms: Option<f64>,
    /// Frames presented so far (Palier's log), if counted.
    frames: Option<Arc<AtomicU64>>,
    /// Slides put on screen so far, all screens (Palier's log), if counted.
    slides: Option<Arc<AtomicU64>>,
    adapter: String,
    /// Chromium's fresh profile, removed after it stops.
    _profile: Option<tempfile::TempDir>,
}

impl Running {
    /// Watches the program and its X server for `window`.
    pub fn measure(&self, window: Duration) -> WindowedRun {
        let frames_before = self.frames.as_ref().map(|f| f.load(Ordering::Relaxed));
        let watch = Watch::start(self.program.clone(), PERIOD);
        let server = Watch::start(Program::new(self.xvfb.pid()), PERIOD);
        std::thread::sleep(window);
        let (program, xvfb) = (watch.stop(), server.stop());
        let frames =
            self.frames.as_ref().zip(frames_before).map(|(f, before)| f.load(Ordering::Relaxed) - before);
        WindowedRun {
            program,
            xvfb,
            first_frame_ms: self.first_frame_ms,
            frames,
            adapter: self.adapter.clone(),
        }
    }

    /// Frames presented so far on all screens (Palier only).
    pub fn frames(&self) -> Option<u64> {
        self.frames.as_ref().map(|f| f.load(Ordering::Relaxed))
    }

    /// Slides put on screen so far on all screens (each after the first a crossfade).
    pub fn slides(&self) -> Option<u64> {
        self.slides.as_ref().map(|s| s.load(Ordering::Relaxed))
    }

    /// Whether the program is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let leftovers = self.program.pids();
        terminate(&mut self.child);
        for pid in leftovers {
            if pid != self.child.id() && Path::new(&format!("/proc/{pid}")).exists() {
                let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
            }
        }
    }
}

/// Starts `palier-player --demo` (or with the setup's board file) in windows under a fresh
/// Xvfb, and returns once every screen presented its first frame.
pub fn start_palier(setup: &PalierSetup<'_>, monitor: (u32, u32)) -> anyhow::Result<Running> {
    let xvfb = Xvfb::start(monitor)?;
    let spawned = Instant::now();
    let mut command = Command::new(setup.player);
    if setup.demo {
        command.arg("--demo");
    }
    command.arg("--assets").arg(setup.assets);
    if let Some(config) = setup.config {
        command.arg("--config").arg(config);
    }
    let mut child = command
        .env("DISPLAY", &xvfb.display)
        .env("WGPU_BACKEND", setup.backend.env())
        .env(
            "RUST_LOG",
            "info,palier_player::frames=debug,palier_player::engine=debug,wgpu_core=warn,wgpu_hal=warn,naga=warn",
        )
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting palier-player")?;
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().context("the player's stderr")?;
    let frames = Arc::new(AtomicU64::new(0));
    let slides = Arc::new(AtomicU64::new(0));
    let (counter, slide_counter) = (Arc::clone(&frames), Arc::clone(&slides));
    std::thread::spawn(move || {
        let mut started = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("palier_player::frames") {
                counter.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if line.contains("palier_player::engine") {
                if line.contains(" slide ") || line.ends_with(" slide") || line.contains("showing=") {
                    slide_counter.fetch_add(1, Ordering::Relaxed);
                }
                continue;
            }
            // Until the first frame the caller reads the log; after, it is only drained.
            if !started {
                started = line.contains("first frame presented");
                let _ = tx.send((Instant::now(), line));
            }
        }
    });
    let mut adapter = String::from("unknown");
    let first_frame = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok((at, line)) => {
                if let Some(rest) = line.split("adapter=").nth(1) {
                    adapter = rest.trim().to_owned();
                }
                if line.contains("first frame presented") {
                    break at;
                }
            }
            Err(_) => {
                terminate(&mut child);
                bail!("palier-player showed no first frame under Xvfb within a minute");
            }
        }
    };
    Ok(Running {
        program: Program::new(child.id()),
        child,
        xvfb,
        first_frame_ms: Some(first_frame.duration_since(spawned).as_secs_f64() * 1000.0),
        frames: Some(frames),
        slides: Some(slides),
        adapter,
        _profile: None,
    })
}

/// Starts Chromium in kiosk mode on `page` with a fresh profile under a fresh Xvfb, and
/// returns after `warmup`.
pub fn start_chromium(
    page: &Path,
    gpu: ChromiumGpu,
    monitor: (u32, u32),
    warmup: Duration,
) -> anyhow::Result<Running> {
    let xvfb = Xvfb::start(monitor)?;
    let profile = tempfile::Builder::new().prefix("palier-bench-chromium-").tempdir()?;
    let marker = profile.path().to_string_lossy().into_owned();
    let mut child = Command::new("chromium")
        .args(chromium_flags(gpu, monitor))
        .arg(format!("--user-data-dir={marker}"))
        .arg(format!("file://{}", page.display()))
        .env("DISPLAY", &xvfb.display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting chromium (apt-get install chromium)")?;
    let program = Program::with_marker(child.id(), &marker);
    std::thread::sleep(warmup);
    if let Ok(Some(status)) = child.try_wait() {
        bail!("chromium exited during its warm-up: {status}");
    }
    let adapter = gpu_process_mode(&program);
    Ok(Running {
        child,
        xvfb,
        program,
        first_frame_ms: None,
        frames: None,
        slides: None,
        adapter,
        _profile: Some(profile),
    })
}

/// Runs the player in windows for `warmup` + `window` and measures the window.
pub fn palier(
    setup: &PalierSetup<'_>,
    monitor: (u32, u32),
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<WindowedRun> {
    let running = start_palier(setup, monitor)?;
    std::thread::sleep(warmup);
    Ok(running.measure(window))
}

/// Runs Chromium in kiosk mode on `page` for `warmup` + `window` and measures the window.
pub fn chromium(
    page: &Path,
    gpu: ChromiumGpu,
    monitor: (u32, u32),
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<WindowedRun> {
    Ok(start_chromium(page, gpu, monitor, warmup)?.measure(window))
}

/// The PSS of each running program (MiB), sampled every `period` for `duration`: one series
/// per program, of (seconds since the start, MiB). The programs run side by side, so this
/// measures memory, not CPU.
pub fn pss_over_time(programs: &mut [Running], duration: Duration, period: Duration) -> Vec<Vec<(f64, f64)>> {
    let start = Instant::now();
    let mut series = vec![Vec::new(); programs.len()];
    while start.elapsed() < duration {
        std::thread::sleep(period);
        let at = start.elapsed().as_secs_f64();
        for (running, samples) in programs.iter_mut().zip(&mut series) {
            if running.alive() {
                samples.push((at, crate::procs::pss_mib(&running.program)));
            }
        }
    }
    series
}

/// How Chromium draws under Xvfb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChromiumGpu {
    /// `--disable-gpu`: Skia rasterizes on the CPU and the compositor composes in software.
    Disabled,
    /// Chromium's own choice on a machine whose only GL is Mesa's llvmpipe.
    Default,
}

impl ChromiumGpu {
    pub fn label(self) -> &'static str {
        match self {
            ChromiumGpu::Disabled => "--disable-gpu",
            ChromiumGpu::Default => "GPU default",
        }
    }
}

/// The kiosk command line for a `monitor`-sized screen, less the profile directory and the
/// page.
pub fn chromium_flags(gpu: ChromiumGpu, monitor: (u32, u32)) -> Vec<String> {
    let mut flags: Vec<String> = [
        "--kiosk",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--noerrdialogs",
        "--password-store=basic",
        "--window-position=0,0",
    ]
    .map(str::to_owned)
    .to_vec();
    flags.push(format!("--window-size={},{}", monitor.0, monitor.1));
    // As root Chromium refuses to start with its sandbox.
    if std::env::var("USER").as_deref() == Ok("root") || is_root() {
        flags.push("--no-sandbox".to_owned());
    }
    if gpu == ChromiumGpu::Disabled {
        flags.push("--disable-gpu".to_owned());
    }
    flags
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// How Chromium's GPU process was started (the flags that say how it draws).
fn gpu_process_mode(program: &Program) -> String {
    for pid in program.pids() {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        // Chromium's children rewrite their command line as one space-separated string.
        let args: Vec<String> = cmdline
            .split(|&b| b == 0 || b == b' ')
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a == "--type=gpu-process") {
            let interesting: Vec<&str> = args
                .iter()
                .map(String::as_str)
                .filter(|a| {
                    a.starts_with("--use-gl") || a.starts_with("--use-angle") || a.contains("disable-gpu")
                })
                .collect();
            return format!("gpu-process {}", interesting.join(" "));
        }
    }
    "no GPU process".to_owned()
}
