//! The platform past one machine, on loopback: a throw-away PostgreSQL cluster
//! (the test kit's, by `pg_virtualenv -t`), platform processes on it, and the same demo
//! pack as the SQLite figures.
//!
//! - Idle polls per second per replica: [`crate::load`]'s generator against a replica on
//!   PostgreSQL, with the same devices, connections and duration as on SQLite.
//! - Publish to hint across replicas: a device's event stream open on replica B, an urgent
//!   flash published on replica A; from the publish request to the `changed` event read.
//! - Idle event streams one replica holds: streams opened over raw connections and kept,
//!   the replica's RSS before and after, divided by their number.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use palier_testkit::items::urgent_flash;
use palier_testkit::processes::Platform;

/// A device's event stream, read on a thread: each `changed` generation with when it came.
#[derive(Debug)]
pub struct Stream {
    pub events: mpsc::Receiver<(u64, Instant)>,
}

/// Opens `GET /v1/device/events` at `addr` as `token`, from generation `held` on.
pub fn open_stream(addr: &str, token: &str, held: u64) -> anyhow::Result<Stream> {
    let mut connection = TcpStream::connect(addr)?;
    write!(
        connection,
        "GET /v1/device/events HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\
         authorization: Bearer {token}\r\nlast-event-id: {held}\r\n\r\n"
    )?;
    let (sender, events) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(connection).lines() {
            let Ok(line) = line else { break };
            // Chunked framing leaves the SSE lines whole on loopback; `id: N` follows a
            // `changed` event.
            if let Some(id) = line.strip_prefix("id: ").and_then(|n| n.trim().parse().ok())
                && sender.send((id, Instant::now())).is_err()
            {
                break;
            }
        }
    });
    Ok(Stream { events })
}

/// Publish on `a`, hint read on a stream open on `b`: milliseconds, `trials` times (after
/// one more, untimed).
pub fn hint_across(a: &Platform, b: &Platform, token: &str, trials: usize) -> anyhow::Result<Vec<f64>> {
    // From generation 0: the stream first tells the current one, which the loop skips.
    let stream = open_stream(b.addr(), token, 0)?;
    std::thread::sleep(Duration::from_millis(300));
    let mut latencies = Vec::new();
    for trial in 0..trials + 1 {
        let id = format!("flash-scale-{trial}");
        let start = Instant::now();
        let answer = a.publish(&a.landlord, urgent_flash(&id, "Essai de diffusion", 30));
        let generation = answer["generation"].as_u64().context("the publish answer's generation")?;
        loop {
            let (seen, at) = stream
                .events
                .recv_timeout(Duration::from_secs(10))
                .context("a hint on the other replica within 10 s")?;
            if seen >= generation {
                if trial > 0 {
                    latencies.push(at.duration_since(start).as_secs_f64() * 1000.0);
                }
                break;
            }
        }
        a.withdraw(&a.landlord, &id);
    }
    Ok(latencies)
}

/// What holding idle streams cost one replica.
#[derive(Debug, Clone)]
pub struct HeldStreams {
    pub opened: usize,
    pub rss_before_mib: f64,
    pub rss_after_mib: f64,
}

impl HeldStreams {
    pub fn kib_per_stream(&self) -> f64 {
        (self.rss_after_mib - self.rss_before_mib) * 1024.0 / self.opened as f64
    }
}

/// Opens `count` idle event streams to `platform` as `tokens` (cycled), keeps them, and
/// measures the server's RSS before and after (settled for 3 s).
pub fn hold_streams(platform: &Platform, tokens: &[String], count: usize) -> anyhow::Result<HeldStreams> {
    let pid = platform.pid().context("the replica's process")?;
    let rss_before_mib = rss_mib(pid)?;
    let mut held = Vec::with_capacity(count);
    for n in 0..count {
        let token = &tokens[n % tokens.len()];
        let mut connection = TcpStream::connect(platform.addr())
            .with_context(|| format!("stream {n}: raise the open-file limit (ulimit -n)"))?;
        write!(
            connection,
            "GET /v1/device/events HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\nauthorization: Bearer {token}\r\n\r\n",
            platform.addr()
        )?;
        held.push(connection);
    }
    // Every stream answered: read each one's status line.
    for (n, connection) in held.iter_mut().enumerate() {
        connection.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut head = [0u8; 12];
        connection.read_exact(&mut head).with_context(|| format!("stream {n} answered"))?;
        if &head != b"HTTP/1.1 200" {
            bail!("stream {n}: {}", String::from_utf8_lossy(&head));
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    let rss_after_mib = rss_mib(pid)?;
    drop(held);
    Ok(HeldStreams { opened: count, rss_before_mib, rss_after_mib })
}

fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS")?;
    Ok(kib / 1024.0)
}

/// The open-file limit this process may raise its children's to.
pub fn open_file_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|soft| soft.parse().ok())
        })
        .unwrap_or(1024)
}

/// The `platform.toml` line that puts a platform on this database.
pub fn settings_for(database_url: &str) -> String {
    format!("database_url = {database_url:?}")
}
