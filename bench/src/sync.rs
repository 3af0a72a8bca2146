//! Sync and platform figures, on loopback with the real processes (the end-to-end harness
//! of `palier-tests`): a platform holding the demo pack, published through its API, and
//! boards made of a real `palier-sync`.
//!
//! - Idle poll: a board polling every 5 s with change hints off, through the
//!   [`CountingProxy`]; the bytes of each `GET /v1/device/manifest` answered 304 (request
//!   and response, headers included). The board's first round, through the same proxy,
//!   gives the bytes of a first sync.
//! - First sync: `palier-sync sync-once` of a freshly enrolled lift board (1080×1920): the
//!   manifest, every picture fetched, verified and pre-scaled, one transaction; from process
//!   start to exit.
//! - Publish to cache: an urgent flash published while a board listens to change hints
//!   (polls every 10 minutes, so only the hint can bring it); from the publish request to
//!   the item committed in the board's cache, seen by polling `PRAGMA data_version` every
//!   2 ms; withdrawn after each trial.
//! - Idle devices served: devices enrolled for real, then the [`crate::load`] generator
//!   polls as them; the platform process's CPU is measured alongside.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jiff::Timestamp;
use palier_content::{CacheReader, DataDir};
use palier_testkit::items::urgent_flash;
use palier_testkit::processes::{Board, Platform};
use serde_json::Value;

use crate::demo_publish::{Publishers, publish_pack};
use crate::load::{self, LoadRun};
use crate::procs::{Program, Usage, Watch};
use crate::wire::{CountingProxy, Exchange};

/// A platform serving the demo pack for one building.
#[derive(Debug)]
pub struct DemoPlatform {
    pub platform: Platform,
    pub items: usize,
    pub media_bytes: u64,
}

impl DemoPlatform {
    pub fn start(demo_pack: &Path) -> anyhow::Result<DemoPlatform> {
        DemoPlatform::start_with(demo_pack, "")
    }

    /// The same on a platform whose `platform.toml` starts with `settings` (a database).
    pub fn start_with(demo_pack: &Path, settings: &str) -> anyhow::Result<DemoPlatform> {
        let mut platform = Platform::init_with(settings);
        platform.serve();
        let publishers = Publishers {
            landlord: platform.landlord.clone(),
            shop: platform.add_publisher("shop"),
            neighbourhood: platform.neighbourhood.clone(),
        };
        let published = publish_pack(&platform.url, &publishers, demo_pack, Timestamp::now())?;
        Ok(DemoPlatform { platform, items: published.items.len(), media_bytes: published.media_bytes })
    }

    /// The platform server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.platform.pid()
    }

    /// A board with `screens`, enrolled on first contact, that reaches the platform at `url`.
    fn board(&self, code: &str, screens: &[(&str, u32, u32)], poll_s: u64, extra: &str, url: &str) -> Board {
        let board = Board::new(&self.platform, code, screens, poll_s);
        let text = std::fs::read_to_string(&board.config).expect("the board file");
        let text = text
            .replace(&format!("platform_url = {:?}", self.platform.url), &format!("platform_url = {url:?}"))
            .replace("[sync]\n", &format!("[sync]\n{extra}"));
        std::fs::write(&board.config, text).expect("the board file");
        board
    }
}

/// The items a board's cache holds, if it can be read yet.
fn cached_items(data: &DataDir) -> usize {
    CacheReader::open(&data.cache()).and_then(|mut r| r.snapshot()).map_or(0, |s| s.items.len())
}

fn wait(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > timeout {
            bail!("timed out after {timeout:?} waiting until {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// What the proxy saw of a board's first round and its idle polls.
#[derive(Debug, Clone)]
pub struct IdlePolls {
    /// Request and response bytes of each 304 poll.
    pub polls: Vec<(u64, u64)>,
    pub first_round_bytes: u64,
    pub first_round_requests: usize,
    pub connections: usize,
}

/// Runs a board polling every 5 s without hints through the counting proxy until `polls`
/// idle polls went by.
pub fn idle_polls(demo: &DemoPlatform, polls: usize) -> anyhow::Result<IdlePolls> {
    let upstream = demo.platform.addr().parse()?;
    let proxy = CountingProxy::start(upstream)?;
    let url = format!("http://{}", proxy.addr);
    let code = demo.platform.device_code("lift");
    let mut board = demo.board(&code, &[("lift", 1080, 1920)], 5, "change_hints = false\n", &url);
    board.start_sync();
    let is_poll = |e: &Exchange| e.method == "GET" && e.path == "/v1/device/manifest";
    let result = wait(Duration::from_secs(20 + 7 * polls as u64), "the board polled", || {
        proxy.exchanges().iter().filter(|e| is_poll(e) && e.status == 304).count() >= polls
    });
    board.kill_all();
    result.with_context(|| board.logs())?;
    let exchanges = proxy.exchanges();
    let first_idle = exchanges.iter().position(|e| is_poll(e) && e.status == 304).unwrap_or(exchanges.len());
    let first_round = &exchanges[..first_idle];
    Ok(IdlePolls {
        polls: exchanges
            .iter()
            .filter(|e| is_poll(e) && e.status == 304)
            .map(|e| (e.request_bytes, e.response_bytes))
            .collect(),
        first_round_bytes: first_round.iter().map(|e| e.request_bytes + e.response_bytes).sum(),
        first_round_requests: first_round.len(),
        connections: proxy.connections(),
    })
}

/// Times `palier-sync sync-once` of a freshly enrolled lift board, `runs` times.
pub fn first_syncs(demo: &DemoPlatform, sync_bin: &Path, runs: usize) -> anyhow::Result<Vec<f64>> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let code = demo.platform.device_code("lift");
        let board = demo.board(&code, &[("lift", 1080, 1920)], 600, "", &demo.platform.url);
        let enrol = Command::new(sync_bin)
            .arg("--config")
            .arg(&board.config)
            .args(["enrol", "--code", &code])
            .output()?;
        if !enrol.status.success() {
            bail!("palier-sync enrol failed: {}", String::from_utf8_lossy(&enrol.stderr));
        }
        let start = Instant::now();
        let output = Command::new(sync_bin).arg("--config").arg(&board.config).arg("sync-once").output()?;
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        if !output.status.success() {
            bail!("palier-sync sync-once failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let items = cached_items(&board.data);
        if items != demo.items {
            bail!("the first sync brought {items} items, not the {} published", demo.items);
        }
        times.push(elapsed);
    }
    Ok(times)
}

/// Publishes `trials` urgent flashes while a board listens for change hints; returns the
/// publish-to-cache latencies in milliseconds.
pub fn publish_to_cache(demo: &DemoPlatform, trials: usize) -> anyhow::Result<Vec<f64>> {
    let code = demo.platform.device_code("lift");
    let mut board = demo.board(&code, &[("lift", 270, 480)], 600, "", &demo.platform.url);
    board.start_sync();
    wait(Duration::from_secs(60), "the board holds the demo pack", || {
        cached_items(&board.data) == demo.items
    })
    .with_context(|| board.logs())?;
    let reader = CacheReader::open(&board.data.cache())?;
    let holds = |id: &str| {
        CacheReader::open(&board.data.cache())
            .and_then(|mut r| r.snapshot())
            .is_ok_and(|s| s.item(id).is_some())
    };
    let mut latencies = Vec::new();
    // Trial 0 warms up (and waits for the hint stream to be open); it is not counted.
    for trial in 0..=trials {
        let id = format!("flash-bench-{trial}");
        let mut version = reader.data_version()?;
        let start = Instant::now();
        demo.platform.publish(&demo.platform.landlord, urgent_flash(&id, "Ascenseur à l'arrêt", 10));
        let timeout = Duration::from_secs(if trial == 0 { 60 } else { 30 });
        loop {
            let now = reader.data_version()?;
            if now != version {
                version = now;
                if holds(&id) {
                    break;
                }
            }
            if start.elapsed() > timeout {
                bail!("flash {id} did not reach the cache within {timeout:?}\n{}", board.logs());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if trial > 0 {
            latencies.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        demo.platform.withdraw(&demo.platform.landlord, &id);
        wait(Duration::from_secs(30), "the flash left the cache", || !holds(&id))
            .with_context(|| board.logs())?;
    }
    board.kill_all();
    Ok(latencies)
}

/// What one platform process served.
#[derive(Debug, Clone)]
pub struct Served {
    pub devices: usize,
    pub connections: usize,
    pub run: LoadRun,
    pub platform: Usage,
    /// CPU seconds of the load generator (this process) during the run.
    pub generator_cpu_s: f64,
}

/// Enrols `devices` devices, then polls as them over `connections` connections for
/// `seconds`, `runs` times.
pub fn devices_served(
    demo: &DemoPlatform,
    devices: usize,
    connections: usize,
    seconds: u64,
    runs: usize,
) -> anyhow::Result<Vec<Served>> {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let enrolled: Vec<load::Device> = (0..devices)
        .map(|n| {
            let code = demo.platform.device_code("lift");
            load::enrol(&http, &demo.platform.url, &code, &format!("bench-{n}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let pid = demo.pid().context("the platform's process")?;
    let addr = demo.platform.addr().parse()?;
    // A short warm-up: connections opened, SQLite pages cached.
    load::hammer(addr, &enrolled, connections, Duration::from_secs(2));
    let me = std::process::id();
    let mut served = Vec::new();
    for _ in 0..runs {
        let watch = Watch::start(Program::new(pid), Duration::from_millis(500));
        let before = crate::procs::cpu_ticks(me).unwrap_or(0);
        let run = load::hammer(addr, &enrolled, connections, Duration::from_secs(seconds));
        let generator_cpu_s =
            (crate::procs::cpu_ticks(me).unwrap_or(0) - before) as f64 / crate::procs::clock_ticks();
        let platform = watch.stop();
        served.push(Served { devices, connections, run, platform, generator_cpu_s });
    }
    Ok(served)
}

/// The median of the runs by requests per second.
pub fn median_run(runs: &[Served]) -> Option<&Served> {
    let mut sorted: Vec<&Served> = runs.iter().collect();
    sorted.sort_by(|a, b| a.run.per_second().total_cmp(&b.run.per_second()));
    sorted.get(sorted.len() / 2).copied()
}

/// The JSON of an idle-poll measurement.
pub fn idle_json(idle: &IdlePolls) -> Value {
    serde_json::json!({
        "polls": idle.polls.iter().map(|(q, r)| serde_json::json!({"request_bytes": q, "response_bytes": r})).collect::<Vec<_>>(),
        "first_round_bytes": idle.first_round_bytes,
        "first_round_requests": idle.first_round_requests,
        "tcp_connections": idle.connections,
    })
}
