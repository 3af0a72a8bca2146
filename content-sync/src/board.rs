//! The board as the daemon sees it: its configuration, data directory, cache, pinned key and
//! credentials, and the one-shot operations built on them (enrol, one round with its
//! uploads). Both the service loop ([`crate::daemon`]) and the command line use it, so a
//! `sync-once` does exactly what a round of the service does.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palier_content::config::{BoardConfig, ConfigError};
use palier_content::{Cache, CacheError, DataDir};
use reqwest::Url;

use crate::api::{ApiError, PlatformClient};
use crate::backoff::Backoff;
use crate::credentials::{Credentials, CredentialsError};
use crate::renditions::display_side;
use crate::settings::{PlatformKey, SettingsProblem, SyncSettings};
use crate::sync::{RoundReport, SharedCache, SyncError, SyncRound};
use crate::uploads::{self, PlaysReport, UploadError};

/// Everything the daemon runs on: the board file, its `[sync]` section, and timings.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub board: BoardConfig,
    pub settings: SyncSettings,
    pub timing: Timing,
}

/// The daemon's clocks. They come from the settings and the protocol; tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub poll: Duration,
    pub heartbeat: Duration,
    /// Retries of failed rounds and of the event stream.
    pub retry: Backoff,
    /// An event stream silent this long is dropped (protocol: 45 s).
    pub stream_idle: Duration,
    /// After a 401, the wait before asking again (protocol: at least 5 minutes).
    pub unauthorized: Duration,
}

impl Timing {
    pub fn from_settings(settings: &SyncSettings) -> Timing {
        Timing {
            poll: settings.poll_interval(),
            heartbeat: settings.heartbeat_interval(),
            retry: Backoff::default(),
            stream_idle: Duration::from_secs(45),
            unauthorized: Duration::from_secs(300),
        }
    }
}

/// Why the board's configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("config {path}: {}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Settings { path: PathBuf, problems: Vec<SettingsProblem> },
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error(
        "this board is not enrolled: set sync.enrolment_code in the board file, or run \
         `palier-sync enrol --code CODE` with a code from the platform's admin"
    )]
    NotEnrolled,
    #[error("enrolment failed: {0}")]
    Enrol(#[source] ApiError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("uploading plays or heartbeat: {0}")]
    Upload(#[from] UploadError),
}

impl DaemonConfig {
    /// Reads the board file and its `[sync]` section; returns the warnings to log.
    pub fn load(path: &Path) -> Result<(DaemonConfig, Vec<String>), BoardError> {
        let loaded = BoardConfig::load(path)?;
        let sync = SyncSettings::from_table(&loaded.config.sync)
            .map_err(|problems| BoardError::Settings { path: path.to_path_buf(), problems })?;
        let mut warnings = loaded.warnings;
        warnings.extend(sync.warnings);
        Ok((DaemonConfig::new(loaded.config, sync.settings), warnings))
    }

    pub fn new(board: BoardConfig, settings: SyncSettings) -> DaemonConfig {
        let timing = Timing::from_settings(&settings);
        DaemonConfig { board, settings, timing }
    }
}

/// The opened board: data directory, cache, pinned key, platform address.
#[derive(Debug)]
pub struct Board {
    pub config: DaemonConfig,
    pub data: DataDir,
    pub key: PlatformKey,
    pub base: Url,
    pub cache: SharedCache,
    pub media_dir: PathBuf,
}

impl Board {
    /// Creates the data directory if needed and opens (or creates) the cache.
    pub fn open(config: DaemonConfig) -> Result<Board, BoardError> {
        let settings_error =
            |problem| BoardError::Settings { path: PathBuf::from("[sync]"), problems: vec![problem] };
        let key = config.settings.key().map_err(settings_error)?;
        let base = config.settings.base_url().map_err(settings_error)?;
        let data = DataDir::new(&config.board.data_dir);
        for dir in [data.path().to_path_buf(), data.media()] {
            std::fs::create_dir_all(&dir)
                .map_err(|source| BoardError::DataDir { path: dir.clone(), source })?;
        }
        let cache = Arc::new(Mutex::new(Cache::open(&data.cache())?));
        let media_dir = data.media();
        Ok(Board { config, data, key, base, cache, media_dir })
    }

    pub fn credentials(&self) -> Result<Option<Credentials>, BoardError> {
        Ok(Credentials::load(&self.data.credentials())?)
    }

    /// A client without a token (enrolment).
    pub fn anonymous_client(&self) -> Result<PlatformClient, BoardError> {
        PlatformClient::new(self.base.clone(), self.config.settings.request_timeout())
            .map_err(BoardError::Enrol)
    }

    /// A client for the enrolled device.
    pub fn client(&self, credentials: &Credentials) -> Result<PlatformClient, BoardError> {
        Ok(self.anonymous_client()?.with_token(credentials.token.clone()))
    }

    /// Enrols with `code` and stores the credentials (replacing earlier ones).
    pub async fn enrol(&self, code: &str) -> Result<Credentials, BoardError> {
        let answer = self.anonymous_client()?.enrol(code, &host_name()).await.map_err(BoardError::Enrol)?;
        let credentials = Credentials::from(answer);
        credentials.save(&self.data.credentials())?;
        tracing::info!(device = %credentials.device_id, building = %credentials.building_id, "enrolled");
        Ok(credentials)
    }

    /// The stored credentials, or an enrolment with the configured code.
    pub async fn ensure_enrolled(&self) -> Result<Credentials, BoardError> {
        if let Some(credentials) = self.credentials()? {
            return Ok(credentials);
        }
        match &self.config.settings.enrolment_code {
            Some(code) => self.enrol(code).await,
            None => Err(BoardError::NotEnrolled),
        }
    }

    /// The largest screen side, which sizes the renditions.
    pub fn display_side(&self) -> u32 {
        display_side(&self.config.board.screens)
    }

    /// A round for the enrolled device.
    pub fn round<'a>(&'a self, client: &'a PlatformClient, credentials: &'a Credentials) -> SyncRound<'a> {
        SyncRound {
            client,
            key: &self.key,
            device_id: &credentials.device_id,
            cache: &self.cache,
            media_dir: &self.media_dir,
            display_side: self.display_side(),
            parallel_downloads: self.config.settings.max_parallel_downloads,
        }
    }

    /// After a round: the clock for the player, pending plays, and (when asked) a heartbeat.
    pub async fn upload(&self, client: &PlatformClient, heartbeat: bool) -> Result<PlaysReport, BoardError> {
        let journal = self.data.journal();
        uploads::store_clock(client, &journal).await?;
        let plays = uploads::upload_plays(client, &journal).await?;
        if heartbeat {
            let facts = uploads::BoardFacts::of(&self.config.board, &self.config.settings);
            uploads::send_heartbeat(client, &self.cache, &journal, self.data.path(), &facts).await?;
        }
        Ok(plays)
    }

    /// One round, then plays and a heartbeat: what `palier-sync sync-once` does.
    pub async fn sync_once(&self) -> Result<(RoundReport, PlaysReport), BoardError> {
        let credentials = self.ensure_enrolled().await?;
        let client = self.client(&credentials)?;
        let round = self.round(&client, &credentials).run().await;
        let plays = self.upload(&client, true).await;
        let report = round?;
        log_round(&report);
        Ok((report, plays?))
    }
}

/// The one info line per round.
pub fn log_round(report: &RoundReport) {
    if report.not_modified {
        tracing::info!(
            generation = report.generation,
            duration_ms = report.duration_ms,
            "sync round: up to date"
        );
        return;
    }
    tracing::info!(
        generation = report.generation,
        added = report.added,
        updated = report.updated,
        removed = report.removed,
        quarantined = report.quarantined,
        held_back = report.held_back,
        bytes_downloaded = report.bytes_downloaded,
        duration_ms = report.duration_ms,
        "sync round: {}",
        if report.changed { "cache updated" } else { "no change" }
    );
}

/// The board's host name, shown in the platform's device list.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "palier-board".to_owned())
}
