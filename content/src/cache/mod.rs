//! The board's content cache: one SQLite file in WAL mode beside a `media/` directory.
//!
//! `palier-sync` is the only writer: it applies a whole validated manifest in one transaction
//! and bumps the generation when anything changed, so a reader never sees half a sync. The
//! player reads through [`CacheReader`], read-only, and notices commits with the cheap
//! `PRAGMA data_version` probe. Media bytes live in `media/<sha256>` next to the database;
//! the database only references them.

mod schema;
mod snapshot;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, TransactionBehavior, params};

use crate::model::Item;
use crate::sqlite::OpenError;
use crate::validate::ValidatedManifest;
use crate::wire::QuarantinedItem;

pub use snapshot::{CacheReader, Snapshot, rendition_path};

pub(crate) use schema::{JOURNAL_MIGRATIONS, open_writable};

/// Why the cache could not be opened, read or written. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{path} does not exist yet; palier-sync creates it at its first successful round")]
    Missing { path: PathBuf },
    #[error("{path} is not an SQLite database; move it aside and palier-sync will rebuild it")]
    NotADatabase { path: PathBuf },
    #[error(
        "{path} has schema version {found}, newer than this build understands ({supported}); \
         update Palier, or delete the file to resync from the platform"
    )]
    NewerSchema { path: PathBuf, found: usize, supported: usize },
    #[error("{path} is not initialised yet; palier-sync creates its tables at its first start")]
    NotInitialised { path: PathBuf },
    #[error("{path}: could not switch to WAL journaling (got {mode:?}); is the directory writable?")]
    NotWal { path: PathBuf, mode: String },
    #[error("{path}: migration to schema version {version} failed: {source}")]
    Migration { path: PathBuf, version: usize, source: rusqlite::Error },
    #[error(
        "{path}: manifest generation {offered} is older than the cached generation {cached}; \
         refusing to go backwards"
    )]
    StaleGeneration { path: PathBuf, offered: u64, cached: u64 },
    #[error("{path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
}

impl From<OpenError> for CacheError {
    fn from(e: OpenError) -> CacheError {
        match e {
            OpenError::Missing { path } => CacheError::Missing { path },
            OpenError::NotADatabase { path } => CacheError::NotADatabase { path },
            OpenError::NewerSchema { path, found, supported } => {
                CacheError::NewerSchema { path, found, supported }
            }
            OpenError::NotInitialised { path, .. } => CacheError::NotInitialised { path },
            OpenError::NotWal { path, mode } => CacheError::NotWal { path, mode },
            OpenError::Migration { path, version, source } => CacheError::Migration { path, version, source },
            OpenError::Sqlite { path, source } => CacheError::Sqlite { path, source },
        }
    }
}

impl CacheError {
    pub(crate) fn sqlite(path: &Path, source: rusqlite::Error) -> CacheError {
        CacheError::Sqlite { path: path.to_path_buf(), source }
    }
}

/// What one [`Cache::apply`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplyOutcome {
    /// The cache generation after the apply (unchanged when nothing changed).
    pub generation: u64,
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
    /// Media no item references any more: their files may be deleted.
    pub unreferenced_media: Vec<String>,
    /// Anything besides items changed too (building, roles, quarantine list).
    pub settings_changed: bool,
}

impl ApplyOutcome {
    pub fn changed(&self) -> bool {
        self.settings_changed
            || !(self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty())
    }
}

/// Where the last sync rounds got to, for the heartbeat and `palier-sync status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncState {
    pub etag: Option<String>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
}

/// The writer side of the cache. Only one process (`palier-sync`) holds one.
#[derive(Debug)]
pub struct Cache {
    conn: Connection,
    path: PathBuf,
}

impl Cache {
    /// Opens or creates the cache at `path`, migrating it to the latest schema.
    pub fn open(path: &Path) -> Result<Cache, CacheError> {
        let conn = open_writable(path, schema::CACHE_MIGRATIONS)?;
        Ok(Cache { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory holding media files, `media/` beside the database.
    pub fn media_dir(&self) -> PathBuf {
        media_dir_for(&self.path)
    }

    /// Reconciles the cache to `manifest` in one transaction: new and changed items in,
    /// missing items out with their media references, quarantine list replaced. The
    /// generation grows by one when anything changed; applying the same manifest again
    /// writes nothing.
    pub fn apply(&mut self, manifest: &ValidatedManifest, at: Timestamp) -> Result<ApplyOutcome, CacheError> {
        let path = self.path.clone();
        let err = |e| CacheError::sqlite(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let (generation, source_generation, device_id, building_json, roles_json): (
            u64,
            u64,
            String,
            Option<String>,
            String,
        ) = tx
            .query_row(
                "SELECT generation, source_generation, device_id, building_json, roles_json FROM state",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .map_err(err)?;
        if manifest.generation < source_generation {
            return Err(CacheError::StaleGeneration {
                path,
                offered: manifest.generation,
                cached: source_generation,
            });
        }

        let mut stored: HashMap<String, String> = HashMap::new();
        {
            let mut stmt = tx.prepare("SELECT id, json FROM items").map_err(err)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(err)?;
            for row in rows {
                let (id, json) = row.map_err(err)?;
                stored.insert(id, json);
            }
        }

        let mut outcome = ApplyOutcome { generation, ..ApplyOutcome::default() };
        let mut wanted = HashSet::new();
        for item in &manifest.items {
            wanted.insert(item.id.as_str());
            let json = serde_json::to_string(item).expect("items always serialize");
            match stored.get(&item.id) {
                Some(old) if *old == json => continue,
                Some(_) => outcome.updated.push(item.id.clone()),
                None => outcome.added.push(item.id.clone()),
            }
            write_item(&tx, item, &json, at).map_err(err)?;
        }
        let mut removed: Vec<String> =
            stored.into_keys().filter(|id| !wanted.contains(id.as_str())).collect();
        removed.sort();
        for id in &removed {
            tx.execute("DELETE FROM items WHERE id = ?1", [id]).map_err(err)?;
        }
        outcome.removed = removed;

        let new_building = serde_json::to_string(&manifest.building).expect("building serializes");
        let new_roles = serde_json::to_string(&manifest.roles).expect("roles serialize");
        let old_quarantine = read_quarantine(&tx).map_err(err)?;
        outcome.settings_changed = building_json.as_deref() != Some(new_building.as_str())
            || roles_json != new_roles
            || device_id != manifest.device_id
            || old_quarantine != manifest.quarantined;
        if old_quarantine != manifest.quarantined {
            tx.execute("DELETE FROM quarantine", []).map_err(err)?;
            for (position, q) in manifest.quarantined.iter().enumerate() {
                tx.execute(
                    "INSERT INTO quarantine (position, item_id, version, reason) VALUES (?1, ?2, ?3, ?4)",
                    params![position as i64, q.id, q.version, q.reason],
                )
                .map_err(err)?;
            }
        }

        {
            let mut stmt = tx
                .prepare("SELECT sha256 FROM media WHERE sha256 NOT IN (SELECT sha256 FROM item_media)")
                .map_err(err)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
            for sha in rows {
                outcome.unreferenced_media.push(sha.map_err(err)?);
            }
        }
        for sha in &outcome.unreferenced_media {
            tx.execute("DELETE FROM media WHERE sha256 = ?1", [sha]).map_err(err)?;
        }

        if outcome.changed() {
            outcome.generation = generation + 1;
            tx.execute(
                "UPDATE state SET generation = ?1, source_generation = ?2, device_id = ?3,
                     building_json = ?4, roles_json = ?5, applied_at = ?6",
                params![
                    outcome.generation,
                    manifest.generation,
                    manifest.device_id,
                    new_building,
                    new_roles,
                    at.to_string()
                ],
            )
            .map_err(err)?;
        } else if manifest.generation != source_generation {
            tx.execute("UPDATE state SET source_generation = ?1", [manifest.generation]).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(outcome)
    }

    /// Notes the start of a sync round.
    pub fn record_attempt(&self, at: Timestamp) -> Result<(), CacheError> {
        self.exec("UPDATE sync_state SET last_attempt_at = ?1", params![at.to_string()])
    }

    /// Notes a successful round and the manifest's ETag; clears the last error.
    pub fn record_success(&self, etag: Option<&str>, at: Timestamp) -> Result<(), CacheError> {
        self.exec(
            "UPDATE sync_state SET etag = ?1, last_success_at = ?2, last_error = NULL, last_error_at = NULL",
            params![etag, at.to_string()],
        )
    }

    /// Notes a failed round; the content stays as it was.
    pub fn record_error(&self, message: &str, at: Timestamp) -> Result<(), CacheError> {
        self.exec(
            "UPDATE sync_state SET last_error = ?1, last_error_at = ?2",
            params![message, at.to_string()],
        )
    }

    pub fn sync_state(&self) -> Result<SyncState, CacheError> {
        self.conn
            .query_row(
                "SELECT etag, last_attempt_at, last_success_at, last_error, last_error_at FROM sync_state",
                [],
                |r| {
                    Ok(SyncState {
                        etag: r.get(0)?,
                        last_attempt_at: parse_instant(r.get(1)?),
                        last_success_at: parse_instant(r.get(2)?),
                        last_error: r.get(3)?,
                        last_error_at: parse_instant(r.get(4)?),
                    })
                },
            )
            .map_err(|e| CacheError::sqlite(&self.path, e))
    }

    /// Every media address an item references: the files garbage collection must keep.
    pub fn referenced_media(&self) -> Result<HashSet<String>, CacheError> {
        let err = |e| CacheError::sqlite(&self.path, e);
        let mut stmt = self.conn.prepare("SELECT DISTINCT sha256 FROM item_media").map_err(err)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// A consistent view of the whole cache, as the player would read it.
    pub fn snapshot(&mut self) -> Result<Snapshot, CacheError> {
        snapshot::read(&mut self.conn, &self.path)
    }

    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Result<(), CacheError> {
        self.conn.execute(sql, params).map(|_| ()).map_err(|e| CacheError::sqlite(&self.path, e))
    }
}

/// Inserts or updates an item. `cached_at` is set when the item first enters the cache and
/// kept across updates: the player anchors an urgent flash's preemption on it.
fn write_item(
    tx: &rusqlite::Transaction<'_>,
    item: &Item,
    json: &str,
    at: Timestamp,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO items (id, version, kind, valid_until, cached_at, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET version = excluded.version, kind = excluded.kind,
             valid_until = excluded.valid_until, json = excluded.json",
        params![
            item.id,
            item.version,
            item.kind().as_str(),
            item.valid_until.to_string(),
            at.to_string(),
            json
        ],
    )?;
    tx.execute("DELETE FROM item_media WHERE item_id = ?1", [&item.id])?;
    for (position, media) in item.media.iter().enumerate() {
        tx.execute(
            "INSERT INTO media (sha256, bytes, mime, width, height) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(sha256) DO NOTHING",
            params![media.sha256, media.bytes, media.mime, media.width, media.height],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO item_media (item_id, position, sha256) VALUES (?1, ?2, ?3)",
            params![item.id, position as i64, media.sha256],
        )?;
    }
    Ok(())
}

fn read_quarantine(conn: &Connection) -> rusqlite::Result<Vec<QuarantinedItem>> {
    let mut stmt = conn.prepare("SELECT item_id, version, reason FROM quarantine ORDER BY position")?;
    let rows =
        stmt.query_map([], |r| Ok(QuarantinedItem { id: r.get(0)?, version: r.get(1)?, reason: r.get(2)? }))?;
    rows.collect()
}

fn parse_instant(text: Option<String>) -> Option<Timestamp> {
    text.and_then(|t| t.parse().ok())
}

/// `media/` beside the cache file.
pub fn media_dir_for(cache_path: &Path) -> PathBuf {
    cache_path.parent().unwrap_or(Path::new(".")).join("media")
}

#[cfg(test)]
mod tests;
