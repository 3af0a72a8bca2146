//! The running player without windows or GPU: which slide each screen shows now, when that
//! changes, what was really shown (plays journal and screen status), and when the cache
//! moved on.
//!
//! Time goes in as wall-clock instants and comes out as one next deadline, so the same
//! engine drives the winit windows and the headless player, and tests drive it with a made-
//! up clock. A new cache generation is picked up at the next slide boundary, except that an
//! urgent flash preempts at once and a withdrawn or expired item leaves the screen at once.

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};
use palier_content::config::{BoardConfig, ScreenConfig};
use palier_content::wire::{PlayRecord, PlayTrigger, ScreenStatus};
use palier_content::{CacheError, CacheReader, PlaysJournal, Snapshot};

use crate::board::Board;
use crate::playlist::{Playlist, Showing, SlideRef};
use crate::source::Assets;

/// A screen's state.
#[derive(Debug)]
pub struct ScreenState {
    pub config: ScreenConfig,
    playlist: Playlist,
    /// What shows now, with the instant it really went on screen.
    pub current: Showing,
    pub shown_since: Timestamp,
    /// What showed before, while the crossfade runs.
    pub previous: Option<Showing>,
    /// What follows the current showing, to prepare ahead; recomputed whenever the current
    /// showing or the playlist changes, not on every wake-up.
    upcoming: Showing,
    /// The cache generation the current slide came from.
    pub generation: u64,
}

/// Where the engine reads content and writes plays.
#[derive(Debug, Clone)]
pub struct EnginePaths {
    pub cache: PathBuf,
    pub journal: PathBuf,
}

/// The player's clockwork.
#[derive(Debug)]
pub struct Engine {
    config: BoardConfig,
    assets: Assets,
    paths: EnginePaths,
    reader: Option<CacheReader>,
    data_version: Option<i64>,
    /// The last cache problem, logged once per change.
    cache_problem: Option<String>,
    board: Board,
    journal: Option<PlaysJournal>,
    screens: Vec<ScreenState>,
    next_probe: Timestamp,
    /// Whether file notifications wake the engine on cache changes (then it probes only
    /// every [`crate::cache_watch::WATCHED_PROBE`] on its own).
    watched: bool,
    device: String,
}

/// Plays shorter than this (a preempted slide's first instant) are not recorded.
const MIN_PLAY: SignedDuration = SignedDuration::from_millis(500);

impl Engine {
    /// Opens the cache (or starts on the fallback slide if it cannot) and puts the first
    /// slide of every screen up at `now`.
    pub fn start(config: BoardConfig, assets: Assets, paths: EnginePaths, now: Timestamp) -> Engine {
        let journal = match PlaysJournal::open(&paths.journal) {
            Ok(journal) => Some(journal),
            Err(e) => {
                tracing::error!(error = %e, "plays journal unavailable; slides still show, plays are not recorded");
                None
            }
        };
        let empty = Snapshot::empty(palier_content::cache::media_dir_for(&paths.cache));
        let board = Board::new(empty, &config, &assets);
        let mut engine = Engine {
            device: String::new(),
            screens: Vec::new(),
            board,
            journal,
            reader: None,
            data_version: None,
            cache_problem: None,
            next_probe: now + SignedDuration::from_millis(i64::from(config.player.cache_poll_ms)),
            watched: false,
            paths,
            assets,
            config,
        };
        engine.probe_cache(now);
        let screens: Vec<ScreenState> = engine
            .config
            .screens
            .iter()
            .map(|screen| {
                let playlist = engine.board.playlist(screen);
                let current = playlist.showing_at(now);
                let upcoming = playlist.showing_at(current.end);
                ScreenState {
                    config: screen.clone(),
                    playlist,
                    upcoming,
                    current,
                    shown_since: now,
                    previous: None,
                    generation: engine.board.snapshot.generation,
                }
            })
            .collect();
        engine.screens = screens;
        for index in 0..engine.screens.len() {
            engine.report_status(index);
        }
        engine
    }

    pub fn screens(&self) -> &[ScreenState] {
        &self.screens
    }

    pub fn board(&self) -> &Board {
        &self.board
    }

    pub fn board_mut(&mut self) -> &mut Board {
        &mut self.board
    }

    pub fn config(&self) -> &BoardConfig {
        &self.config
    }

    /// The showing that follows the current one on `screen`, to prepare ahead.
    pub fn upcoming(&self, screen: usize) -> &Showing {
        &self.screens[screen].upcoming
    }

    /// Moves time to `now`: probes the cache when due, ends slides whose time is up, and
    /// returns the screens whose slide changed.
    pub fn advance(&mut self, now: Timestamp) -> Vec<usize> {
        let mut changed = Vec::new();
        if now >= self.next_probe {
            self.next_probe = now + self.probe_interval();
            if self.probe_cache(now) {
                self.replan(now, &mut changed);
            }
        }
        for index in 0..self.screens.len() {
            if now >= self.screens[index].current.end {
                let next = self.screens[index].playlist.showing_at(now);
                self.switch(index, next, now);
                if !changed.contains(&index) {
                    changed.push(index);
                }
            }
        }
        changed
    }

    /// The next instant something is due: a slide ends, the clock turns a minute, or the
    /// cache is probed.
    pub fn next_deadline(&self, now: Timestamp) -> Timestamp {
        let minute = Timestamp::from_second(now.as_second().div_euclid(60) * 60 + 60).unwrap_or(now);
        self.screens
            .iter()
            .map(|s| s.current.end)
            .chain([minute, self.next_probe])
            .min()
            .unwrap_or(minute)
            .max(now)
    }

    /// The cache's path (for watching it).
    pub fn cache_path(&self) -> &std::path::Path {
        &self.paths.cache
    }

    /// File notifications now wake the engine on cache changes: poll rarely.
    pub fn set_watched(&mut self, now: Timestamp) {
        self.watched = true;
        self.next_probe = self.next_probe.min(now + self.probe_interval());
    }

    /// The cache changed on disk: probe it at the next advance.
    pub fn cache_touched(&mut self, now: Timestamp) {
        self.next_probe = self.next_probe.min(now);
    }

    fn probe_interval(&self) -> SignedDuration {
        if self.watched {
            SignedDuration::try_from(crate::cache_watch::WATCHED_PROBE)
                .unwrap_or(SignedDuration::from_secs(5))
        } else {
            SignedDuration::from_millis(i64::from(self.config.player.cache_poll_ms))
        }
    }

    /// An item turned out unshowable (its picture did not decode): skip it from now on.
    pub fn skip_item(&mut self, id: &str, reason: String, now: Timestamp) -> Vec<usize> {
        self.board.mark_unshowable(id, reason);
        let mut changed = Vec::new();
        self.replan(now, &mut changed);
        changed
    }

    /// Records the plays of the slides on screen (before a clean exit).
    pub fn finish(&mut self, now: Timestamp) {
        for index in 0..self.screens.len() {
            self.record_play(index, now);
        }
    }

    /// Rebuilds every playlist from the current board. A screen switches at once when its
    /// slide is no longer allowed (withdrawn, expired) or an urgent flash must preempt.
    fn replan(&mut self, now: Timestamp, changed: &mut Vec<usize>) {
        for index in 0..self.screens.len() {
            let playlist = self.board.playlist(&self.screens[index].config);
            let wanted = playlist.showing_at(now);
            let state = &mut self.screens[index];
            state.upcoming = playlist.showing_at(state.current.end);
            state.playlist = playlist;
            let still_allowed = match &state.current.slide {
                SlideRef::Item { id, version } => {
                    self.board
                        .snapshot
                        .item(id)
                        .is_some_and(|item| item.version == *version && item.is_valid_at(now))
                        && !self.board.unshowable.contains_key(id)
                }
                SlideRef::Fallback => wanted.slide == SlideRef::Fallback,
            };
            let preempt = wanted.trigger == PlayTrigger::Preempt && wanted.slide != state.current.slide;
            if !still_allowed || preempt {
                self.switch(index, wanted, now);
                changed.push(index);
            } else if state.current.banner != wanted.banner && wanted.slide == state.current.slide {
                // Same slide, banner on or off: redraw it without a new play.
                state.current.banner = wanted.banner;
                changed.push(index);
            }
        }
    }

    fn switch(&mut self, index: usize, next: Showing, now: Timestamp) {
        self.record_play(index, now);
        let generation = self.board.snapshot.generation;
        let state = &mut self.screens[index];
        let previous = std::mem::replace(&mut state.current, next);
        state.previous = Some(previous);
        state.upcoming = state.playlist.showing_at(state.current.end);
        state.shown_since = now;
        state.generation = generation;
        tracing::debug!(screen = %state.config.name, showing = ?state.current, "slide");
        self.report_status(index);
    }

    fn record_play(&mut self, index: usize, now: Timestamp) {
        let state = &self.screens[index];
        let duration = now.duration_since(state.shown_since);
        let Some(journal) = &self.journal else { return };
        if duration < MIN_PLAY {
            return;
        }
        let (item_id, item_version) = match &state.current.slide {
            SlideRef::Item { id, version } => (id.clone(), *version),
            SlideRef::Fallback => (String::new(), 0),
        };
        let play = PlayRecord {
            // Stable for the same showing (a repeated upload counts once), and a valid protocol
            // id whatever the screen is called.
            id: play_id(self.device_tag(), &state.config.name, state.shown_since),
            item_id,
            item_version,
            screen: state.config.name.clone(),
            role: state.config.role.clone(),
            started_at: state.shown_since,
            duration_ms: duration.as_millis() as u64,
            trigger: state.current.trigger,
            clock_trusted: clock_trusted(journal),
        };
        if let Err(e) = journal.append(&play) {
            tracing::error!(error = %e, "could not record a play");
        }
    }

    fn report_status(&self, index: usize) {
        let Some(journal) = &self.journal else { return };
        let state = &self.screens[index];
        let (item_id, item_version) = match &state.current.slide {
            SlideRef::Item { id, version } => (id.clone(), *version),
            SlideRef::Fallback => (String::new(), 0),
        };
        let status = ScreenStatus {
            screen: state.config.name.clone(),
            role: state.config.role.clone(),
            item_id,
            item_version,
            since: state.shown_since,
            generation: state.generation,
        };
        if let Err(e) = journal.set_screen_status(&status) {
            tracing::error!(error = %e, "could not record the screen status");
        }
    }

    fn device_tag(&self) -> &str {
        if self.device.is_empty() { "board" } else { &self.device }
    }

    /// Opens the cache if needed and takes a new snapshot when it changed. Returns true when
    /// the board changed.
    fn probe_cache(&mut self, _now: Timestamp) -> bool {
        if self.reader.is_none() {
            match CacheReader::open(&self.paths.cache) {
                Ok(reader) => self.reader = Some(reader),
                Err(e) => {
                    self.note_cache_problem(&e);
                    return false;
                }
            }
        }
        let reader = self.reader.as_mut().expect("opened above");
        let version = match reader.data_version() {
            Ok(version) => version,
            Err(e) => {
                self.note_cache_problem(&e);
                self.reader = None;
                return false;
            }
        };
        if self.data_version == Some(version) {
            return false;
        }
        match reader.snapshot() {
            Ok(snapshot) => {
                self.data_version = Some(version);
                if self.cache_problem.take().is_some() {
                    tracing::info!(cache = %self.paths.cache.display(), "cache readable again");
                }
                if snapshot.generation == self.board.snapshot.generation
                    && self.board.snapshot.applied_at.is_some()
                {
                    return false;
                }
                tracing::info!(generation = snapshot.generation, items = snapshot.items.len(), "new content");
                self.device = snapshot.device_id.clone();
                self.board = Board::new(snapshot, &self.config, &self.assets);
                true
            }
            Err(e) => {
                self.note_cache_problem(&e);
                self.reader = None;
                false
            }
        }
    }

    fn note_cache_problem(&mut self, error: &CacheError) {
        let text = error.to_string();
        if self.cache_problem.as_deref() != Some(text.as_str()) {
            tracing::warn!(error = %text, "showing the fallback or last content; retrying");
            self.cache_problem = Some(text);
        }
    }
}

/// A play record's id: `p-` and 32 hex digits of the showing's identity.
fn play_id(device: &str, screen: &str, started_at: Timestamp) -> String {
    let digest = palier_content::demo::sha256_hex(
        format!("{device}\n{screen}\n{}", started_at.as_millisecond()).as_bytes(),
    );
    format!("p-{}", &digest[..32])
}

/// True when palier-sync last found the clock within two minutes of the platform's, or,
/// before any measure, when the system says its clock is synchronised (systemd-timesyncd).
fn clock_trusted(journal: &PlaysJournal) -> bool {
    match journal.clock() {
        Ok(Some(clock)) => clock.trusted,
        _ => std::path::Path::new("/run/systemd/timesync/synchronized").exists(),
    }
}

#[cfg(test)]
mod tests;
