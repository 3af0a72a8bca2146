//! A minute of rotation in real windows, under a fresh Xvfb each time: `palier-player
//! --demo` (four windows side by side) and the Chromium kiosk showing the same rotation
//! (one window holding the four screens at the same places), measured alike with
//! [`crate::procs::Watch`] after a warm-up: CPU seconds and wake-ups of every process and
//! thread, peak RSS and PSS summed over the program's processes, and the X server's CPU
//! beside (it receives every frame both programs present).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
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
    palier_tests::terminate(child, Duration::from_secs(5));
}

/// What one windowed run measured.
#[derive(Debug, Clone)]
pub struct WindowedRun {
    pub program: Usage,
    pub xvfb: Usage,
    /// From spawning the program to its first frame on every screen (Palier only).
    pub first_frame_ms: Option<f64>,
    /// The adapter or GPU mode it drew with, as it said.
    pub adapter: String,
}

/// Runs `palier-player --demo --assets <assets>` in windows for `warmup` + `window`.
pub fn palier(
    player: &Path,
    assets: &Path,
    monitor: (u32, u32),
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<WindowedRun> {
    let xvfb = Xvfb::start(monitor)?;
    let spawned = Instant::now();
    let mut child = Command::new(player)
        .arg("--demo")
        .arg("--assets")
        .arg(assets)
        .env("DISPLAY", &xvfb.display)
        .env("RUST_LOG", "info,wgpu_core=warn,wgpu_hal=warn,naga=warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting palier-player")?;
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().context("the player's stderr")?;
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send((Instant::now(), line));
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
                bail!("palier-player --demo showed no first frame under Xvfb within a minute");
            }
        }
    };
    // Keep draining the log so the player never blocks on a full pipe.
    std::thread::spawn(move || while rx.recv().is_ok() {});
    std::thread::sleep(warmup);
    let usage = measure(Program::new(child.id()), xvfb.pid(), window);
    terminate(&mut child);
    drop(xvfb);
    Ok(WindowedRun {
        program: usage.0,
        xvfb: usage.1,
        first_frame_ms: Some(first_frame.duration_since(spawned).as_secs_f64() * 1000.0),
        adapter,
    })
}

fn measure(program: Program, xvfb: u32, window: Duration) -> (Usage, Usage) {
    let watch = Watch::start(program, PERIOD);
    let server = Watch::start(Program::new(xvfb), PERIOD);
    std::thread::sleep(window);
    (watch.stop(), server.stop())
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

/// Runs Chromium in kiosk mode on `page` for `warmup` + `window`, with a fresh profile.
pub fn chromium(
    page: &Path,
    gpu: ChromiumGpu,
    monitor: (u32, u32),
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<WindowedRun> {
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
    let gpu_mode = gpu_process_mode(&program);
    let usage = measure(program.clone(), xvfb.pid(), window);
    let leftovers = program.pids();
    terminate(&mut child);
    for pid in leftovers {
        if pid != child.id() && Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
        }
    }
    drop(xvfb);
    Ok(WindowedRun { program: usage.0, xvfb: usage.1, first_frame_ms: None, adapter: gpu_mode })
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
