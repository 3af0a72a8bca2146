//! Idle devices polling one platform: how many `GET /v1/device/manifest` with a matching
//! `If-None-Match` (answered 304) it serves per second, and how long they take.
//!
//! Devices are enrolled for real (a code each, `POST /v1/device/enrol`) and fetch their
//! manifest once for its ETag. The generator then runs `connections` kept-alive
//! connections on one thread (tokio, current-thread), each sending a device's poll — the
//! same headers `palier-sync` sends — and waiting for the answer before the next one, cycling
//! through the devices, for a bounded time. Loopback only.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An enrolled device and the ETag of its current manifest.
#[derive(Debug, Clone)]
pub struct Device {
    pub token: String,
    pub etag: String,
}

/// Enrols a device at `base_url` with a one-time `code` and reads its manifest's ETag.
pub fn enrol(
    http: &reqwest::blocking::Client,
    base_url: &str,
    code: &str,
    name: &str,
) -> anyhow::Result<Device> {
    let response = http
        .post(format!("{base_url}/v1/device/enrol"))
        .json(&json!({"code": code, "device_name": name, "software_version": "bench"}))
        .send()?;
    if !response.status().is_success() {
        bail!("enrolling {name}: {} {}", response.status(), response.text().unwrap_or_default());
    }
    let body: serde_json::Value = response.json()?;
    let token = body["token"].as_str().context("the enrolment answer has a token")?.to_owned();
    let response = http.get(format!("{base_url}/v1/device/manifest")).bearer_auth(&token).send()?;
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .context("the manifest has an ETag")?
        .to_owned();
    Ok(Device { token, etag })
}

/// What a load run measured.
#[derive(Debug, Clone, Default)]
pub struct LoadRun {
    pub seconds: f64,
    /// Answers received (304 or not).
    pub requests: u64,
    /// Answers other than 304, and connections that failed.
    pub errors: u64,
    pub latencies_ms: Vec<f64>,
}

impl LoadRun {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// Polls `addr` as `devices` over `connections` connections for `duration`.
pub fn hammer(addr: SocketAddr, devices: &[Device], connections: usize, duration: Duration) -> LoadRun {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let requests: Vec<Vec<u8>> = devices
        .iter()
        .map(|d| {
            format!(
                "GET /v1/device/manifest HTTP/1.1\r\nhost: {addr}\r\nuser-agent: palier-sync/{}\r\naccept: */*\r\n\
                 accept-encoding: gzip\r\nauthorization: Bearer {}\r\nif-none-match: {}\r\n\r\n",
                env!("CARGO_PKG_VERSION"),
                d.token,
                d.etag
            )
            .into_bytes()
        })
        .collect();
    runtime.block_on(async move {
        let start = Instant::now();
        let deadline = start + duration;
        let requests = std::sync::Arc::new(requests);
        let mut tasks = Vec::new();
        for connection in 0..connections {
            let requests = std::sync::Arc::clone(&requests);
            tasks.push(tokio::spawn(async move {
                poll_loop(addr, &requests, connection, connections, deadline).await
            }));
        }
        let mut run = LoadRun::default();
        for task in tasks {
            if let Ok(part) = task.await {
                run.requests += part.requests;
                run.errors += part.errors;
                run.latencies_ms.extend(part.latencies_ms);
            }
        }
        run.seconds = start.elapsed().as_secs_f64();
        run
    })
}

async fn poll_loop(
    addr: SocketAddr,
    requests: &[Vec<u8>],
    first: usize,
    step: usize,
    deadline: Instant,
) -> LoadRun {
    let mut run = LoadRun::default();
    let mut next = first;
    let mut buffer = vec![0u8; 8192];
    'connect: while Instant::now() < deadline {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            run.errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        while Instant::now() < deadline {
            let request = &requests[next % requests.len()];
            next += step;
            let sent = Instant::now();
            if stream.write_all(request).await.is_err() {
                run.errors += 1;
                continue 'connect;
            }
            // Read the head; a 304 has no body, anything else is counted as an error and
            // its body skipped by Content-Length.
            let mut filled = 0;
            let head_end = loop {
                if let Some(end) = buffer[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                    break end + 4;
                }
                if filled == buffer.len() {
                    buffer.resize(buffer.len() * 2, 0);
                }
                match stream.read(&mut buffer[filled..]).await {
                    Ok(0) | Err(_) => {
                        run.errors += 1;
                        continue 'connect;
                    }
                    Ok(n) => filled += n,
                }
            };
            let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
            if !head.starts_with("http/1.1 304") {
                run.errors += 1;
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                let mut left = length.saturating_sub(filled - head_end);
                while left > 0 {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => continue 'connect,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            }
            run.requests += 1;
            run.latencies_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
        }
    }
    run
}
