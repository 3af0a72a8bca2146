//! What the command line prints for people: `check-config` (is this board file right, and
//! if not, which key to fix and how) and `status` (where the board's sync stands).
//!
//! Both only read. `status` opens the cache and journal without creating them, so running it
//! on a board that never synced says so instead of making empty files.

use std::fmt::Write as _;
use std::path::Path;

use palier_content::config::BoardConfig;
use palier_content::{Cache, DataDir, PlaysJournal};

use crate::credentials::Credentials;
use crate::renditions::display_side;
use crate::settings::SyncSettings;

/// The verdict on a board file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigCheck {
    /// Each problem names the key and the fix.
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
    /// What the file sets up, when it is usable.
    pub summary: Vec<String>,
}

impl ConfigCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The text `check-config` prints.
    pub fn render(&self, path: &Path) -> String {
        let mut out = String::new();
        for problem in &self.problems {
            let _ = writeln!(out, "error: {problem}");
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
        for line in &self.summary {
            let _ = writeln!(out, "  {line}");
        }
        let verdict = if self.ok() {
            "is valid".to_owned()
        } else {
            format!("has {} problem(s); fix them and run check-config again", self.problems.len())
        };
        let _ = writeln!(out, "{} {verdict}", path.display());
        out
    }
}

/// Checks the whole board file: the shared part (screens, data directory) and `[sync]`.
pub fn check_config(path: &Path) -> ConfigCheck {
    let mut check = ConfigCheck::default();
    let loaded = match BoardConfig::load(path) {
        Ok(loaded) => loaded,
        Err(e) => {
            check.problems.push(e.to_string());
            return check;
        }
    };
    check.warnings.extend(loaded.warnings);
    let config = loaded.config;
    match SyncSettings::from_table(&config.sync) {
        Ok(sync) => {
            check.warnings.extend(sync.warnings);
            let s = sync.settings;
            check.summary.push(format!("platform: {}", s.platform_url.as_deref().unwrap_or("?")));
            check.summary.push(format!(
                "polls every {} s (±20 %), heartbeat every {} s, {} download(s) at once",
                s.poll_interval_s, s.heartbeat_interval_s, s.max_parallel_downloads
            ));
            if s.enrolment_code.is_none() {
                check.summary.push(
                    "no sync.enrolment_code: the board must already be enrolled (palier-sync enrol --code CODE)"
                        .to_owned(),
                );
            }
        }
        Err(problems) => check.problems.extend(problems.iter().map(|p| format!("{}: {p}", path.display()))),
    }
    let screens: Vec<String> =
        config.screens.iter().map(|s| format!("{} ({}, {}×{})", s.name, s.role, s.width, s.height)).collect();
    check.summary.push(format!(
        "screens: {}; pictures larger than {} px are scaled for them",
        screens.join(", "),
        display_side(&config.screens)
    ));
    let data = &config.data_dir;
    match std::fs::metadata(data) {
        Ok(meta) if meta.is_dir() && meta.permissions().readonly() => check.problems.push(format!(
            "data_dir {}: is read-only; point data_dir at a writable directory",
            data.display()
        )),
        Ok(meta) if !meta.is_dir() => check
            .problems
            .push(format!("data_dir {}: is not a directory; point data_dir at a directory", data.display())),
        Ok(_) => check.summary.push(format!("data: {}", data.display())),
        Err(_) => check.summary.push(format!("data: {} (created at the first start)", data.display())),
    }
    check
}

/// The text `status` prints: enrolment, last sync, generations, quarantine, plays, clock,
/// the system and its update.
pub fn status(config: &BoardConfig) -> String {
    let data = DataDir::new(&config.data_dir);
    let mut out = String::new();
    match Credentials::load(&data.credentials()) {
        Ok(Some(c)) => {
            let _ = writeln!(
                out,
                "device: {} (building {}, roles {})",
                c.device_id,
                c.building_id,
                c.roles.join(",")
            );
        }
        Ok(None) => _ = writeln!(out, "device: not enrolled (palier-sync enrol --code CODE)"),
        Err(e) => _ = writeln!(out, "device: {e}"),
    }
    if data.cache().exists() {
        match Cache::open(&data.cache()).and_then(|mut c| Ok((c.snapshot()?, c.sync_state()?))) {
            Ok((snapshot, state)) => {
                let when = |t: Option<jiff::Timestamp>| t.map_or("never".to_owned(), |t| t.to_string());
                let _ = writeln!(out, "last sync: {}", when(state.last_success_at));
                let _ = writeln!(out, "last attempt: {}", when(state.last_attempt_at));
                if let Some(error) = &state.last_error {
                    let _ = writeln!(out, "last error: {error} (at {})", when(state.last_error_at));
                }
                let _ = writeln!(
                    out,
                    "generation: manifest {}, cache {}, {} item(s)",
                    snapshot.source_generation,
                    snapshot.generation,
                    snapshot.items.len()
                );
                let _ = writeln!(out, "quarantined: {}", snapshot.quarantined.len());
                for q in &snapshot.quarantined {
                    let id = if q.id.is_empty() { "(no id)" } else { &q.id };
                    let _ = writeln!(out, "  {id}: {}", q.reason);
                }
            }
            Err(e) => _ = writeln!(out, "cache: {e}"),
        }
    } else {
        let _ = writeln!(out, "last sync: never (no cache yet)");
    }
    if data.journal().exists() {
        match PlaysJournal::open(&data.journal()).and_then(|j| Ok((j.pending_count()?, j.clock()?))) {
            Ok((pending, clock)) => {
                let _ = writeln!(out, "pending plays: {pending}");
                let clock = match clock {
                    Some(c) if c.trusted => format!("trusted (skew {} ms)", c.skew_ms.unwrap_or(0)),
                    Some(c) => format!(
                        "NOT trusted: {} ms off the platform; check time sync (NTP)",
                        c.skew_ms.map_or("?".to_owned(), |s| s.to_string())
                    ),
                    None => "not measured yet".to_owned(),
                };
                let _ = writeln!(out, "clock: {clock}");
            }
            Err(e) => _ = writeln!(out, "plays journal: {e}"),
        }
    } else {
        let _ = writeln!(out, "pending plays: 0 (no journal yet)\nclock: not measured yet");
    }
    let system_file = SyncSettings::from_table(&config.sync)
        .map(|loaded| loaded.settings.system_file)
        .unwrap_or_else(|_| SyncSettings::default().system_file);
    match crate::update::system_status(data.path(), Path::new(&system_file)) {
        None => {
            _ = writeln!(out, "system: no system file ({system_file}): this board takes no system update")
        }
        Some(system) => {
            let slot = system.slot.map(|s| format!(", slot {s}")).unwrap_or_default();
            let _ = writeln!(out, "system: version {} ({}{slot})", system.version, system.compatible);
            let update = &system.update;
            let mut line = format!("update: {}", update.state.as_str());
            if let Some(version) = &update.version {
                let _ = write!(line, " {version}");
            }
            if let Some(detail) = &update.detail {
                let _ = write!(line, ": {detail}");
            }
            if let Some(since) = update.since {
                let _ = write!(line, " (since {since})");
            }
            let _ = writeln!(out, "{line}");
        }
    }
    out
}
