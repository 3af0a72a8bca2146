//! System updates on the board: the glue between the manifest's `system_update`, the pure
//! [`machine`], the download (like media, into `updates/`) and the update [`engine`].
//!
//! [`Updater::run`] wakes every 30 seconds and after each sync round, gathers what the
//! board sees ([`machine::Facts`]: the image's version and system from `system_file`, the
//! booted slot, whether every screen presented a frame since the boot, whether a round
//! succeeded), steps the machine and carries out its action. Its record is a JSON file on
//! the data partition, written atomically, so a power cut at any moment resumes where it
//! was; the heartbeat reads it. Content sync never waits for an update: downloads and
//! installs run in this task, beside the rounds. Restarts are asked of the image's
//! `palier-reboot.path` through a `reboot` file in the data directory.

pub mod engine;
pub mod machine;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Time;
use jiff::{SignedDuration, Timestamp};
use palier_content::journal::PlaysJournal;
use palier_content::system::{SystemStatus, SystemUpdate};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::PlatformClient;
use crate::fetch::{FetchError, fetch_bundle};
use engine::Rauc;
use machine::{Action, DownloadFailure, Facts, Record, Running};

/// When restarts are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Always,
    /// From, to, in the building's local time; may run past midnight.
    Between(Time, Time),
}

impl Window {
    pub fn parse(text: &str) -> Result<Window, String> {
        let text = text.trim();
        if text == "always" {
            return Ok(Window::Always);
        }
        let bad = || format!("{text:?} is not a window; write \"03:00-05:00\" (local time) or \"always\"");
        let (from, to) = text.split_once('-').ok_or_else(bad)?;
        let time = |t: &str| {
            let t = t.trim();
            let shaped = t.len() == 5 && t.as_bytes()[2] == b':';
            if !shaped {
                return Err(bad());
            }
            Time::strptime("%H:%M", t).map_err(|_| bad())
        };
        let (from, to) = (time(from)?, time(to)?);
        if from == to {
            return Err(format!("{text:?} is empty; give two different times, or \"always\""));
        }
        Ok(Window::Between(from, to))
    }

    pub fn contains(self, local: Time) -> bool {
        match self {
            Window::Always => true,
            Window::Between(from, to) if from < to => from <= local && local < to,
            Window::Between(from, to) => local >= from || local < to,
        }
    }

    /// « between 03:00 and 05:00 », for the heartbeat.
    pub fn describe(self) -> String {
        match self {
            Window::Always => "at once".to_owned(),
            Window::Between(from, to) => {
                format!("between {} and {}", from.strftime("%H:%M"), to.strftime("%H:%M"))
            }
        }
    }
}

/// What the image says it is: `system_file`, written by the image build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    pub version: String,
    pub compatible: String,
}

impl SystemInfo {
    pub fn read(path: &Path) -> Option<SystemInfo> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).map_err(|e| tracing::warn!("{}: {e}", path.display())).ok()
    }
}

/// What is kept on the data partition between rounds and boots.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stored {
    /// The last manifest's `system_update` (`None`: no manifest read yet).
    pub desired: Option<Option<SystemUpdate>>,
    pub record: Record,
}

/// Where the record lives.
pub fn record_path(data_dir: &Path) -> PathBuf {
    data_dir.join("update.json")
}

/// Where bundles are downloaded.
pub fn bundle_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("updates")
}

pub fn load(data_dir: &Path) -> Stored {
    std::fs::read_to_string(record_path(data_dir))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn save(data_dir: &Path, stored: &Stored) {
    let path = record_path(data_dir);
    let json = serde_json::to_vec_pretty(stored).expect("records serialize");
    if let Err(e) = crate::files::write_atomically(&path, &json, 0o600) {
        tracing::warn!("{}: {e}", path.display());
    }
}

/// The heartbeat's `system`: the image's version and system, the booted slot, the update.
pub fn system_status(data_dir: &Path, system_file: &Path) -> Option<SystemStatus> {
    let info = SystemInfo::read(system_file)?;
    let stored = load(data_dir);
    Some(SystemStatus {
        version: info.version,
        compatible: info.compatible,
        slot: booted_slot(),
        update: stored.record.reported(),
    })
}

/// The slot the kernel was started from (`rauc.slot=A` on its command line).
fn booted_slot() -> Option<String> {
    let cmdline = std::fs::read_to_string("/proc/cmdline").ok()?;
    cmdline.split_whitespace().find_map(|w| w.strip_prefix("rauc.slot=")).map(str::to_owned)
}

/// When this boot began.
fn booted_at(now: Timestamp) -> Timestamp {
    let uptime = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    now - SignedDuration::from_secs_f64(uptime)
}

/// What the daemon tells the updater after each round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundNews {
    /// A round succeeded since the daemon started (that is, since the boot).
    pub synced: bool,
    /// The manifest's `system_update`, when a manifest was read.
    pub desired: Option<Option<SystemUpdate>>,
}

/// The update task.
#[derive(Debug)]
pub struct Updater {
    pub data_dir: PathBuf,
    pub journal: PathBuf,
    pub system_file: PathBuf,
    pub window: Window,
    pub proof: SignedDuration,
    /// The building's zone, for the window.
    pub time_zone: jiff::tz::TimeZone,
    pub engine: Rauc,
}

impl Updater {
    /// Runs until its task is dropped.
    pub async fn run(self, client: Arc<PlatformClient>, mut news: watch::Receiver<RoundNews>) {
        let Some(info) = SystemInfo::read(&self.system_file) else {
            tracing::info!(file = %self.system_file.display(), "no system file: this board takes no system update");
            return;
        };
        let mut stored = load(&self.data_dir);
        loop {
            let latest = news.borrow_and_update().clone();
            if latest.desired.is_some() && latest.desired != stored.desired {
                stored.desired = latest.desired.clone();
                save(&self.data_dir, &stored);
            }
            if let Err(e) = self.once(&info, &mut stored, latest.synced, &client).await {
                tracing::warn!("system update: {e}");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                changed = news.changed() => if changed.is_err() { return },
            }
        }
    }

    async fn facts(&self, info: &SystemInfo, stored: &Stored, synced: bool) -> Result<Facts, String> {
        let now = Timestamp::now();
        let booted_at = booted_at(now);
        let engine = self.engine.status().await?;
        let desired = stored.desired.clone().flatten();
        let bundle_ready =
            desired.as_ref().is_some_and(|d| bundle_dir(&self.data_dir).join(&d.sha256).is_file());
        let statuses =
            PlaysJournal::open(&self.journal).and_then(|j| j.screen_statuses()).unwrap_or_default();
        let player_presented = !statuses.is_empty() && statuses.iter().all(|s| s.since >= booted_at);
        let local = now.to_zoned(self.time_zone.clone()).time();
        Ok(Facts {
            now,
            booted_at,
            desired,
            running: Running {
                version: info.version.clone(),
                compatible: info.compatible.clone(),
                slot: engine.booted,
            },
            bundle_ready,
            in_window: self.window.contains(local),
            player_presented,
            synced,
            booted_good: engine.booted_good,
            proof_window: self.proof,
        })
    }

    /// One step, and its action carried out.
    async fn once(
        &self,
        info: &SystemInfo,
        stored: &mut Stored,
        synced: bool,
        client: &PlatformClient,
    ) -> Result<(), String> {
        let facts = self.facts(info, stored, synced).await?;
        let (record, action) = machine::step(&stored.record, &facts);
        // Written only when it changes: a board steps every 30 s for years on an SD card.
        if record != stored.record {
            stored.record = record;
            save(&self.data_dir, stored);
        }
        let stepped = stored.clone();
        let now = Timestamp::now();
        match action {
            Action::Nothing => {}
            Action::Download(update) => {
                let dir = bundle_dir(&self.data_dir);
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                if let Err(no_room) = room_for(&dir, &update) {
                    tracing::warn!(version = %update.version, "system update waits: {no_room}");
                    stored.record =
                        machine::downloaded(&stored.record, Err(DownloadFailure::Interrupted(no_room)), now);
                    save(&self.data_dir, stored);
                    return Ok(());
                }
                tracing::info!(version = %update.version, bytes = update.bytes, "downloading the system update");
                let result = fetch_bundle(client, &dir, &update.sha256, update.bytes)
                    .await
                    .map(|_| ())
                    .map_err(|e| match e {
                        FetchError::Permanent(reason) => DownloadFailure::Damaged(reason),
                        FetchError::Transient(reason) => DownloadFailure::Interrupted(reason),
                    });
                if let Err(DownloadFailure::Damaged(_)) = &result {
                    remove_bundle(&self.data_dir, &update.sha256);
                }
                stored.record = machine::downloaded(&stored.record, result, now);
            }
            Action::Install(update) => {
                let bundle = bundle_dir(&self.data_dir).join(&update.sha256);
                tracing::info!(version = %update.version, "installing the system update into the other slot");
                let result = self.engine.install(&bundle).await;
                if result.is_ok() {
                    // The boot loader's choice sits in a small file on the FAT boot partition:
                    // on disk before anything else, so a power cut now still finds the switch.
                    engine::flush_to_disk().await;
                }
                if result.is_err() {
                    remove_bundle(&self.data_dir, &update.sha256);
                }
                match &result {
                    Ok(()) => {
                        tracing::info!(version = %update.version, "system update written; restart {}", self.window.describe())
                    }
                    Err(e) => tracing::warn!(version = %update.version, "system update refused: {e}"),
                }
                stored.record = machine::installed(&stored.record, result, &self.window.describe(), now);
            }
            Action::Reboot => {
                tracing::info!("restarting into the new system");
                request_reboot(&self.data_dir, "restart into the new system")?;
            }
            Action::MarkGood => {
                self.engine.mark_good().await?;
                tracing::info!(slot = ?facts.running.slot, version = %info.version, "this system is marked good");
                let proven_target =
                    stored.record.status.as_ref().and_then(|s| s.version.as_ref()) == Some(&info.version);
                if proven_target {
                    remove_desired_bundle(&self.data_dir, stored);
                }
            }
            Action::MarkBadAndReboot => {
                tracing::warn!(
                    "the new system did not prove itself: marking it bad and restarting into the previous one"
                );
                self.engine.mark_bad().await?;
                request_reboot(&self.data_dir, "the new system did not prove itself")?;
            }
            Action::Discard(sha256) => remove_bundle(&self.data_dir, &sha256),
        }
        if *stored != stepped {
            save(&self.data_dir, stored);
        }
        Ok(())
    }
}

/// What a bundle must leave free on the data partition: the content cache, the plays
/// journal and the heartbeat keep priority over a system update.
pub const KEEP_FREE_BYTES: u64 = 64 << 20;

/// Whether the rest of the bundle fits on the data partition with [`KEEP_FREE_BYTES`] to spare.
fn room_for(dir: &Path, update: &SystemUpdate) -> Result<(), String> {
    let have = std::fs::metadata(crate::fetch::partial_path(dir, &update.sha256)).map_or(0, |m| m.len());
    let Ok(fs) = rustix::fs::statvfs(dir) else { return Ok(()) };
    let free = fs.f_bavail.saturating_mul(fs.f_frsize);
    check_room(update.bytes.saturating_sub(have), free)
}

fn check_room(needed: u64, free: u64) -> Result<(), String> {
    let mib = |b: u64| b.div_ceil(1 << 20);
    if free >= needed.saturating_add(KEEP_FREE_BYTES) {
        return Ok(());
    }
    Err(format!(
        "not enough room on the data partition: the bundle needs {} MiB more and {} MiB must stay free for \
         content, {} MiB are free; it waits (a larger card, or fewer pictures in the cache, makes room)",
        mib(needed),
        mib(KEEP_FREE_BYTES),
        mib(free)
    ))
}

fn remove_bundle(data_dir: &Path, sha256: &str) {
    let dir = bundle_dir(data_dir);
    for path in [dir.join(sha256), crate::fetch::partial_path(&dir, sha256)] {
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("{}: {e}", path.display());
        }
    }
}

/// Once the new system is proven, its bundle is no longer needed.
fn remove_desired_bundle(data_dir: &Path, stored: &Stored) {
    if let Some(Some(desired)) = &stored.desired {
        remove_bundle(data_dir, &desired.sha256);
    }
}

/// Asks for a restart: the daemon runs unprivileged, so it writes `reboot` in its data
/// directory and the image's `palier-reboot.path` restarts the board.
fn request_reboot(data_dir: &Path, why: &str) -> Result<(), String> {
    let path = data_dir.join("reboot");
    crate::files::write_atomically(&path, format!("{why}\n").as_bytes(), 0o644)
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_never_takes_the_room_content_needs() {
        const MIB: u64 = 1 << 20;
        // (still to download, free on the partition, fits)
        let cases = [
            (370 * MIB, 1200 * MIB, true),
            (370 * MIB, 434 * MIB, true),
            (370 * MIB, 433 * MIB, false),
            (370 * MIB, 200 * MIB, false),
            (0, KEEP_FREE_BYTES, true),
            (0, KEEP_FREE_BYTES - 1, false),
        ];
        for (needed, free, fits) in cases {
            assert_eq!(check_room(needed, free).is_ok(), fits, "{needed} needed, {free} free");
        }
        let why = check_room(370 * MIB, 200 * MIB).unwrap_err();
        assert!(why.contains("370 MiB more") && why.contains("200 MiB are free"), "{why}");
    }

    #[test]
    fn windows_read_as_installers_write_them() {
        let t = |s: &str| Time::strptime("%H:%M", s).unwrap();
        // (window, local time, inside)
        let cases = [
            ("03:00-05:00", "04:10", true),
            ("03:00-05:00", "05:00", false),
            ("03:00-05:00", "02:59", false),
            ("23:30-01:00", "00:15", true),
            ("23:30-01:00", "23:45", true),
            ("23:30-01:00", "12:00", false),
            ("always", "12:00", true),
        ];
        for (window, local, inside) in cases {
            assert_eq!(Window::parse(window).unwrap().contains(t(local)), inside, "{window} at {local}");
        }
        for bad in ["3h-5h", "03:00", "05:00-05:00", "25:00-01:00", "", "3:00-5:00"] {
            assert!(Window::parse(bad).is_err(), "{bad}");
        }
    }
}
