//! The platform's storage: one module, one narrow interface.
//!
//! Everything the platform remembers (buildings, publishers, enrolment codes, devices, items,
//! media descriptions, plays, heartbeats, the platform-wide generation counter) goes through
//! the methods of [`Store`]. They take and return plain Rust types, never SQL, so a PostgreSQL
//! backend for large landlords can implement the same methods later. This implementation is
//! one SQLite file in WAL mode. Every write runs in one transaction: nothing partial is ever
//! stored. The methods block; async callers run them on the blocking thread pool.

mod devices;
mod items;
mod plays;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use palier_content::Building;
use palier_content::wire::Heartbeat;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::scope::Role;

pub use items::{NewItem, Published, Withdrawal, WriteMode};
pub use plays::{ItemPlays, MAX_LISTED_PLAYS, PlayRow, ScreenPlays};

/// Why a store operation failed. The HTTP layer maps the kinds to status codes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("database {path} is in journal mode {mode:?}, not WAL; is it on a network file system?")]
    NotWal { path: PathBuf, mode: String },
    #[error("database {path}: migration to schema version {version} failed: {source}")]
    Migration { path: PathBuf, version: usize, source: rusqlite::Error },
    #[error(
        "database {path} has schema version {found}, this build knows up to {supported}; update palier-platform"
    )]
    NewerSchema { path: PathBuf, found: usize, supported: usize },
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("database holds unreadable data: {0}")]
    Corrupt(String),
    /// A named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not touch this thing.
    #[error("{0}")]
    Forbidden(String),
    /// The write contradicts what is stored (an id taken, a stale version).
    #[error("{0}")]
    Conflict(String),
    /// The write would push a building's manifest past the protocol's limits.
    #[error("{0}")]
    ManifestFull(String),
}

/// A publisher as authenticated by its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Buildings it may publish to, sorted.
    pub buildings: Vec<String>,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub building_id: String,
    pub roles: Vec<String>,
    /// The generation drawn at enrolment; the manifest generation never falls below it.
    pub generation: u64,
    pub software_version: String,
    pub enrolled_at: Timestamp,
    pub last_seen: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// One line of `device list`: a device and its latest heartbeat.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceReport {
    pub device: Device,
    /// When the latest heartbeat arrived, and what it said.
    pub heartbeat: Option<(Timestamp, Heartbeat)>,
}

/// What an enrolment code turned into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub id: String,
    pub name: String,
    pub software_version: String,
    pub token_hash: String,
}

/// Everything a device's manifest holds, read at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestContent {
    pub generation: u64,
    pub building: Building,
    /// Items as stored (the device-facing JSON), filtered by the device's roles, by id.
    pub items: Vec<serde_json::Value>,
}

/// The platform's database.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<rusqlite::Connection>,
    path: PathBuf,
    limits: ManifestLimits,
}

/// The most a building's manifest may hold; publications past it are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestLimits {
    pub max_items: usize,
    pub max_bytes: usize,
}

impl Default for ManifestLimits {
    /// The protocol's limits (§10).
    fn default() -> ManifestLimits {
        ManifestLimits {
            max_items: palier_content::limits::MAX_ITEMS,
            max_bytes: palier_content::limits::MAX_MANIFEST_BYTES,
        }
    }
}

impl Store {
    /// Opens (creating and migrating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = schema::open(path)?;
        Ok(Store { conn: Mutex::new(conn), path: path.to_path_buf(), limits: ManifestLimits::default() })
    }

    /// Lower manifest limits, for tests that fill a building.
    pub fn with_manifest_limits(mut self, limits: ManifestLimits) -> Store {
        self.limits = limits;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, rusqlite::Connection> {
        // A panic while holding the lock cannot leave a transaction open: rusqlite rolls back
        // on drop. The connection itself is still sound.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a building; its id must be new.
    pub fn add_building(&self, building: &Building, now: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if building_exists(&tx, &building.id)? {
            return Err(StoreError::Conflict(format!("building {} already exists", building.id)));
        }
        let generation = next_generation(&tx)?;
        tx.execute(
            "INSERT INTO buildings (id, name, address, time_zone, locale, generation, change_reason, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'settings', ?7)",
            params![
                building.id,
                building.name,
                building.address,
                building.time_zone,
                building.locale,
                generation as i64,
                millis(now)
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn buildings(&self) -> Result<Vec<Building>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, name, address, time_zone, locale FROM buildings ORDER BY id")?;
        let rows = stmt.query_map([], building_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn building(&self, id: &str) -> Result<Option<Building>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT id, name, address, time_zone, locale FROM buildings WHERE id = ?1",
                [id],
                building_from_row,
            )
            .optional()?)
    }

    /// Adds a publisher scoped to existing buildings; only the token's hash is stored.
    pub fn add_publisher(
        &self,
        publisher: &Publisher,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for building in &publisher.buildings {
            require_building(&tx, building)?;
        }
        tx.execute(
            "INSERT INTO publishers (id, name, role, token_hash, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![publisher.id, publisher.name, publisher.role.as_str(), token_hash, millis(now)],
        )?;
        for building in &publisher.buildings {
            tx.execute(
                "INSERT OR IGNORE INTO publisher_buildings (publisher_id, building_id) VALUES (?1, ?2)",
                params![publisher.id, building],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The publisher holding this token, unless unknown or revoked.
    pub fn publisher_by_token(&self, token_hash: &str) -> Result<Option<Publisher>, StoreError> {
        let conn = self.conn();
        let found = conn
            .query_row(
                "SELECT id, name, role FROM publishers WHERE token_hash = ?1 AND revoked_ms IS NULL",
                [token_hash],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?)),
            )
            .optional()?;
        let Some((id, name, role)) = found else { return Ok(None) };
        let role = role.parse::<Role>().map_err(StoreError::Corrupt)?;
        let mut stmt = conn.prepare(
            "SELECT building_id FROM publisher_buildings WHERE publisher_id = ?1 ORDER BY building_id",
        )?;
        let buildings = stmt.query_map([&id], |row| row.get(0))?.collect::<Result<_, _>>()?;
        Ok(Some(Publisher { id, name, role, buildings }))
    }
}

impl Store {
    /// Every publisher with its buildings, and when it was revoked if it was.
    pub fn publishers(&self) -> Result<Vec<(Publisher, Option<Timestamp>)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT p.id, p.name, p.role, p.revoked_ms, COALESCE(group_concat(pb.building_id, ' '), '')
             FROM publishers p LEFT JOIN publisher_buildings pb ON pb.publisher_id = p.id
             GROUP BY p.id ORDER BY p.created_ms, p.id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?;
        let mut publishers = Vec::new();
        for row in rows {
            let (id, name, role, revoked, buildings) = row?;
            let mut buildings: Vec<String> = buildings.split_whitespace().map(str::to_owned).collect();
            buildings.sort();
            let role = role.parse::<Role>().map_err(StoreError::Corrupt)?;
            publishers.push((Publisher { id, name, role, buildings }, revoked.map(instant).transpose()?));
        }
        Ok(publishers)
    }

    /// Revokes a publisher's token at once. False if it was already revoked.
    pub fn revoke_publisher(&self, id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let conn = self.conn();
        let changed = conn.execute(
            "UPDATE publishers SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
            params![id, millis(now)],
        )?;
        if changed == 1 {
            return Ok(true);
        }
        let exists = conn.query_row("SELECT 1 FROM publishers WHERE id = ?1", [id], |_| Ok(())).optional()?;
        match exists {
            Some(()) => Ok(false),
            None => Err(StoreError::NotFound(format!("publisher {id} does not exist"))),
        }
    }
}

/// Draws the next value of the platform-wide generation sequence.
fn next_generation(tx: &Transaction<'_>) -> Result<u64, StoreError> {
    let value: i64 = tx.query_row(
        "UPDATE meta SET generation = generation + 1 WHERE id = 1 RETURNING generation",
        [],
        |row| row.get(0),
    )?;
    Ok(value as u64)
}

/// Moves the manifests of these buildings to a new generation; returns it.
fn bump_buildings(tx: &Transaction<'_>, buildings: &[String], reason: &str) -> Result<u64, StoreError> {
    let generation = next_generation(tx)?;
    for building in buildings {
        tx.execute(
            "UPDATE buildings SET generation = ?2, change_reason = ?3 WHERE id = ?1",
            params![building, generation as i64, reason],
        )?;
    }
    Ok(generation)
}

fn building_exists(tx: &Transaction<'_>, id: &str) -> Result<bool, StoreError> {
    Ok(tx.query_row("SELECT 1 FROM buildings WHERE id = ?1", [id], |_| Ok(())).optional()?.is_some())
}

fn require_building(tx: &Transaction<'_>, id: &str) -> Result<(), StoreError> {
    if building_exists(tx, id)? {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!(
            "building {id} does not exist; `palier-platform building list` shows them"
        )))
    }
}

fn building_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Building> {
    Ok(Building {
        id: row.get(0)?,
        name: row.get(1)?,
        address: row.get(2)?,
        time_zone: row.get(3)?,
        locale: row.get(4)?,
    })
}

/// An instant as stored: Unix milliseconds.
fn millis(at: Timestamp) -> i64 {
    at.as_millisecond()
}

fn instant(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(format!("instant {ms} ms: {e}")))
}

fn roles_from_json(json: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("roles {json:?}: {e}")))
}
