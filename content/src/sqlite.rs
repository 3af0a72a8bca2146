//! Opening Palier's SQLite files and migrating their schema: one helper for the board's
//! cache and plays journal and for the reference platform's database.
//!
//! Migrations are append-only: each entry runs once, in order, and `PRAGMA user_version`
//! records how many have run. Never edit a shipped entry; add a new one. A file whose
//! version is newer than this build knows is refused rather than misread. Writable files are
//! in WAL mode with `synchronous = FULL` (a board loses power without warning: every commit
//! reaches the disk before it returns) and foreign keys on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How long a connection waits for another one's write lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a database file could not be opened or migrated. Every message names the file; the
/// callers turn it into their own error with the fix that fits their file.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{path} does not exist")]
    Missing { path: PathBuf },
    #[error("{path} is not an SQLite database")]
    NotADatabase { path: PathBuf },
    #[error("{path} has schema version {found}, newer than this build understands ({supported})")]
    NewerSchema { path: PathBuf, found: usize, supported: usize },
    #[error("{path} is not initialised yet (schema version {found} of {supported})")]
    NotInitialised { path: PathBuf, found: usize, supported: usize },
    #[error("{path}: could not switch to WAL journaling (got {mode:?}); is it on a network file system?")]
    NotWal { path: PathBuf, mode: String },
    #[error("{path}: migration to schema version {version} failed: {source}")]
    Migration { path: PathBuf, version: usize, source: rusqlite::Error },
    #[error("{path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
}

impl OpenError {
    /// Maps SQLite's "not a database" code to its own variant.
    pub fn classify(path: &Path, source: rusqlite::Error) -> OpenError {
        match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => OpenError::NotADatabase { path: path.to_path_buf() },
            _ => OpenError::Sqlite { path: path.to_path_buf(), source },
        }
    }
}

/// Opens (creating if needed) a writable database, in WAL mode, migrated to the latest schema.
pub fn open_writable(path: &Path, migrations: &[&str]) -> Result<Connection, OpenError> {
    let conn = Connection::open(path).map_err(|e| OpenError::classify(path, e))?;
    configure(&conn, path)?;
    let wal: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| OpenError::classify(path, e))?;
    if !wal.eq_ignore_ascii_case("wal") {
        return Err(OpenError::NotWal { path: path.to_path_buf(), mode: wal });
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(|e| OpenError::classify(path, e))?;
    migrate(&conn, path, migrations)?;
    Ok(conn)
}

/// Opens an existing database read-only; refuses one of another schema version.
pub fn open_read_only(path: &Path, migrations: &[&str]) -> Result<Connection, OpenError> {
    if !path.exists() {
        return Err(OpenError::Missing { path: path.to_path_buf() });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| OpenError::classify(path, e))?;
    configure(&conn, path)?;
    let found = user_version(&conn, path)?;
    let supported = migrations.len();
    if found > supported {
        return Err(OpenError::NewerSchema { path: path.to_path_buf(), found, supported });
    }
    if found < supported {
        return Err(OpenError::NotInitialised { path: path.to_path_buf(), found, supported });
    }
    Ok(conn)
}

fn configure(conn: &Connection, path: &Path) -> Result<(), OpenError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| OpenError::classify(path, e))?;
    // Reading the header early turns "file is not a database" into a clear error here.
    user_version(conn, path).map(|_| ())
}

fn user_version(conn: &Connection, path: &Path) -> Result<usize, OpenError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| OpenError::classify(path, e))?;
    Ok(usize::try_from(version).unwrap_or(usize::MAX))
}

/// Runs the missing migrations, each in its own write transaction that re-reads the version,
/// so two processes opening a fresh file at once cannot both run the same step.
fn migrate(conn: &Connection, path: &Path, migrations: &[&str]) -> Result<(), OpenError> {
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
            return Err(OpenError::Migration { path: path.to_path_buf(), version: target, source });
        }
    }
    let found = user_version(conn, path)?;
    if found > migrations.len() {
        return Err(OpenError::NewerSchema { path: path.to_path_buf(), found, supported: migrations.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &[&str] = &["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (y INTEGER)"];

    #[test]
    fn migrates_once_and_refuses_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sqlite");
        assert!(matches!(open_read_only(&path, TWO), Err(OpenError::Missing { .. })));
        let conn = open_writable(&path, &TWO[..1]).unwrap();
        drop(conn);
        assert!(matches!(open_read_only(&path, TWO), Err(OpenError::NotInitialised { found: 1, .. })));
        open_writable(&path, TWO).unwrap();
        open_writable(&path, TWO).unwrap();
        open_read_only(&path, TWO).unwrap();
        assert!(matches!(open_writable(&path, &TWO[..1]), Err(OpenError::NewerSchema { found: 2, .. })));
        std::fs::write(dir.path().join("junk"), vec![7u8; 4096]).unwrap();
        assert!(matches!(open_writable(&dir.path().join("junk"), TWO), Err(OpenError::NotADatabase { .. })));
        let broken = open_writable(&dir.path().join("bad.sqlite"), &["CREATE TABLE"]).unwrap_err();
        assert!(matches!(broken, OpenError::Migration { version: 1, .. }), "{broken}");
    }
}
