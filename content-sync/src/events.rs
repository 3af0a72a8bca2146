//! The change-hint listener: the platform's server-sent event stream (protocol §5.3), read
//! by a small parser, turned into "start a round now" signals.
//!
//! Hints are only a shortcut, so this task never decides anything about content: a
//! `changed` event whose generation is above what the board holds wakes the daemon through
//! a [`Notify`], which coalesces bursts into one pending round. The stream reconnects with
//! capped exponential backoff and full jitter (the counter resets after 60 s connected), a
//! stream silent for longer than three keep-alives is dropped, and the link's state is
//! logged once per change, not once per retry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use palier_content::wire::ChangeHint;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::api::{ApiError, PlatformClient};
use crate::backoff::{Backoff, random_unit};

/// A stream connected this long resets the backoff counter.
pub const STABLE_AFTER: Duration = Duration::from_secs(60);

/// One dispatched server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// `message` when the stream named none.
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

/// An incremental `text/event-stream` parser (WHATWG rules, minus `retry`, which the
/// daemon's own backoff replaces).
#[derive(Debug, Default)]
pub struct SseParser {
    pending: Vec<u8>,
    event: String,
    data: Vec<String>,
    id: Option<String>,
}

impl SseParser {
    /// Feeds bytes as they arrive; returns the events completed by them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n' || b == b'\r') {
            // A CR LF pair is one line end; wait for the LF if the CR ends the chunk.
            if self.pending[end] == b'\r' && end + 1 == self.pending.len() {
                break;
            }
            let crlf = self.pending[end] == b'\r' && self.pending.get(end + 1) == Some(&b'\n');
            let line: Vec<u8> = self.pending.drain(..end + if crlf { 2 } else { 1 }).take(end).collect();
            let line = String::from_utf8_lossy(&line).into_owned();
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        events
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            if self.data.is_empty() {
                self.event.clear();
                return None;
            }
            let event =
                if self.event.is_empty() { "message".to_owned() } else { std::mem::take(&mut self.event) };
            return Some(SseEvent {
                event,
                data: std::mem::take(&mut self.data).join("\n"),
                id: self.id.clone(),
            });
        }
        if line.starts_with(':') {
            return None; // a comment: `: keep-alive`
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = value.to_owned(),
            "data" => self.data.push(value.to_owned()),
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            _ => {}
        }
        None
    }
}

/// The hint in `event`, if it is a `changed` event that reads.
pub fn change_hint(event: &SseEvent) -> Option<ChangeHint> {
    (event.event == "changed").then(|| serde_json::from_str(&event.data).ok()).flatten()
}

/// Logs a link's state once per change (up → down, down → up).
#[derive(Debug)]
pub struct LinkLog {
    what: &'static str,
    up: Option<bool>,
}

impl LinkLog {
    pub fn new(what: &'static str) -> LinkLog {
        LinkLog { what, up: None }
    }

    pub fn up(&mut self) {
        if self.up == Some(false) {
            tracing::info!("{} is back", self.what);
        }
        self.up = Some(true);
    }

    pub fn down(&mut self, error: &dyn std::fmt::Display) {
        if self.up != Some(false) {
            tracing::warn!("{} failed: {error:#}; will retry (logged again when it recovers)", self.what);
        } else {
            tracing::debug!("{} still failing: {error:#}", self.what);
        }
        self.up = Some(false);
    }
}

/// What the listener needs.
#[derive(Debug, Clone)]
pub struct Listener {
    pub client: Arc<PlatformClient>,
    /// The manifest generation the board holds (sent as `Last-Event-ID`).
    pub held: Arc<AtomicU64>,
    /// Woken when a hint says the manifest moved on.
    pub wake: Arc<Notify>,
    pub backoff: Backoff,
    /// A stream with no byte for this long is dead (protocol: 45 s).
    pub idle: Duration,
    /// Tells the daemon whether a stream is open.
    pub connected: watch::Sender<bool>,
}

impl Listener {
    /// Runs until aborted.
    pub async fn run(self) {
        let mut log = LinkLog::new("change-hint stream");
        let mut attempt = 0u32;
        loop {
            let floor = match self.client.events(self.held.load(Ordering::SeqCst)).await {
                Ok(response) => {
                    log.up();
                    let opened = Instant::now();
                    self.connected.send_replace(true);
                    let ended = self.read(response).await;
                    self.connected.send_replace(false);
                    if opened.elapsed() >= STABLE_AFTER {
                        attempt = 0;
                    }
                    tracing::debug!("change-hint stream ended: {ended}");
                    None
                }
                Err(e) => {
                    log.down(&e);
                    match e {
                        // A revoked token: no point knocking more often than every 5 minutes.
                        ApiError::Unauthorized => Some(Duration::from_secs(300)),
                        other => other.retry_after(),
                    }
                }
            };
            let delay = self.backoff.delay(attempt, random_unit(), floor);
            attempt = attempt.saturating_add(1);
            tokio::time::sleep(delay).await;
        }
    }

    async fn read(&self, response: reqwest::Response) -> String {
        let mut parser = SseParser::default();
        let mut body = response.bytes_stream();
        loop {
            let chunk = match tokio::time::timeout(self.idle, body.next()).await {
                Err(_) => return format!("silent for {} s", self.idle.as_secs()),
                Ok(None) => return "closed by the platform".to_owned(),
                Ok(Some(Err(e))) => return e.to_string(),
                Ok(Some(Ok(chunk))) => chunk,
            };
            for event in parser.feed(&chunk) {
                let Some(hint) = change_hint(&event) else { continue };
                if hint.generation > self.held.load(Ordering::SeqCst) {
                    tracing::debug!(generation = hint.generation, reason = %hint.reason, "change hint");
                    self.wake.notify_one();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "retry: 5000\n\nevent: changed\nid: 1042\ndata: {\"generation\": 1042, \"reason\": \"publish\"}\n\n: keep-alive\n\nevent: changed\r\nid: 1043\r\ndata: {\"generation\": 1043, \"reason\": \"withdraw\"}\r\n\r\nevent: poll\ndata: {}\n\ndata: a\ndata: b\n\n";

    #[test]
    fn the_protocol_transcript_parses_whatever_the_chunking() {
        for size in [1, 2, 3, 7, 64, STREAM.len()] {
            let mut parser = SseParser::default();
            let events: Vec<SseEvent> = STREAM.as_bytes().chunks(size).flat_map(|c| parser.feed(c)).collect();
            let hints: Vec<u64> = events.iter().filter_map(change_hint).map(|h| h.generation).collect();
            assert_eq!(hints, vec![1042, 1043], "chunks of {size}");
            assert_eq!(events[1].id.as_deref(), Some("1043"));
            assert_eq!(events[2].event, "poll", "unknown events parse and are ignored by the daemon");
            assert_eq!(
                events[3],
                SseEvent { event: "message".into(), data: "a\nb".into(), id: Some("1043".into()) }
            );
            assert_eq!(events.len(), 4);
        }
    }

    #[test]
    fn garbage_hints_are_ignored() {
        let event = |event: &str, data: &str| SseEvent { event: event.into(), data: data.into(), id: None };
        assert_eq!(change_hint(&event("changed", "not json")), None);
        assert_eq!(change_hint(&event("changed", "{\"reason\": \"publish\"}")), None);
        assert_eq!(change_hint(&event("other", "{\"generation\": 3}")), None);
        let hint = change_hint(&event("changed", "{\"generation\": 3, \"extra\": true}")).unwrap();
        assert_eq!((hint.generation, hint.reason.as_str()), (3, ""));
    }
}
