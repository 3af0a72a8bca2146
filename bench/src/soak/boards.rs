//! Many boards: one real platform on loopback and thousands of simulated boards, each
//! enrolled for real, holding its event stream (`GET /v1/device/events`, reconnecting from
//! the last generation it saw when the stream ends) and polling its manifest with the ETag
//! it holds every `poll` ± 20 %, while a landlord publishes a flash to the building every
//! `publish_every`. Measured: the platform's memory and descriptors over time, poll latency
//! p50/p99, and for every publish, the connected boards whose stream had not told its
//! generation within [`HINT_GRACE`] (misses).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use palier_testkit::items::urgent_flash;
use palier_testkit::processes::Platform;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::PartReport;
use crate::procs::{open_fds, status_field};
use crate::stats::{median, p99};

/// How a many-boards soak runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub boards: usize,
    pub duration: Duration,
    pub poll: Duration,
    pub publish_every: Duration,
    pub seed: u64,
}

/// How long a publish has to reach every connected board's stream.
pub const HINT_GRACE: Duration = Duration::from_secs(10);

/// A simulated board's shared state.
struct BoardState {
    /// Highest generation its stream told.
    seen: AtomicU64,
    connected: AtomicBool,
}

/// Counts shared by the boards' tasks.
#[derive(Default)]
struct Shared {
    reconnects: AtomicU64,
    stream_failures: AtomicU64,
    polls: AtomicU64,
    poll_errors: AtomicU64,
    latencies_us: std::sync::Mutex<Vec<u64>>,
}

pub fn run(settings: &Settings) -> PartReport {
    let mut report = PartReport::new("boards");
    let started = Instant::now();
    let mut platform = Platform::init();
    platform.serve();
    let pid = platform.pid().unwrap_or(0);
    let codes = platform.admin(&[
        "device",
        "code",
        "--building",
        &platform.building,
        "--roles",
        "lift",
        "--count",
        &settings.boards.to_string(),
    ]);
    let codes: Vec<String> = codes.lines().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let addr = platform.addr().to_owned();
    let enrolled = runtime.block_on(enrol_all(&platform.url, &codes));
    let tokens = match enrolled {
        Ok(tokens) => tokens,
        Err(e) => {
            report.fail(format!("enrolling the boards failed: {e}"));
            return report;
        }
    };
    let enrol_s = started.elapsed().as_secs_f64();
    let boards: Arc<Vec<BoardState>> = Arc::new(
        (0..tokens.len())
            .map(|_| BoardState { seen: AtomicU64::new(0), connected: AtomicBool::new(false) })
            .collect(),
    );
    let shared = Arc::new(Shared::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut rng = rand::rngs::StdRng::seed_from_u64(settings.seed);
    // One client for every board's polls: its pool keeps a few hundred connections alive,
    // where ten thousand boards would each open their own (the streams already hold one).
    let http = {
        let _entered = runtime.enter();
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build()
            .expect("a client")
    };
    for (index, token) in tokens.iter().enumerate() {
        let offset = Duration::from_millis(rng.random_range(0..settings.poll.as_millis() as u64));
        let (all, counts, stopped, address, bearer) =
            (Arc::clone(&boards), Arc::clone(&shared), Arc::clone(&stop), addr.clone(), token.clone());
        runtime.spawn(async move { hold_stream(&address, &bearer, index, &all, &counts, &stopped).await });
        let (counts, stopped, url, bearer) =
            (Arc::clone(&shared), Arc::clone(&stop), platform.url.clone(), token.clone());
        let (poll, seed, http) = (settings.poll, settings.seed ^ index as u64, http.clone());
        runtime.spawn(async move {
            poll_manifest(&http, &url, &bearer, offset, poll, seed, &counts, &stopped).await
        });
    }

    // Publishing and sampling, on this thread.
    let mut samples: Vec<(f64, f64, u64, usize)> = Vec::new();
    let (mut publishes, mut misses, mut not_connected) = (0u64, 0u64, 0u64);
    let deadline = Instant::now() + settings.duration;
    let mut n = 0;
    while Instant::now() < deadline {
        std::thread::sleep(settings.publish_every.saturating_sub(HINT_GRACE).max(Duration::from_secs(1)));
        let connected_before: Vec<usize> =
            (0..boards.len()).filter(|&i| boards[i].connected.load(Ordering::Relaxed)).collect();
        let answer = platform
            .publish(&platform.landlord, urgent_flash(&format!("soak-flash-{n}"), "Coupure d’eau", 30));
        n += 1;
        let Some(generation) = answer["generation"].as_u64() else {
            report.fail(format!("a publish answered without a generation: {answer}"));
            continue;
        };
        publishes += 1;
        std::thread::sleep(HINT_GRACE);
        let missed =
            connected_before.iter().filter(|&&i| boards[i].seen.load(Ordering::Relaxed) < generation).count();
        not_connected += (boards.len() - connected_before.len()) as u64;
        if missed > 0 {
            misses += missed as u64;
            report.fail(format!("publish {n} (generation {generation}): {missed} connected boards not told within {HINT_GRACE:?}"));
        }
        samples.push((
            started.elapsed().as_secs_f64(),
            status_field(pid, "VmRSS:") as f64 / 1024.0,
            open_fds(pid),
            connected_before.len(),
        ));
    }
    stop.store(true, Ordering::Relaxed);
    runtime.shutdown_timeout(Duration::from_secs(5));

    let latencies: Vec<f64> =
        shared.latencies_us.lock().expect("latencies").iter().map(|&us| us as f64 / 1000.0).collect();
    let polls = shared.polls.load(Ordering::Relaxed);
    let poll_errors = shared.poll_errors.load(Ordering::Relaxed);
    if poll_errors > 0 {
        report.fail(format!("{poll_errors} polls failed (connection error or a status other than 304/200)"));
    }
    let first = samples.first().copied().unwrap_or_default();
    let last = samples.last().copied().unwrap_or_default();
    let peak_rss = samples.iter().map(|s| s.1).fold(0.0, f64::max);
    report.row("simulated boards (enrolled, each with its stream and polls)", tokens.len());
    report.row("duration", format!("{:.0} s (enrolment {enrol_s:.0} s)", started.elapsed().as_secs_f64()));
    report.row(
        "polls / failed",
        format!("{polls} / {poll_errors} (every {} s ± 20 %)", settings.poll.as_secs()),
    );
    report.row("poll latency p50 / p99", format!("{:.1} / {:.1} ms", median(&latencies), p99(&latencies)));
    report
        .row("publishes / misses (connected boards not told within 10 s)", format!("{publishes} / {misses}"));
    report.row("board-publishes with the stream down at the time", not_connected);
    report.row(
        "stream reconnects / failures",
        format!(
            "{} / {}",
            shared.reconnects.load(Ordering::Relaxed),
            shared.stream_failures.load(Ordering::Relaxed)
        ),
    );
    report.row(
        "platform RSS first → last (peak)",
        format!("{:.0} → {:.0} MiB ({peak_rss:.0})", first.1, last.1),
    );
    report.row("platform open descriptors first → last", format!("{} → {}", first.2, last.2));
    report.json = json!({
        "boards": tokens.len(),
        "seconds": started.elapsed().as_secs_f64(),
        "enrol_s": enrol_s,
        "poll_s": settings.poll.as_secs(),
        "polls": polls,
        "poll_errors": poll_errors,
        "poll_p50_ms": median(&latencies),
        "poll_p99_ms": p99(&latencies),
        "publishes": publishes,
        "misses": misses,
        "not_connected": not_connected,
        "reconnects": shared.reconnects.load(Ordering::Relaxed),
        "stream_failures": shared.stream_failures.load(Ordering::Relaxed),
        "samples": samples.iter().map(|s| json!([s.0, s.1, s.2, s.3])).collect::<Vec<_>>(),
        "sample_columns": ["seconds", "platform_rss_mib", "platform_fds", "connected_boards"],
    });
    report
}

/// Enrols a device with each code, 32 at a time; their tokens.
async fn enrol_all(url: &str, codes: &[String]) -> Result<Vec<String>, String> {
    let http = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(codes.len());
    for chunk in codes.chunks(32) {
        let answers = futures_join(chunk.iter().enumerate().map(|(n, code)| {
            let http = http.clone();
            let url = format!("{url}/v1/device/enrol");
            let body = json!({"code": code, "device_name": format!("soak-{n}"), "software_version": "soak"});
            async move {
                let response = http.post(url).json(&body).send().await.map_err(|e| e.to_string())?;
                let status = response.status();
                let value: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
                value["token"].as_str().map(str::to_owned).ok_or(format!("{status}: {value}"))
            }
        }))
        .await;
        for answer in answers {
            tokens.push(answer?);
        }
    }
    Ok(tokens)
}

/// Runs the futures together on this task; their outputs in order.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("an enrolment task"));
    }
    out
}

/// Holds the board's event stream, reconnecting from the last generation it saw.
async fn hold_stream(
    addr: &str,
    token: &str,
    index: usize,
    boards: &[BoardState],
    shared: &Shared,
    stop: &AtomicBool,
) {
    let board = &boards[index];
    let mut first = true;
    while !stop.load(Ordering::Relaxed) {
        if !first {
            shared.reconnects.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        first = false;
        let Ok(mut connection) = TcpStream::connect(addr).await else {
            shared.stream_failures.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let request = format!(
            "GET /v1/device/events HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\
             authorization: Bearer {token}\r\nlast-event-id: {}\r\n\r\n",
            board.seen.load(Ordering::Relaxed)
        );
        if connection.write_all(request.as_bytes()).await.is_err() {
            shared.stream_failures.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let mut lines = BufReader::new(connection).lines();
        let mut status_seen = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if !status_seen {
                status_seen = true;
                if !line.starts_with("HTTP/1.1 200") {
                    shared.stream_failures.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                board.connected.store(true, Ordering::Relaxed);
            }
            if let Some(id) = line.strip_prefix("id: ").and_then(|n| n.trim().parse::<u64>().ok()) {
                board.seen.fetch_max(id, Ordering::Relaxed);
            }
            if stop.load(Ordering::Relaxed) {
                return;
            }
        }
        board.connected.store(false, Ordering::Relaxed);
    }
}

/// Polls the board's manifest with the ETag it holds, every `poll` ± 20 %.
#[allow(clippy::too_many_arguments)]
async fn poll_manifest(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    offset: Duration,
    poll: Duration,
    seed: u64,
    shared: &Shared,
    stop: &AtomicBool,
) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut etag = String::new();
    tokio::time::sleep(offset).await;
    while !stop.load(Ordering::Relaxed) {
        let asked = Instant::now();
        let mut request = http.get(format!("{url}/v1/device/manifest")).bearer_auth(token);
        if !etag.is_empty() {
            request = request.header("if-none-match", &etag);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() || response.status().as_u16() == 304 => {
                if let Some(tag) = response.headers().get("etag").and_then(|v| v.to_str().ok()) {
                    etag = tag.to_owned();
                }
                let _ = response.bytes().await;
                shared.polls.fetch_add(1, Ordering::Relaxed);
                shared.latencies_us.lock().expect("latencies").push(asked.elapsed().as_micros() as u64);
            }
            _ => {
                shared.poll_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        let jitter = poll.mul_f64(rng.random_range(0.8..1.2));
        tokio::time::sleep(jitter).await;
    }
}
