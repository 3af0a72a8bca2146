//! A month offline: a board synced once with a month of content, then its platform gone,
//! and the player's engine driven through the month on an injected clock (it takes the
//! instant as an argument: every deadline it names is visited, nothing in between).
//!
//! The month is chosen to hold the building's next daylight-saving change. Checked on every
//! showing: an item shows only inside its validity window and its weekly hours (computed
//! here independently, civil time → instant through the time-zone database); the fallback
//! slide shows only when nothing is eligible; an item's eligible stretch is reached. The
//! plays journal's size is sampled every simulated day. When the platform comes back,
//! `palier-sync` uploads the plays, and a second round adds none.

mod timeline;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use palier_content::PlaysJournal;
use palier_content::config::BoardConfig;
use palier_player::engine::{Engine, EnginePaths};
use palier_player::source::Assets;
use palier_testkit::processes::{Board, LIFT, Platform, binary};
use serde_json::json;

use super::PartReport;
use timeline::{Month, Showing};

/// How an offline soak runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub days: u32,
    /// Items published for the month.
    pub items: u32,
    /// Draws the items' windows and hours.
    pub seed: u64,
}

/// The building's zone (the month holds its next daylight-saving change).
const ZONE: &str = "Europe/Paris";

pub fn run(settings: &Settings) -> PartReport {
    let wall = Instant::now();
    let mut report = PartReport::new("offline");
    let tz = TimeZone::get(ZONE).expect("the bundled time-zone database");
    let month = Month::around_next_change(&tz, Timestamp::now(), settings.days);
    let mut platform = Platform::init();
    platform.serve();
    let shop = platform.add_publisher("shop");
    let items = timeline::draw_items(&month, settings.items, settings.seed);
    for item in &items {
        platform.publish(token_for(&platform, &shop, item.publisher), item.body.clone());
    }
    let code = platform.device_code("lift");
    let board = Board::new(&platform, &code, LIFT, 60);
    if let Err(e) = sync_once(&board) {
        report.fail(format!("the first sync failed: {e}"));
        return report;
    }
    let held = palier_content::CacheReader::open(&board.data.cache()).and_then(|mut r| r.snapshot());
    let held = held.map(|s| s.items.len()).unwrap_or(0);
    if held != items.len() {
        report.fail(format!("the board holds {held} of the month's {} items after its sync", items.len()));
    }
    platform.stop();

    // The month, on the injected clock.
    let config = match BoardConfig::load(&board.config) {
        Ok(loaded) => loaded.config,
        Err(e) => {
            report.fail(format!("the board file did not load: {e}"));
            return report;
        }
    };
    let shown_channels = config.screens[0].clone();
    let assets = Assets::locate(None).expect("the player's assets in the source tree");
    let paths = EnginePaths { cache: board.data.cache(), journal: board.data.journal() };
    let mut engine = Engine::start(config, assets, paths, month.start);
    engine.set_watched(month.start);
    let mut showings: Vec<Showing> = Vec::new();
    let mut on_screen = Showing::of(&engine, month.start);
    let mut journal_samples: Vec<(u64, u64)> = Vec::new();
    let mut next_sample = month.start;
    let mut now = month.start;
    let mut wake_ups = 0u64;
    while now < month.end {
        now = engine.next_deadline(now).min(month.end);
        wake_ups += 1;
        if !engine.advance(now).is_empty() {
            let next = Showing::of(&engine, now);
            showings.push(on_screen.until(now));
            on_screen = next;
        }
        if now >= next_sample {
            journal_samples.push(journal_size(&board));
            next_sample += SignedDuration::from_hours(24);
        }
    }
    engine.finish(month.end);
    showings.push(on_screen.until(month.end));
    journal_samples.push(journal_size(&board));

    let eligible =
        timeline::eligible_stretches(&items, &tz, &month, |item| shown_channels.shows(item.channel));
    let verdict = timeline::check(&showings, &eligible);
    for failure in &verdict.failures {
        report.fail(failure.clone());
    }
    let pending_by_item = pending_by_item(&board);
    let appended: u64 = pending_by_item.values().sum();

    // The platform comes back.
    platform.serve();
    let uploaded = upload_all(&board);
    let totals_once = platform_totals(&platform, &shop, &items);
    let again = sync_once(&board);
    let totals_twice = platform_totals(&platform, &shop, &items);
    if let Err(e) = uploaded.as_ref().and(again.as_ref()) {
        report.fail(format!("uploading the month's plays failed: {e}"));
    }
    let item_plays: u64 = pending_by_item.iter().filter(|(id, _)| !id.is_empty()).map(|(_, n)| n).sum();
    let on_platform: u64 = totals_once.values().sum();
    if on_platform != item_plays {
        report.fail(format!(
            "{item_plays} plays of items were journaled offline, the platform counted {on_platform}"
        ));
    }
    if totals_twice != totals_once {
        report
            .fail("a second upload round changed the platform's counts: plays were counted twice".to_owned());
    }
    let left = board.pending_plays().len();
    if left > 0 {
        report.fail(format!("{left} plays still pending after the platform came back"));
    }
    let max_records = journal_samples.iter().map(|s| s.0).max().unwrap_or(0);
    let max_bytes = journal_samples.iter().map(|s| s.1).max().unwrap_or(0);
    if max_records > palier_content::journal::MAX_RECORDS {
        report.fail(format!(
            "the journal held {max_records} records, over its bound of {}",
            palier_content::journal::MAX_RECORDS
        ));
    }

    report.row("seed", settings.seed);
    report.row("month (injected clock)", format!("{} → {} ({ZONE})", month.start, month.end));
    report.row("daylight-saving change inside it", month.change.to_string());
    report.row("items published / held by the board", format!("{} / {held}", items.len()));
    report.row("engine wake-ups (deadlines visited)", wake_ups);
    report.row("showings checked", showings.len());
    report.row("shown outside the item's window or hours", verdict.outside);
    report.row("fallback while an item was eligible", verdict.fallback_while_eligible);
    report.row("fallback showings (nothing eligible)", verdict.fallback);
    report.row(
        "eligible stretches reached / missed",
        format!("{} / {}", verdict.stretches_reached, verdict.stretches_missed),
    );
    report.row("items replacing the fallback the instant they became eligible", verdict.came_at_once);
    report.row("items left the screen exactly at their end", verdict.left_on_time);
    report.row("delay from eligible to on screen, median / max", verdict.delay_summary());
    report.row(
        "plays journal: most records / bytes",
        format!(
            "{max_records} / {:.1} MiB (bound {} records)",
            max_bytes as f64 / 1048576.0,
            palier_content::journal::MAX_RECORDS
        ),
    );
    report.row(
        "plays journaled offline / counted by the platform / after a second round",
        format!(
            "{appended} ({item_plays} of items) / {on_platform} / {}",
            totals_twice.values().sum::<u64>()
        ),
    );
    report.row("duration", format!("{:.0} s", wall.elapsed().as_secs_f64()));
    report.json = json!({
        "seed": settings.seed,
        "start": month.start.to_string(),
        "end": month.end.to_string(),
        "dst_change": month.change.to_string(),
        "items": items.len(),
        "held": held,
        "wake_ups": wake_ups,
        "showings": showings.len(),
        "outside": verdict.outside,
        "fallback_while_eligible": verdict.fallback_while_eligible,
        "fallback": verdict.fallback,
        "stretches_reached": verdict.stretches_reached,
        "stretches_missed": verdict.stretches_missed,
        "left_on_time": verdict.left_on_time,
        "came_at_once": verdict.came_at_once,
        "delays_s": verdict.delay_summary(),
        "journal_max_records": max_records,
        "journal_max_bytes": max_bytes,
        "journal_daily": journal_samples,
        "plays_journaled": appended,
        "item_plays_journaled": item_plays,
        "plays_on_platform": on_platform,
        "plays_after_second_round": totals_twice.values().sum::<u64>(),
        "seconds": wall.elapsed().as_secs_f64(),
    });
    report
}

/// Records pending in the journal and the bytes of its files.
fn journal_size(board: &Board) -> (u64, u64) {
    let path = board.data.journal();
    let records = PlaysJournal::open(&path).and_then(|j| j.pending_count()).unwrap_or(0);
    let bytes = ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum();
    (records, bytes)
}

fn pending_by_item(board: &Board) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let pending = PlaysJournal::open(&board.data.journal()).and_then(|j| j.pending(usize::MAX));
    for play in pending.unwrap_or_default() {
        *counts.entry(play.item_id).or_default() += 1;
    }
    counts
}

/// One `palier-sync sync-once`.
fn sync_once(board: &Board) -> Result<(), String> {
    let output = Command::new(binary("palier-sync"))
        .arg("--config")
        .arg(&board.config)
        .arg("sync-once")
        .env("RUST_LOG", "warn")
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).into_owned()) }
}

/// Rounds until the journal is empty (each round uploads a bounded batch).
fn upload_all(board: &Board) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while !board.pending_plays().is_empty() {
        if Instant::now() > deadline {
            return Err("plays still pending after 10 minutes of rounds".into());
        }
        sync_once(board)?;
    }
    Ok(())
}

/// The platform's play count of every item.
fn platform_totals(platform: &Platform, shop: &str, items: &[timeline::Drawn]) -> BTreeMap<String, u64> {
    items
        .iter()
        .map(|item| {
            let token = token_for(platform, shop, item.publisher);
            (item.id.clone(), platform.plays(token, &item.id)["total"].as_u64().unwrap_or(0))
        })
        .collect()
}

/// The token of the item's publisher.
fn token_for<'a>(platform: &'a Platform, shop: &'a str, publisher: timeline::Publisher) -> &'a str {
    match publisher {
        timeline::Publisher::Landlord => &platform.landlord,
        timeline::Publisher::Shop => shop,
        timeline::Publisher::Neighbourhood => &platform.neighbourhood,
    }
}
