//! Opening Palier's SQLite files and migrating their schema.
//!
//! Migrations are append-only: each entry runs once, in order, and `PRAGMA user_version`
//! records how many have run. Never edit a shipped entry; add a new one. A file whose
//! version is newer than this build knows is refused rather than misread.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::CacheError;

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
];

/// Opens (creating if needed) a writable database, in WAL mode, migrated to the latest schema.
pub(crate) fn open_writable(path: &Path, migrations: &[&str]) -> Result<Connection, CacheError> {
    let conn = Connection::open(path).map_err(|e| CacheError::classify(path, e))?;
    configure(&conn, path)?;
    let wal: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| CacheError::classify(path, e))?;
    if !wal.eq_ignore_ascii_case("wal") {
        return Err(CacheError::NotWal { path: path.to_path_buf(), mode: wal });
    }
    // A board loses power without warning: every commit reaches the disk before it returns.
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(|e| CacheError::sqlite(path, e))?;
    migrate(&conn, path, migrations)?;
    Ok(conn)
}

/// Opens an existing database read-only; refuses one of an unknown schema version.
pub(crate) fn open_read_only(path: &Path, migrations: &[&str]) -> Result<Connection, CacheError> {
    if !path.exists() {
        return Err(CacheError::Missing { path: path.to_path_buf() });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| CacheError::classify(path, e))?;
    configure(&conn, path)?;
    let version = user_version(&conn, path)?;
    if version > migrations.len() {
        return Err(CacheError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: migrations.len(),
        });
    }
    if version < migrations.len() {
        return Err(CacheError::NotInitialised { path: path.to_path_buf() });
    }
    Ok(conn)
}

fn configure(conn: &Connection, path: &Path) -> Result<(), CacheError> {
    conn.busy_timeout(Duration::from_secs(5)).map_err(|e| CacheError::sqlite(path, e))?;
    // Reading the header early turns "file is not a database" into a clear error here.
    user_version(conn, path).map(|_| ())
}

fn user_version(conn: &Connection, path: &Path) -> Result<usize, CacheError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| CacheError::classify(path, e))?;
    Ok(usize::try_from(version).unwrap_or(usize::MAX))
}

/// Runs the missing migrations, each in its own write transaction that re-reads the version,
/// so two processes opening a fresh file at once cannot both run the same step.
fn migrate(conn: &Connection, path: &Path, migrations: &[&str]) -> Result<(), CacheError> {
    for (index, sql) in migrations.iter().enumerate() {
        let target = index + 1;
        if user_version(conn, path)? >= target {
            continue;
        }
        let step = || -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            if usize::try_from(current).unwrap_or(usize::MAX) < target {
                conn.execute_batch(&format!("{sql}; PRAGMA user_version = {target};"))?;
            }
            conn.execute_batch("COMMIT")
        };
        if let Err(source) = step() {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(CacheError::Migration { path: path.to_path_buf(), version: target, source });
        }
    }
    let current = user_version(conn, path)?;
    if current > migrations.len() {
        return Err(CacheError::NewerSchema {
            path: path.to_path_buf(),
            found: current,
            supported: migrations.len(),
        });
    }
    Ok(())
}
