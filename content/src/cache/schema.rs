//! The schemas of the board's cache and plays journal, as append-only migrations (opened and
//! migrated by [`crate::sqlite`]).

use std::path::Path;

use rusqlite::Connection;

use super::CacheError;
use crate::sqlite;

/// The content cache, written by `palier-sync` only.
pub(crate) const CACHE_MIGRATIONS: &[&str] = &[
    // 1: items, their media, the building, quarantine, sync state.
    "CREATE TABLE state (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         generation INTEGER NOT NULL,
         source_generation INTEGER NOT NULL,
         device_id TEXT NOT NULL,
         building_json TEXT,
         roles_json TEXT NOT NULL,
         applied_at TEXT
     );
     INSERT INTO state VALUES (1, 0, 0, '', NULL, '[]', NULL);
     CREATE TABLE items (
         id TEXT PRIMARY KEY,
         version INTEGER NOT NULL,
         kind TEXT NOT NULL,
         valid_until TEXT NOT NULL,
         cached_at TEXT NOT NULL,
         json TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE media (
         sha256 TEXT PRIMARY KEY,
         bytes INTEGER NOT NULL,
         mime TEXT NOT NULL,
         width INTEGER NOT NULL,
         height INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE item_media (
         item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
         position INTEGER NOT NULL,
         sha256 TEXT NOT NULL REFERENCES media(sha256),
         PRIMARY KEY (item_id, position)
     ) WITHOUT ROWID;
     CREATE INDEX item_media_by_sha ON item_media(sha256);
     CREATE TABLE quarantine (
         position INTEGER PRIMARY KEY,
         item_id TEXT NOT NULL,
         version INTEGER,
         reason TEXT NOT NULL
     );
     CREATE TABLE sync_state (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         etag TEXT,
         last_attempt_at TEXT,
         last_success_at TEXT,
         last_error TEXT,
         last_error_at TEXT
     );
     INSERT INTO sync_state (id) VALUES (1);",
];

/// The plays journal, appended by the player and drained by `palier-sync`.
pub(crate) const JOURNAL_MIGRATIONS: &[&str] = &[
    // 1: play records waiting for the platform's acknowledgement; what each screen shows now.
    "CREATE TABLE plays (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         id TEXT NOT NULL UNIQUE,
         item_id TEXT NOT NULL,
         item_version INTEGER NOT NULL,
         screen TEXT NOT NULL,
         role TEXT NOT NULL,
         started_at TEXT NOT NULL,
         duration_ms INTEGER NOT NULL,
         trigger TEXT NOT NULL,
         clock_trusted INTEGER NOT NULL
     );
     CREATE TABLE screen_status (
         screen TEXT PRIMARY KEY,
         role TEXT NOT NULL,
         item_id TEXT NOT NULL,
         item_version INTEGER NOT NULL,
         since TEXT NOT NULL,
         generation INTEGER NOT NULL
     ) WITHOUT ROWID;",
    // 2: the board clock as palier-sync last measured it against the platform.
    "CREATE TABLE clock (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         trusted INTEGER NOT NULL,
         skew_ms INTEGER,
         measured_at TEXT NOT NULL
     );",
    // 3: how many of the oldest records were dropped to keep the journal within its bound.
    "CREATE TABLE trimmed (
         at TEXT NOT NULL,
         dropped INTEGER NOT NULL
     );",
];

/// Opens (creating if needed) a writable cache or journal, migrated to the latest schema.
pub(crate) fn open_writable(path: &Path, migrations: &[&str]) -> Result<Connection, CacheError> {
    Ok(sqlite::open_writable(path, migrations)?)
}

/// Opens an existing cache read-only; refuses one of another schema version.
pub(crate) fn open_read_only(path: &Path, migrations: &[&str]) -> Result<Connection, CacheError> {
    Ok(sqlite::open_read_only(path, migrations)?)
}
