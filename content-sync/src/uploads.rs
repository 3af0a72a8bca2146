//! What the board tells the platform: proof of play and its heartbeat.
//!
//! Plays leave the journal only when the platform names them in `acknowledged` or
//! `rejected`, so a cut at any moment costs at most a repeated upload, which the platform
//! counts once (record ids). The heartbeat gathers the board's health from the cache, the
//! plays journal (what each screen shows) and the file system (free space), and also stores
//! the latest clock measurement in the journal, where the player reads it to mark plays.

use std::collections::HashSet;
use std::path::Path;

use jiff::Timestamp;
use palier_content::limits::MAX_PLAYS_PER_BATCH;
use palier_content::wire::{ClockStatus, Heartbeat, PlaysBatch};
use palier_content::{CacheError, PlaysJournal};

use crate::api::{ApiError, PlatformClient};
use crate::sync::{SharedCache, with_cache};

/// Why an upload stopped.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Journal(#[from] CacheError),
}

/// What one plays upload did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlaysReport {
    pub acknowledged: usize,
    pub rejected: usize,
    /// Still waiting in the journal.
    pub pending: u64,
}

async fn with_journal<T, F>(path: &Path, f: F) -> Result<T, CacheError>
where
    F: FnOnce(&mut PlaysJournal) -> Result<T, CacheError> + Send + 'static,
    T: Send + 'static,
{
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || f(&mut PlaysJournal::open(&path)?))
        .await
        .expect("journal task does not panic")
}

/// Uploads every pending play, oldest first, in batches of `MAX_PLAYS_PER_BATCH`.
pub async fn upload_plays(client: &PlatformClient, journal: &Path) -> Result<PlaysReport, UploadError> {
    let mut report = PlaysReport::default();
    loop {
        let batch = with_journal(journal, |j| j.pending(MAX_PLAYS_PER_BATCH)).await?;
        if batch.is_empty() {
            break;
        }
        let sent: HashSet<String> = batch.iter().map(|p| p.id.clone()).collect();
        let ack = client.plays(&PlaysBatch { plays: batch }).await?;
        for rejected in &ack.rejected {
            tracing::warn!(play = %rejected.id, "play record rejected by the platform: {}", rejected.reason);
        }
        // Ids the board did not send are ignored; ids in neither list stay pending.
        let done: Vec<String> = ack
            .acknowledged
            .into_iter()
            .chain(ack.rejected.iter().map(|r| r.id.clone()))
            .filter(|id| sent.contains(id))
            .collect();
        report.acknowledged += done.len() - ack.rejected.iter().filter(|r| sent.contains(&r.id)).count();
        report.rejected += ack.rejected.iter().filter(|r| sent.contains(&r.id)).count();
        let removed = with_journal(journal, move |j| j.acknowledge(&done)).await?;
        if removed == 0 {
            break; // the platform kept everything pending: try again at the next upload
        }
    }
    report.pending = with_journal(journal, |j| j.pending_count()).await?;
    Ok(report)
}

/// Stores the latest clock measurement where the player reads it.
pub async fn store_clock(client: &PlatformClient, journal: &Path) -> Result<Option<ClockStatus>, CacheError> {
    let Some(reading) = client.clock() else { return Ok(None) };
    let status = reading.status();
    with_journal(journal, move |j| j.set_clock(status, Timestamp::now())).await?;
    Ok(Some(status))
}

/// Builds the board's heartbeat from the cache, the journal and the disk.
pub async fn heartbeat(
    client: &PlatformClient,
    cache: &SharedCache,
    journal: &Path,
    data_dir: &Path,
    board: &BoardFacts,
) -> Result<Heartbeat, UploadError> {
    let (snapshot, state) = with_cache(cache, |c| Ok((c.snapshot()?, c.sync_state()?))).await?;
    let (screens, stored_clock) = with_journal(journal, |j| Ok((j.screen_statuses()?, j.clock()?))).await?;
    let clock = client
        .clock()
        .map(|r| r.status())
        .or(stored_clock)
        .unwrap_or(ClockStatus { trusted: false, skew_ms: None });
    Ok(Heartbeat {
        sent_at: Some(Timestamp::now()),
        software_version: env!("CARGO_PKG_VERSION").to_owned(),
        generation: snapshot.source_generation,
        last_sync_at: state.last_success_at,
        last_error: state.last_error,
        quarantined: snapshot.quarantined,
        free_disk_bytes: free_disk_bytes(data_dir).unwrap_or(0),
        screens,
        clock,
        displays: board.displays.clone(),
        heartbeat_interval_s: Some(board.heartbeat_interval_s),
        system: crate::update::system_status(data_dir, &board.system_file),
    })
}

/// What the heartbeat says about the board itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardFacts {
    /// The screens of the board file, without their output names.
    pub displays: Vec<palier_content::config::ScreenConfig>,
    pub heartbeat_interval_s: u64,
    /// What the image says it is (for the heartbeat's `system`).
    pub system_file: std::path::PathBuf,
}

impl BoardFacts {
    pub fn of(config: &palier_content::config::BoardConfig, settings: &crate::SyncSettings) -> BoardFacts {
        let displays = config
            .screens
            .iter()
            .map(|screen| palier_content::config::ScreenConfig { output: None, ..screen.clone() })
            .collect();
        BoardFacts {
            displays,
            heartbeat_interval_s: settings.heartbeat_interval_s,
            system_file: std::path::PathBuf::from(&settings.system_file),
        }
    }
}

/// Sends the heartbeat.
pub async fn send_heartbeat(
    client: &PlatformClient,
    cache: &SharedCache,
    journal: &Path,
    data_dir: &Path,
    board: &BoardFacts,
) -> Result<(), UploadError> {
    let beat = heartbeat(client, cache, journal, data_dir, board).await?;
    client.heartbeat(&beat).await?;
    Ok(())
}

/// Free space for an unprivileged writer on the file system holding `dir`.
pub fn free_disk_bytes(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(test)]
mod tests {
    #[test]
    fn free_space_is_measured() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::free_disk_bytes(dir.path()).unwrap() > 0);
        assert_eq!(super::free_disk_bytes(&dir.path().join("missing")), None);
    }
}
