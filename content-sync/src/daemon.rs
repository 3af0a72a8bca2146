//! The service: `run(config, shutdown)`. One loop owns the rounds and pets systemd's
//! watchdog while it works; a listener task turns the platform's change hints into wake-ups.
//!
//! A round starts at startup, on a hint, on the jittered poll timer, or on a retry after a
//! failure (capped exponential backoff with full jitter, never later than the next poll,
//! never sooner than `Retry-After`). Only one round runs at a time; hints during a round
//! coalesce into one more round after it. Plays go up after every round and every poll
//! interval, heartbeats every heartbeat interval and after a round that changed the cache.
//! Shutdown drops whatever is in flight: the cache commits whole or not at all, and partial
//! downloads stay for the next start to resume.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, watch};
use tokio::time::{Instant, sleep_until};

use crate::api::{ApiError, PlatformClient, Retry};
use crate::backoff::{jittered_poll, random_unit};
use crate::board::{Board, BoardError, DaemonConfig, log_round};
use crate::credentials::Credentials;
use crate::events::{LinkLog, Listener};
use crate::notify::{Notifier, watchdog_interval};
use crate::sync::{RoundReport, SyncError, with_cache};

/// What the daemon is doing, for tests and the service status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonStatus {
    /// Rounds attempted so far.
    pub rounds: u64,
    /// The manifest generation the cache holds.
    pub generation: u64,
    /// Whether the last round succeeded (`None` before the first).
    pub last_round_ok: Option<bool>,
    pub last_error: Option<String>,
    /// A change-hint stream is open.
    pub stream_connected: bool,
    /// Plays still waiting in the journal after the last upload.
    pub plays_pending: u64,
}

/// The sync daemon.
#[derive(Debug)]
pub struct Daemon {
    config: DaemonConfig,
    status: watch::Sender<DaemonStatus>,
    notifier: Notifier,
}

/// Runs the daemon until `shutdown` completes.
pub async fn run(config: DaemonConfig, shutdown: impl Future<Output = ()>) -> Result<(), BoardError> {
    Daemon::new(config).run(shutdown).await
}

impl Daemon {
    pub fn new(config: DaemonConfig) -> Daemon {
        Daemon { config, status: watch::channel(DaemonStatus::default()).0, notifier: Notifier::from_env() }
    }

    /// Follows the daemon's status (wait on it instead of sleeping).
    pub fn subscribe(&self) -> watch::Receiver<DaemonStatus> {
        self.status.subscribe()
    }

    /// Runs until `shutdown` completes. Fails only when the board cannot be opened at all.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), BoardError> {
        let board = Board::open(self.config.clone())?;
        let mut watchdog = Watchdog::from_env();
        tokio::pin!(shutdown);
        let served = tokio::select! {
            result = self.serve(&board, &mut watchdog) => result,
            _ = &mut shutdown => Ok(()),
        };
        self.notifier.stopping();
        tracing::info!("stopped");
        served
    }

    /// Enrols if needed, then syncs forever.
    async fn serve(&self, board: &Board, watchdog: &mut Watchdog) -> Result<(), BoardError> {
        let credentials = self.enrolled(board, watchdog).await?;
        let client = Arc::new(board.client(&credentials)?);
        let timing = self.config.timing;
        let generation = with_cache(&board.cache, |c| Ok(c.snapshot()?.source_generation)).await?;
        self.status.send_modify(|s| s.generation = generation);
        let held = Arc::new(AtomicU64::new(generation));
        let wake = Arc::new(Notify::new());
        let (connected_tx, mut connected) = watch::channel(false);
        let listener = if self.config.settings.change_hints {
            tokio::spawn(
                Listener {
                    client: Arc::clone(&client),
                    held: Arc::clone(&held),
                    wake: Arc::clone(&wake),
                    backoff: timing.retry,
                    idle: timing.stream_idle,
                    connected: connected_tx,
                }
                .run(),
            )
        } else {
            tracing::info!("change hints off (sync.change_hints = false): polling only");
            tokio::spawn(async move {
                let _keep_open = connected_tx;
                std::future::pending::<()>().await
            })
        };
        let _abort_listener = AbortOnDrop(listener);
        let (news_tx, news) = watch::channel(crate::update::RoundNews::default());
        let _abort_updater = self
            .updater(board)
            .map(|updater| AbortOnDrop(tokio::spawn(updater.run(Arc::clone(&client), news))));

        let mut link = LinkLog::new("sync with the platform");
        let mut upload_link = LinkLog::new("upload of plays and heartbeat");
        let mut failures = 0u32;
        let mut next_round = Instant::now();
        let mut next_upload = Instant::now() + jittered_poll(timing.poll, random_unit());
        let mut next_heartbeat = Instant::now() + timing.heartbeat;
        let mut ready = false;
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                _ = sleep_until(next_round) => {}
                _ = sleep_until(next_upload) => {
                    next_upload = Instant::now() + jittered_poll(timing.poll, random_unit());
                    self.petting(watchdog, self.upload(board, &client, false, &mut upload_link)).await;
                    continue;
                }
                _ = sleep_until(next_heartbeat) => {
                    next_heartbeat = Instant::now() + timing.heartbeat;
                    self.petting(watchdog, self.upload(board, &client, true, &mut upload_link)).await;
                    continue;
                }
                _ = watchdog.due() => {
                    self.notifier.watchdog();
                    continue;
                }
                changed = connected.changed() => {
                    if changed.is_ok() {
                        let open = *connected.borrow_and_update();
                        self.status.send_modify(|s| s.stream_connected = open);
                    }
                    continue;
                }
            }
            let result = self.petting(watchdog, board.round(&client, &credentials).run()).await;
            let poll = jittered_poll(timing.poll, random_unit());
            next_round = Instant::now() + poll;
            match &result {
                Ok(report) => {
                    link.up();
                    log_round(report);
                    held.store(report.generation, Ordering::SeqCst);
                    // Pictures out of reach: retry soon. (A bad picture waits for the poll.)
                    if report.held_back == 0 {
                        failures = 0;
                    } else {
                        next_round =
                            Instant::now() + timing.retry.delay(failures, random_unit(), None).min(poll);
                        failures = failures.saturating_add(1);
                    }
                    self.notifier.status(&format!("holding manifest generation {}", report.generation));
                }
                Err(e) => {
                    link.down(e);
                    let wait = match e {
                        SyncError::Api(ApiError::Unauthorized) => timing.unauthorized,
                        e if e.is_transient() => {
                            let floor = match e {
                                SyncError::Api(api) => api.retry_after(),
                                _ => None,
                            };
                            timing
                                .retry
                                .delay(failures, random_unit(), floor)
                                .min(poll.max(floor.unwrap_or_default()))
                        }
                        _ => poll,
                    };
                    failures = failures.saturating_add(1);
                    next_round = Instant::now() + wait;
                    self.notifier.status(&format!("last round failed: {e}"));
                }
            }
            self.record(&result);
            if let Ok(report) = &result {
                news_tx.send_modify(|news| {
                    news.synced = true;
                    if report.system_update.is_some() {
                        news.desired = report.system_update.clone();
                    }
                });
            }
            let first = !ready;
            if first {
                self.notifier.ready("first sync round attempted");
                ready = true;
            }
            if let Ok(report) = &result {
                // A heartbeat after a change, and after the first round (the board is back).
                let heartbeat = report.changed || first;
                self.petting(watchdog, self.upload(board, &client, heartbeat, &mut upload_link)).await;
                if heartbeat {
                    next_heartbeat = Instant::now() + timing.heartbeat;
                }
            }
        }
    }

    /// The system update task, on boards whose image says what it is and has RAUC.
    fn updater(&self, board: &Board) -> Option<crate::update::Updater> {
        let settings = &self.config.settings;
        let system_file = std::path::PathBuf::from(&settings.system_file);
        if !system_file.is_file() || !crate::update::engine::Rauc::present() {
            return None;
        }
        let window = crate::update::Window::parse(&settings.update_window).ok()?;
        let time_zone = board
            .cache
            .lock()
            .ok()
            .and_then(|mut c| c.snapshot().ok())
            .and_then(|s| s.building.and_then(|b| b.tz().ok()))
            .or_else(|| jiff::tz::TimeZone::get(&self.config.board.time_zone).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        Some(crate::update::Updater {
            data_dir: board.data.path().to_path_buf(),
            journal: board.data.journal(),
            system_file,
            window,
            proof: jiff::SignedDuration::from_mins(settings.update_proof_minutes as i64),
            time_zone,
            engine: crate::update::engine::Rauc::default(),
        })
    }

    /// The credentials, enrolling with the configured code when there are none. A refused
    /// code is not retried in a loop: the daemon says so and waits to be restarted.
    async fn enrolled(&self, board: &Board, watchdog: &mut Watchdog) -> Result<Credentials, BoardError> {
        let mut link = LinkLog::new("enrolment");
        let mut attempt = 0u32;
        loop {
            match self.petting(watchdog, board.ensure_enrolled()).await {
                Ok(credentials) => return Ok(credentials),
                Err(BoardError::Enrol(e)) if e.retry() == Retry::Transient => {
                    link.down(&e);
                    self.notifier.ready(&format!("not enrolled yet: {e}"));
                    let delay = self.config.timing.retry.delay(attempt, random_unit(), e.retry_after());
                    attempt = attempt.saturating_add(1);
                    self.petting(watchdog, tokio::time::sleep(delay)).await;
                }
                Err(e @ (BoardError::Enrol(_) | BoardError::NotEnrolled)) => {
                    tracing::error!("{e}");
                    self.notifier.ready(&e.to_string());
                    self.status.send_modify(|s| s.last_error = Some(e.to_string()));
                    self.petting(watchdog, std::future::pending::<()>()).await;
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Runs `work`, petting the watchdog meanwhile: the loop that does the work is the one
    /// that proves it is alive (every wait in it is bounded by a timeout).
    async fn petting<T>(&self, watchdog: &mut Watchdog, work: impl Future<Output = T>) -> T {
        tokio::pin!(work);
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = watchdog.due() => self.notifier.watchdog(),
            }
        }
    }

    async fn upload(&self, board: &Board, client: &PlatformClient, heartbeat: bool, link: &mut LinkLog) {
        match board.upload(client, heartbeat).await {
            Ok(plays) => {
                link.up();
                if plays.acknowledged + plays.rejected > 0 {
                    tracing::info!(
                        acknowledged = plays.acknowledged,
                        rejected = plays.rejected,
                        pending = plays.pending,
                        "plays uploaded"
                    );
                }
                self.status.send_modify(|s| s.plays_pending = plays.pending);
            }
            Err(e) => link.down(&e),
        }
    }

    fn record(&self, result: &Result<RoundReport, SyncError>) {
        self.status.send_modify(|s| {
            s.rounds += 1;
            match result {
                Ok(report) => {
                    s.generation = report.generation;
                    s.last_round_ok = Some(true);
                    s.last_error = None;
                }
                Err(e) => {
                    s.last_round_ok = Some(false);
                    s.last_error = Some(e.to_string());
                }
            }
        });
    }
}

/// systemd's watchdog clock: half of `$WATCHDOG_USEC`, or never.
#[derive(Debug)]
struct Watchdog {
    ticker: Option<tokio::time::Interval>,
}

impl Watchdog {
    fn from_env() -> Watchdog {
        Watchdog { ticker: watchdog_interval().map(tokio::time::interval) }
    }

    /// Completes when the watchdog is due; never when there is none.
    async fn due(&mut self) {
        match &mut self.ticker {
            Some(ticker) => _ = ticker.tick().await,
            None => std::future::pending().await,
        }
    }
}

/// Aborts a task when the scope that spawned it ends (shutdown included).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
