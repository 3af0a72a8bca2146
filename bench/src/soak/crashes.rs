//! Crashes during sync: the real `palier-sync` daemon killed with SIGKILL at random moments
//! while the real platform publishes, updates, withdraws and erases items in a seeded
//! stream ([`stream`]), a journal writer appends plays as the player would, and a reader
//! opens the cache's pictures as the player would ([`alongside`]).
//!
//! After each kill: `PRAGMA integrity_check` is ok, the cache holds one whole state of the
//! stream (the items of one manifest generation, never a mix) and every picture it names is
//! on disk under its hash. After the next uninterrupted round: the cache holds the stream's
//! latest state and `media/` holds nothing else (no orphan, partial or temporary file). At
//! the end every play appended reached the platform once.

mod alongside;
mod stream;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use palier_content::{CacheReader, Snapshot};
use palier_testkit::processes::{Board, LIFT, Platform};
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags};
use serde_json::json;

use super::PartReport;
use stream::{History, Stream};

/// How a crash soak runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub kills: u32,
    /// Draws the stream's operations and the kill moments (timing still varies).
    pub seed: u64,
    /// Kill moments are drawn up to this long after the daemon's start.
    pub longest_run: Duration,
}

/// How long the daemon may take to catch up after a restart before it counts as stuck.
const SETTLE: Duration = Duration::from_secs(60);

/// Counts of each check.
#[derive(Debug, Default)]
struct Counts {
    integrity_ok: u64,
    integrity_failed: u64,
    no_cache_yet: u64,
    whole_state: u64,
    mixed_state: u64,
    media_verified: u64,
    media_missing: u64,
    settled: u64,
    not_settled: u64,
    clean_media: u64,
    /// Distinct files left over, by kind.
    leftovers: BTreeMap<&'static str, BTreeSet<String>>,
}

/// Runs the soak; never panics on what it checks (failures go into the report).
pub fn run(settings: &Settings) -> PartReport {
    let started = Instant::now();
    let mut report = PartReport::new("crashes");
    let mut rng = rand::rngs::StdRng::seed_from_u64(settings.seed);
    let mut platform = Platform::init();
    platform.serve();
    let stream = Stream::new(&platform, settings.seed);
    let code = platform.device_code("lift");
    let mut board = Board::new(&platform, &code, LIFT, 5);
    let mut counts = Counts::default();
    let history = stream.history();

    let writer = alongside::PlaysWriter::new(board.data.journal(), stream.anchor().to_owned());
    let reader = alongside::Reader::new(board.data.cache());
    std::thread::scope(|scope| {
        let stream_thread = scope.spawn(|| stream.run());
        let writer_thread = scope.spawn(|| writer.run());
        let reader_thread = scope.spawn(|| reader.run());
        board.start_sync();
        for kill in 1..=settings.kills {
            stream.resume();
            let moment = settings.longest_run.mul_f64(rng.random::<f64>());
            std::thread::sleep(moment);
            board.kill_all();
            stream.pause();
            check_after_kill(&board, &history, kill, &mut counts, &mut report);
            let restarted = jiff::Timestamp::now();
            board.start_sync();
            check_next_round(&board, &stream, restarted, kill, &mut counts, &mut report);
        }
        stream.stop();
        writer.stop();
        reader.stop();
        for thread in [stream_thread, writer_thread, reader_thread] {
            if thread.join().is_err() {
                report.fail("a helper thread of the soak panicked (see its message above)");
            }
        }
    });

    let plays = alongside::uploaded_plays(&platform, &board, stream.anchor(), writer.appended());
    board.kill_all();
    let reads = reader.counts();
    if stream.failed() > 0 {
        report.fail(format!(
            "{} operations of the stream failed (the platform's answers are above)",
            stream.failed()
        ));
    }
    if let Some(lost) = plays.lost() {
        report.fail(lost);
    }
    for failure in reader.failures() {
        report.fail(failure);
    }
    for failure in writer.failures() {
        report.fail(failure);
    }

    let kills = settings.kills;
    report.row("seed", settings.seed);
    report.row("kills (SIGKILL of palier-sync)", kills);
    report.row("stream operations (publish, update, withdraw, erase)", stream.operations_summary());
    report
        .row("integrity_check ok / failed", format!("{} / {}", counts.integrity_ok, counts.integrity_failed));
    report.row("killed before the first cache existed", counts.no_cache_yet);
    report.row("one whole state / a mix", format!("{} / {}", counts.whole_state, counts.mixed_state));
    report.row(
        "pictures named by the cache on disk and verified / missing",
        format!("{} / {}", counts.media_verified, counts.media_missing),
    );
    report.row("next round caught up / stuck", format!("{} / {}", counts.settled, counts.not_settled));
    report.row("media/ clean after the next round", format!("{} of {}", counts.clean_media, counts.settled));
    let leftovers: Vec<String> =
        counts.leftovers.iter().map(|(kind, n)| format!("{} {kind}", n.len())).collect();
    report.row(
        "distinct files left over after a next round",
        if leftovers.is_empty() { "none".into() } else { leftovers.join(", ") },
    );
    report.row(
        "plays appended / on the platform / lost",
        format!(
            "{} / {} / {}",
            plays.appended,
            plays.on_platform,
            plays.appended.saturating_sub(plays.on_platform)
        ),
    );
    report.row(
        "reader alongside: snapshots / pictures opened / failed (gone with a newer generation)",
        format!("{} / {} / {} ({})", reads.snapshots, reads.pictures, reads.failed, reads.superseded),
    );
    report.row("duration", format!("{:.0} s", started.elapsed().as_secs_f64()));
    report.json = json!({
        "seed": settings.seed,
        "kills": kills,
        "longest_run_ms": settings.longest_run.as_millis() as u64,
        "operations": stream.operations_json(),
        "integrity_ok": counts.integrity_ok,
        "integrity_failed": counts.integrity_failed,
        "no_cache_yet": counts.no_cache_yet,
        "whole_state": counts.whole_state,
        "mixed_state": counts.mixed_state,
        "media_verified": counts.media_verified,
        "media_missing": counts.media_missing,
        "settled": counts.settled,
        "not_settled": counts.not_settled,
        "clean_media": counts.clean_media,
        "leftovers": counts.leftovers.iter().map(|(k, n)| (*k, n.len())).collect::<BTreeMap<_, _>>(),
        "plays_appended": plays.appended,
        "plays_on_platform": plays.on_platform,
        "reader_snapshots": reads.snapshots,
        "reader_pictures": reads.pictures,
        "reader_failed": reads.failed,
        "reader_superseded": reads.superseded,
        "seconds": started.elapsed().as_secs_f64(),
    });
    report
}

/// Right after a kill, with the daemon dead: the file's integrity, one whole state, the
/// pictures it names.
fn check_after_kill(
    board: &Board,
    history: &History,
    kill: u32,
    counts: &mut Counts,
    report: &mut PartReport,
) {
    let path = board.data.cache();
    match integrity(&path) {
        Ok(None) => {
            counts.no_cache_yet += 1;
            return;
        }
        Ok(Some(())) => counts.integrity_ok += 1,
        Err(verdict) => {
            counts.integrity_failed += 1;
            report.fail(format!("kill {kill}: integrity_check said {verdict}"));
            return;
        }
    }
    let snapshot = match CacheReader::open(&path).and_then(|mut r| r.snapshot()) {
        Ok(snapshot) => snapshot,
        Err(e) => {
            counts.mixed_state += 1;
            report.fail(format!("kill {kill}: the cache does not read: {e}"));
            return;
        }
    };
    if snapshot.source_generation == 0 {
        counts.no_cache_yet += 1;
        return;
    }
    let held = stream::state_of(&snapshot);
    if history.is_whole_state(snapshot.source_generation, &held) {
        counts.whole_state += 1;
    } else {
        counts.mixed_state += 1;
        report.fail(format!(
            "kill {kill}: generation {} holds {held:?}, which no state of the stream at that generation was",
            snapshot.source_generation
        ));
    }
    match missing_media(&snapshot) {
        None => counts.media_verified += 1,
        Some(problem) => {
            counts.media_missing += 1;
            report.fail(format!("kill {kill}: {problem}"));
        }
    }
}

/// The daemon restarted with the stream paused: once it has finished a round after
/// `restarted` holding the stream's latest state, `media/` must hold only what it names.
fn check_next_round(
    board: &Board,
    stream: &Stream<'_>,
    restarted: jiff::Timestamp,
    kill: u32,
    counts: &mut Counts,
    report: &mut PartReport,
) {
    let latest = stream.latest_state();
    let path = board.data.cache();
    let deadline = Instant::now() + SETTLE;
    let caught_up = loop {
        let finished = last_success(&path).ok().flatten().is_some_and(|at| at >= restarted);
        if finished {
            match CacheReader::open(&path).and_then(|mut r| r.snapshot()) {
                Ok(read) if stream::state_of(&read) == latest => break Some(read),
                _ => {}
            }
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let Some(snapshot) = caught_up else {
        counts.not_settled += 1;
        report.fail(format!(
            "kill {kill}: the next round did not reach the stream's latest state within {SETTLE:?}\n{}",
            board.logs()
        ));
        return;
    };
    counts.settled += 1;
    let leftovers = leftovers(&snapshot);
    if leftovers.is_empty() {
        counts.clean_media += 1;
    } else {
        for (kind, name) in leftovers {
            let seen = counts.leftovers.entry(kind).or_default();
            if !seen.contains(&name) {
                report.fail(format!("kill {kill}: media/{name} ({kind}) left after the next round"));
                seen.insert(name);
            }
        }
    }
}

/// `Ok(None)` when there is no cache file (or no schema) yet, `Ok(Some(()))` when SQLite's
/// integrity check passes, else its verdict.
fn integrity(path: &Path) -> Result<Option<()>, String> {
    if !path.exists() {
        return Ok(None);
    }
    let db =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(|e| e.to_string())?;
    let verdict: String =
        db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if verdict != "ok" {
        return Err(verdict);
    }
    let tables: i64 = db
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'state'", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    Ok((tables > 0).then_some(()))
}

/// When the daemon last finished a round, from the cache's `sync_state`.
fn last_success(path: &Path) -> Result<Option<jiff::Timestamp>, String> {
    let db =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| e.to_string())?;
    let text: Option<String> = db
        .query_row("SELECT last_success_at FROM sync_state", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    Ok(text.and_then(|t| t.parse().ok()))
}

/// The first picture the snapshot names that is not on disk under its own hash.
fn missing_media(snapshot: &Snapshot) -> Option<String> {
    for item in &snapshot.items {
        for media in &item.media {
            match std::fs::read(snapshot.media_path(media)) {
                Ok(bytes) if palier_content::demo::sha256_hex(&bytes) == media.sha256 => {}
                Ok(_) => return Some(format!("{}: media/{} does not match its hash", item.id, media.sha256)),
                Err(e) => return Some(format!("{}: media/{} missing: {e}", item.id, media.sha256)),
            }
        }
    }
    None
}

/// Files of `media/` the snapshot does not need, by kind: a picture or rendition nobody
/// names, a partial download, a temporary file.
fn leftovers(snapshot: &Snapshot) -> Vec<(&'static str, String)> {
    let named: std::collections::HashSet<&str> =
        snapshot.items.iter().flat_map(|i| i.media.iter().map(|m| m.sha256.as_str())).collect();
    let Ok(entries) = std::fs::read_dir(&snapshot.media_dir) else { return Vec::new() };
    let mut found: Vec<(&'static str, String)> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|name| {
            let kind = if name == ".rendition-side" {
                return None;
            } else if name.ends_with(".partial") {
                "partial download"
            } else if name.ends_with(".tmp") {
                "temporary file"
            } else if named.contains(name.trim_end_matches(".display")) {
                return None;
            } else if name.ends_with(".display") {
                "orphan rendition"
            } else {
                "orphan picture"
            };
            Some((kind, name))
        })
        .collect();
    found.sort();
    found
}
