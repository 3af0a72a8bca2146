//! What every handler shares: the services (publishing, administration, accounts, boards;
//! media, hints, the manifest key, the clock), the server's settings and its upload slots.
//! Both doors, [`crate::server`] and [`crate::console`], read it; it imports neither (the
//! console keeps its own state in [`crate::console::ConsoleState`]).

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;

use crate::accounts::Accounts;
use crate::administration::Administration;
use crate::boards::Boards;
use crate::datadir::{DataDir, DataDirError};
use crate::hints::Hints;
use crate::limiter::FailureLimiter;
use crate::media::MediaFiles;
use crate::publishing::{Clock, Publishing, PublishingError};
use crate::signing::ManifestSigner;
use crate::store::Store;

/// The console's settings (from `platform.toml`).
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {
    /// `palier-player`, run for exact previews; `None`: pages say no renderer is configured.
    pub player: Option<std::path::PathBuf>,
    /// The console's public address (`https://…`), for links and Secure cookies.
    pub public_url: Option<String>,
    /// Cookies only over HTTPS: on when `public_url` is `https://…`.
    pub secure_cookies: bool,
}

/// Tunables of a running server. The defaults are the protocol's numbers.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Interval of `: keep-alive` comments on event streams (protocol: 15 s).
    pub keep_alive: Duration,
    /// How often expired items are taken out of the manifests.
    pub housekeeping: Duration,
    /// Failed enrolments one client address may make per window before 429.
    pub enrol_failures: u32,
    pub enrol_window: Duration,
    /// Failed console logins per account, and per client address, per window.
    pub login_failures_per_account: u32,
    pub login_failures_per_address: u32,
    pub login_window: Duration,
    pub console: ConsoleSettings,
    /// How often due feeds are looked for; `None` fetches none (tests that fetch by hand).
    pub feeds_tick: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            keep_alive: Duration::from_secs(15),
            housekeeping: Duration::from_secs(60),
            enrol_failures: 20,
            enrol_window: Duration::from_secs(600),
            login_failures_per_account: 5,
            login_failures_per_address: 30,
            login_window: Duration::from_secs(900),
            console: ConsoleSettings::default(),
            feeds_tick: Some(Duration::from_secs(20)),
        }
    }
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    publishing: Publishing,
    administration: Administration,
    accounts: Accounts,
    boards: Boards,
    signer: ManifestSigner,
    media: MediaFiles,
    hints: Hints,
    settings: Settings,
    clock: Clock,
    enrol_limiter: FailureLimiter<std::net::IpAddr>,
    upload_bodies: Arc<tokio::sync::Semaphore>,
    closing: watch::Sender<bool>,
}

/// How many picture uploads may hold their body in memory at once (each up to
/// [`crate::media::MAX_UPLOAD_BYTES`]); the others wait, unread, in their connection.
pub const PARALLEL_UPLOAD_BODIES: usize = 4;

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("store", &self.inner.store.describe()).finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        signer: ManifestSigner,
        media: MediaFiles,
        settings: Settings,
    ) -> AppState {
        AppState::with_clock(store, signer, media, settings, Arc::new(Timestamp::now))
    }

    pub fn with_clock(
        store: Arc<dyn Store>,
        signer: ManifestSigner,
        media: MediaFiles,
        settings: Settings,
        clock: Clock,
    ) -> AppState {
        let enrol_limiter = FailureLimiter::new(settings.enrol_failures, settings.enrol_window);
        let hints = Hints::new();
        let publishing =
            Publishing::new(Arc::clone(&store), Arc::new(media.clone()), hints.clone(), Arc::clone(&clock));
        let administration =
            Administration::new(Arc::clone(&store), Arc::new(media.clone()), Arc::clone(&clock));
        let accounts = Accounts::new(Arc::clone(&store), Arc::clone(&clock));
        let boards = Boards::new(Arc::clone(&store), Arc::clone(&clock));
        AppState {
            inner: Arc::new(Inner {
                store,
                publishing,
                administration,
                accounts,
                boards,
                signer,
                media,
                hints,
                settings,
                clock,
                enrol_limiter,
                upload_bodies: Arc::new(tokio::sync::Semaphore::new(PARALLEL_UPLOAD_BODIES)),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// The state of an initialised data directory.
    pub async fn open(data: &DataDir, settings: Settings) -> Result<AppState, DataDirError> {
        let store = data.open_store().await?;
        let signer = data.load_signer()?;
        Ok(AppState::new(store, signer, data.media()?, settings))
    }

    /// The server's settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Says `true` when the server starts closing (event streams end on it).
    pub fn closing(&self) -> &watch::Sender<bool> {
        &self.inner.closing
    }

    pub(crate) fn enrol_limiter(&self) -> &FailureLimiter<std::net::IpAddr> {
        &self.inner.enrol_limiter
    }

    pub fn signer(&self) -> &ManifestSigner {
        &self.inner.signer
    }

    pub fn now(&self) -> Timestamp {
        (self.inner.clock)()
    }

    pub fn hints(&self) -> &Hints {
        &self.inner.hints
    }

    /// The store, for the server's own start-up (the hint relay); the doors call services.
    pub(crate) fn store(&self) -> &dyn Store {
        &*self.inner.store
    }

    pub fn media_files(&self) -> &MediaFiles {
        &self.inner.media
    }

    pub fn console_settings(&self) -> &ConsoleSettings {
        &self.inner.settings.console
    }

    /// A place to read one upload's body into memory; see [`PARALLEL_UPLOAD_BODIES`].
    pub(crate) async fn upload_body_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, String> {
        Arc::clone(&self.inner.upload_bodies).acquire_owned().await.map_err(|e| format!("upload slots: {e}"))
    }

    /// The media files (pictures, update bundles).
    pub fn media(&self) -> &MediaFiles {
        &self.inner.media
    }

    /// The publishing service every interface calls.
    pub fn publishing(&self) -> &Publishing {
        &self.inner.publishing
    }

    /// The administration service (people, buildings, areas, tokens, boards, feeds, releases).
    pub fn administration(&self) -> &Administration {
        &self.inner.administration
    }

    /// Signing in, passwords, console sessions and API tokens.
    pub fn accounts(&self) -> &Accounts {
        &self.inner.accounts
    }

    /// The boards' side of the protocol.
    pub fn boards(&self) -> &Boards {
        &self.inner.boards
    }

    /// One housekeeping pass: expired items leave the manifests, with a `withdraw` hint;
    /// expired console sessions and password links are forgotten.
    pub async fn housekeeping(&self) -> Result<(), PublishingError> {
        self.publishing().expire().await?;
        self.accounts().forget_expired_sessions().await?;
        Ok(())
    }
}
