//! The reader side of the cache: consistent snapshots and a cheap change probe.
//!
//! A snapshot is read inside one read transaction, so under WAL it sees exactly one
//! committed generation even while the writer commits the next one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::Connection;

use super::{CacheError, media_dir_for, read_quarantine, schema};
use crate::model::{Building, Item, MediaRef};
use crate::wire::QuarantinedItem;

/// Everything the cache held at one committed generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Local generation: grows by one with every apply that changed something.
    pub generation: u64,
    /// The platform's manifest generation it was applied from.
    pub source_generation: u64,
    pub device_id: String,
    /// None until the first manifest was applied.
    pub building: Option<Building>,
    pub roles: Vec<String>,
    /// Sorted by id.
    pub items: Vec<Item>,
    /// When each item (by id) first entered this cache.
    pub cached_at: HashMap<String, Timestamp>,
    pub quarantined: Vec<QuarantinedItem>,
    /// Stored rows that no longer parse (a damaged file): id and error, left out of `items`.
    pub unreadable: Vec<(String, String)>,
    pub applied_at: Option<Timestamp>,
    pub media_dir: PathBuf,
}

impl Snapshot {
    /// The snapshot of a cache that holds nothing yet.
    pub fn empty(media_dir: PathBuf) -> Snapshot {
        Snapshot {
            generation: 0,
            source_generation: 0,
            device_id: String::new(),
            building: None,
            roles: Vec::new(),
            items: Vec::new(),
            cached_at: HashMap::new(),
            quarantined: Vec::new(),
            unreadable: Vec::new(),
            applied_at: None,
            media_dir,
        }
    }

    /// Where the bytes of `media` live on this board.
    pub fn media_path(&self, media: &MediaRef) -> PathBuf {
        self.media_dir.join(&media.sha256)
    }

    /// The picture to draw for `media`: the display-ready rendition `palier-sync` prepared
    /// for this board's screens when there is one, else the original.
    pub fn display_path(&self, media: &MediaRef) -> PathBuf {
        let rendition = rendition_path(&self.media_dir, &media.sha256);
        if rendition.is_file() { rendition } else { self.media_path(media) }
    }

    /// When `item` entered the cache; its validity start if unknown.
    pub fn arrival(&self, item: &Item) -> Timestamp {
        self.cached_at.get(&item.id).copied().unwrap_or(item.valid_from)
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.binary_search_by(|i| i.id.as_str().cmp(id)).ok().map(|index| &self.items[index])
    }
}

/// Where `palier-sync` puts the display-ready rendition of a picture: scaled down to the
/// largest screen of the board, in a format the player decodes quickly (JPEG, or PNG when the
/// picture has transparency). The player finds its format from its bytes.
pub fn rendition_path(media_dir: &Path, sha256: &str) -> PathBuf {
    media_dir.join(format!("{sha256}.display"))
}

/// A read-only handle on the cache, for the player.
#[derive(Debug)]
pub struct CacheReader {
    conn: Connection,
    path: PathBuf,
}

impl CacheReader {
    /// Opens an existing, initialised cache read-only.
    pub fn open(path: &Path) -> Result<CacheReader, CacheError> {
        let conn = schema::open_read_only(path, schema::CACHE_MIGRATIONS)?;
        Ok(CacheReader { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A consistent snapshot of one committed generation.
    pub fn snapshot(&mut self) -> Result<Snapshot, CacheError> {
        read(&mut self.conn, &self.path)
    }

    /// Changes whenever another connection commits to the file: poll it, then take a new
    /// snapshot only when it moved. Costs no I/O beyond the shared-memory index.
    pub fn data_version(&self) -> Result<i64, CacheError> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| CacheError::sqlite(&self.path, e))
    }
}

/// Reads a snapshot inside one read transaction.
pub(super) fn read(conn: &mut Connection, path: &Path) -> Result<Snapshot, CacheError> {
    let err = |e| CacheError::sqlite(path, e);
    let tx = conn.transaction().map_err(err)?;
    let (generation, source_generation, device_id, building_json, roles_json, applied_at): (
        u64,
        u64,
        String,
        Option<String>,
        String,
        Option<String>,
    ) = tx
        .query_row(
            "SELECT generation, source_generation, device_id, building_json, roles_json, applied_at FROM state",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .map_err(err)?;
    let mut snapshot = Snapshot::empty(media_dir_for(path));
    snapshot.generation = generation;
    snapshot.source_generation = source_generation;
    snapshot.device_id = device_id;
    snapshot.applied_at = applied_at.and_then(|t| t.parse().ok());
    snapshot.roles = serde_json::from_str(&roles_json).unwrap_or_default();
    snapshot.building = match building_json.as_deref().map(serde_json::from_str::<Building>) {
        Some(Ok(building)) => Some(building),
        Some(Err(e)) => {
            snapshot.unreadable.push(("building".to_owned(), e.to_string()));
            None
        }
        None => None,
    };
    {
        let mut stmt = tx.prepare("SELECT id, json, cached_at FROM items ORDER BY id").map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .map_err(err)?;
        for row in rows {
            let (id, json, cached_at) = row.map_err(err)?;
            match serde_json::from_str::<Item>(&json) {
                Ok(item) => {
                    if let Ok(at) = cached_at.parse() {
                        snapshot.cached_at.insert(id, at);
                    }
                    snapshot.items.push(item);
                }
                Err(e) => snapshot.unreadable.push((id, e.to_string())),
            }
        }
    }
    snapshot.quarantined = read_quarantine(&tx).map_err(err)?;
    tx.commit().map_err(err)?;
    if !snapshot.unreadable.is_empty() {
        tracing::warn!(cache = %path.display(), unreadable = ?snapshot.unreadable, "cache rows left out of the snapshot");
    }
    Ok(snapshot)
}
