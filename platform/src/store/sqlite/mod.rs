//! The embedded store: one SQLite file in WAL mode, the default for one machine and tests.
//!
//! One writer connection takes every write, in one transaction each; reads take a connection
//! of their own from a small pool, so thousands of boards polling read side by side and never
//! wait behind a publish (WAL readers see the last commit). rusqlite blocks, so every call
//! runs on tokio's blocking pool.

mod areas;
mod devices;
mod dump;
mod feeds;
mod items;
mod people;
mod plays;
mod releases;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use jiff::Timestamp;
use palier_content::wire::{Heartbeat, PlayRecord};
use palier_content::{Building, MediaRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};

use super::{
    Admission, Area, AreaEntry, AuditEntry, BuildingContent, Change, Device, DeviceReport, EnrolmentCode,
    Feed, FeedItem, FeedStatus, Generation, ItemPlays, ItemQuery, ItemRecord, ItemWrite, Lift, LiftStatus,
    Moved, NewDevice, Person, Publisher, PublisherEntry, PublisherKind, Store, StoreError, WithdrawReason,
    Withdrawal,
};
use crate::ids::{AreaId, BuildingId, DeviceId, FeedId, ItemId, LiftId, MediaAddress, PersonId, PublisherId};
use crate::moderation::Moderation;

/// Read connections kept open for reuse.
const IDLE_READERS: usize = 8;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

/// What a closure run against the database can fail with.
enum Fail {
    Sql(rusqlite::Error),
    Corrupt(String),
    Store(StoreError),
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Fail {
        Fail::Sql(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

type Outcome<T> = Result<T, Fail>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a transaction open: rusqlite rolls back on
    // drop. The connection itself is still sound.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let writer = schema::open(path).map_err(|e| StoreError::Unavailable {
            operation: "opening the database",
            detail: e.to_string(),
        })?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn map<T>(operation: &'static str, outcome: Outcome<T>) -> Result<T, StoreError> {
        outcome.map_err(|fail| match fail {
            Fail::Sql(e) => StoreError::Backend { operation, detail: e.to_string() },
            Fail::Corrupt(detail) => StoreError::Corrupt { operation, detail },
            Fail::Store(e) => e,
        })
    }

    /// Runs `f` in one immediate write transaction, committed when it returns `Ok`.
    async fn write<T, F>(&self, operation: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Outcome<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let joined = tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await;
        match joined {
            Ok(outcome) => SqliteStore::map(operation, outcome),
            Err(e) => {
                Err(StoreError::Backend { operation, detail: format!("the database task failed: {e}") })
            }
        }
    }

    /// Runs `f` in one read transaction on a connection of the read pool.
    async fn read<T, F>(&self, operation: &'static str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Outcome<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let joined = tokio::task::spawn_blocking(move || {
            let pooled = lock(&inner.readers).pop();
            let mut conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&inner.path)?,
            };
            let outcome = (|| {
                let tx = conn.transaction()?;
                let value = f(&tx)?;
                tx.finish()?;
                Ok(value)
            })();
            let mut idle = lock(&inner.readers);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
            outcome
        })
        .await;
        match joined {
            Ok(outcome) => SqliteStore::map(operation, outcome),
            Err(e) => {
                Err(StoreError::Backend { operation, detail: format!("the database task failed: {e}") })
            }
        }
    }
}

fn open_reader(path: &Path) -> Outcome<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(palier_content::sqlite::BUSY_TIMEOUT)?;
    Ok(conn)
}

/// An instant as stored: Unix milliseconds.
fn millis(at: Timestamp) -> i64 {
    at.as_millisecond()
}

fn instant(ms: i64) -> Outcome<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| Fail::Corrupt(format!("instant {ms} ms: {e}")))
}

fn roles_from_json(json: &str) -> Outcome<Vec<String>> {
    serde_json::from_str(json).map_err(|e| Fail::Corrupt(format!("roles {json:?}: {e}")))
}

fn role(text: &str) -> Outcome<crate::rules::Role> {
    text.parse().map_err(Fail::Corrupt)
}

fn publisher_kind(text: &str) -> Outcome<PublisherKind> {
    PublisherKind::from_stored(text).map_err(Fail::Corrupt)
}

/// Draws the next value of the platform-wide generation sequence.
fn next_generation(tx: &Transaction<'_>) -> Outcome<u64> {
    let value: i64 = tx.query_row(
        "UPDATE meta SET generation = generation + 1 WHERE id = 1 RETURNING generation",
        [],
        |row| row.get(0),
    )?;
    Ok(value as u64)
}

/// Moves the manifests of these buildings to a new generation.
fn bump_buildings(tx: &Transaction<'_>, buildings: &[BuildingId], reason: &str) -> Outcome<Moved> {
    if buildings.is_empty() {
        return Ok(Moved::default());
    }
    let generation = next_generation(tx)?;
    for building in buildings {
        tx.execute(
            "UPDATE buildings SET generation = ?2, change_reason = ?3 WHERE id = ?1",
            params![building.as_str(), generation as i64, reason],
        )?;
    }
    Ok(Moved { generation: Some(generation), buildings: buildings.to_vec() })
}

fn building_exists(tx: &Transaction<'_>, id: &str) -> Outcome<bool> {
    Ok(tx.query_row("SELECT 1 FROM buildings WHERE id = ?1", [id], |_| Ok(())).optional()?.is_some())
}

fn require_building(tx: &Transaction<'_>, id: &BuildingId) -> Outcome<()> {
    if building_exists(tx, id.as_str())? { Ok(()) } else { Err(StoreError::not_found("building", id).into()) }
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

/// A stored publisher with its scope: named buildings, areas, and the buildings it reaches.
fn publisher(
    tx: &Transaction<'_>,
    id: String,
    name: String,
    role_name: &str,
    kind: PublisherKind,
) -> Outcome<Publisher> {
    let buildings: Vec<BuildingId> = {
        let mut stmt = tx.prepare_cached(
            "SELECT building_id FROM publisher_buildings WHERE publisher_id = ?1 ORDER BY building_id",
        )?;
        let rows = stmt.query_map([&id], |row| row.get::<_, String>(0))?;
        rows.map(|r| r.map(BuildingId::stored)).collect::<Result<_, _>>()?
    };
    let areas = areas::of_publisher(tx, &id)?;
    let mut reach = areas::reach(tx, &areas)?;
    reach.extend(buildings.iter().cloned());
    reach.sort();
    reach.dedup();
    Ok(Publisher { id: PublisherId::stored(id), name, role: role(role_name)?, buildings, areas, reach, kind })
}

/// Stores a new publisher's named buildings and areas.
fn add_publisher_scope(tx: &Transaction<'_>, publisher: &Publisher) -> Outcome<()> {
    for building in &publisher.buildings {
        require_building(tx, building)?;
        tx.execute(
            "INSERT OR IGNORE INTO publisher_buildings (publisher_id, building_id) VALUES (?1, ?2)",
            params![publisher.id.as_str(), building.as_str()],
        )?;
    }
    areas::set_publisher_areas(tx, publisher.id.as_str(), &publisher.areas)
}

#[async_trait]
impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.inner.path.display())
    }

    fn schema_version(&self) -> usize {
        schema::MIGRATIONS.len()
    }

    async fn export(&self) -> Result<crate::store::dump::Dump, StoreError> {
        self.read("exporting the database", |tx| dump::export(tx, schema::MIGRATIONS.len())).await
    }

    async fn import(&self, dump: &crate::store::dump::Dump) -> Result<(), StoreError> {
        let dump = dump.clone();
        self.write("importing an export", move |tx| dump::import(tx, &dump, schema::MIGRATIONS.len())).await
    }

    async fn add_building(&self, building: &Building, now: Timestamp) -> Result<(), StoreError> {
        let building = building.clone();
        self.write("adding a building", move |tx| {
            if building_exists(tx, &building.id)? {
                return Err(StoreError::exists("building", &building.id).into());
            }
            let generation = next_generation(tx)?;
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
            Ok(())
        })
        .await
    }

    async fn buildings(&self) -> Result<Vec<Building>, StoreError> {
        self.read("listing buildings", |tx| {
            let mut stmt =
                tx.prepare("SELECT id, name, address, time_zone, locale FROM buildings ORDER BY id")?;
            let rows = stmt.query_map([], building_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn building(&self, id: &BuildingId) -> Result<Option<Building>, StoreError> {
        let id = id.clone();
        self.read("reading a building", move |tx| {
            Ok(tx
                .query_row(
                    "SELECT id, name, address, time_zone, locale FROM buildings WHERE id = ?1",
                    [id.as_str()],
                    building_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn add_area(&self, area: &Area, now: Timestamp) -> Result<(), StoreError> {
        let area = area.clone();
        self.write("adding an area", move |tx| areas::add(tx, &area, now)).await
    }

    async fn area(&self, id: &AreaId) -> Result<Option<Area>, StoreError> {
        let id = id.clone();
        self.read("reading an area", move |tx| areas::find(tx, &id)).await
    }

    async fn areas(&self) -> Result<Vec<AreaEntry>, StoreError> {
        self.read("listing areas", areas::list).await
    }

    async fn add_to_area(
        &self,
        area: &AreaId,
        building: &BuildingId,
        change: &Change,
    ) -> Result<Moved, StoreError> {
        let (area, building, change) = (area.clone(), building.clone(), change.clone());
        self.write("putting a building in an area", move |tx| {
            areas::add_building(tx, &area, &building, &change)
        })
        .await
    }

    async fn area_reach(&self, ids: &[AreaId]) -> Result<Vec<BuildingId>, StoreError> {
        let ids = ids.to_vec();
        self.read("reading an area's buildings", move |tx| areas::reach(tx, &ids)).await
    }

    async fn add_publisher(
        &self,
        publisher: &Publisher,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (publisher, token_hash) = (publisher.clone(), token_hash.to_owned());
        self.write("adding a publisher", move |tx| {
            tx.execute(
                "INSERT INTO publishers (id, name, role, token_hash, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    publisher.id.as_str(),
                    publisher.name,
                    publisher.role.as_str(),
                    token_hash,
                    millis(now)
                ],
            )?;
            add_publisher_scope(tx, &publisher)
        })
        .await
    }

    async fn publisher_by_token(&self, token_hash: &str) -> Result<Option<Publisher>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read("authenticating a publisher", move |tx| {
            let found = tx
                .query_row(
                    "SELECT id, name, role FROM publishers
                     WHERE token_hash = ?1 AND revoked_ms IS NULL AND kind = 'token'",
                    [&token_hash],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?)),
                )
                .optional()?;
            let Some((id, name, role_name)) = found else { return Ok(None) };
            Ok(Some(publisher(tx, id, name, &role_name, PublisherKind::Token)?))
        })
        .await
    }

    async fn publishers(&self) -> Result<Vec<PublisherEntry>, StoreError> {
        self.read("listing publishers", |tx| {
            let rows: Vec<(String, String, String, Option<i64>, String)> = {
                let mut stmt = tx.prepare(
                    "SELECT id, name, role, revoked_ms, kind FROM publishers ORDER BY created_ms, id",
                )?;
                stmt.query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
                })?
                .collect::<Result<_, _>>()?
            };
            let mut entries = Vec::with_capacity(rows.len());
            for (id, name, role_name, revoked, kind) in rows {
                let publisher = publisher(tx, id, name, &role_name, publisher_kind(&kind)?)?;
                entries.push(PublisherEntry { publisher, revoked_at: revoked.map(instant).transpose()? });
            }
            Ok(entries)
        })
        .await
    }

    async fn revoke_publisher(&self, id: &PublisherId, now: Timestamp) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write("revoking a publisher", move |tx| {
            let state = tx
                .query_row("SELECT revoked_ms FROM publishers WHERE id = ?1", [id.as_str()], |row| {
                    row.get::<_, Option<i64>>(0)
                })
                .optional()?;
            match state {
                None => Err(StoreError::not_found("publisher", &id).into()),
                Some(Some(_)) => Ok(false),
                Some(None) => {
                    tx.execute(
                        "UPDATE publishers SET revoked_ms = ?2 WHERE id = ?1",
                        params![id.as_str(), millis(now)],
                    )?;
                    Ok(true)
                }
            }
        })
        .await
    }

    async fn item(&self, id: &ItemId) -> Result<Option<ItemRecord>, StoreError> {
        let id = id.clone();
        self.read("reading an item", move |tx| items::record(tx, &id)).await
    }

    async fn items(&self, query: &ItemQuery) -> Result<Vec<ItemRecord>, StoreError> {
        let query = query.clone();
        self.read("listing items", move |tx| items::list(tx, &query)).await
    }

    async fn write_item(&self, write: &ItemWrite, admit: Arc<Admission>) -> Result<Moved, StoreError> {
        let write = write.clone();
        self.write("storing an item", move |tx| items::write(tx, &write, &*admit)).await
    }

    async fn withdraw_items(
        &self,
        ids: &[ItemId],
        reason: WithdrawReason,
        change: &Change,
    ) -> Result<Withdrawal, StoreError> {
        let (ids, change) = (ids.to_vec(), change.clone());
        self.write("withdrawing items", move |tx| items::withdraw(tx, &ids, reason, &change)).await
    }

    async fn moderate(
        &self,
        id: &ItemId,
        version: u64,
        moderation: &Moderation,
        change: &Change,
    ) -> Result<Moved, StoreError> {
        let (id, moderation, change) = (id.clone(), moderation.clone(), change.clone());
        self.write("moderating an item", move |tx| items::moderate(tx, &id, version, &moderation, &change))
            .await
    }

    async fn audit(&self, limit: usize, before: Option<u64>) -> Result<Vec<AuditEntry>, StoreError> {
        self.read("reading the audit log", move |tx| people::audit(tx, limit, before)).await
    }

    async fn moderated_kinds(&self, building: &BuildingId) -> Result<Vec<palier_content::Kind>, StoreError> {
        let building = building.clone();
        self.read("reading a building's moderation", move |tx| people::moderated_kinds(tx, &building)).await
    }

    async fn set_moderated_kinds(
        &self,
        building: &BuildingId,
        kinds: &[palier_content::Kind],
    ) -> Result<(), StoreError> {
        let (building, kinds) = (building.clone(), kinds.to_vec());
        self.write("setting a building's moderation", move |tx| {
            people::set_moderated_kinds(tx, &building, &kinds)
        })
        .await
    }

    async fn add_lift(&self, lift: &Lift) -> Result<(), StoreError> {
        let lift = lift.clone();
        self.write("adding a lift", move |tx| people::add_lift(tx, &lift)).await
    }

    async fn lift(&self, id: &LiftId) -> Result<Option<Lift>, StoreError> {
        let id = id.clone();
        self.read("reading a lift", move |tx| people::lift(tx, &id)).await
    }

    async fn lifts(&self) -> Result<Vec<Lift>, StoreError> {
        self.read("listing lifts", people::lifts).await
    }

    async fn set_lift_status(&self, id: &LiftId, status: &LiftStatus) -> Result<(), StoreError> {
        let (id, status) = (id.clone(), status.clone());
        self.write("recording a lift's status", move |tx| people::set_lift_status(tx, &id, &status)).await
    }

    async fn add_feed(&self, feed: &Feed) -> Result<(), StoreError> {
        let feed = feed.clone();
        self.write("adding a feed", move |tx| feeds::add(tx, &feed)).await
    }

    async fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        self.read("listing feeds", |tx| feeds::list(tx, None)).await
    }

    async fn feed(&self, id: &FeedId) -> Result<Option<Feed>, StoreError> {
        let id = id.clone();
        self.read("reading a feed", move |tx| Ok(feeds::list(tx, Some(&id))?.pop())).await
    }

    async fn set_feed_status(&self, id: &FeedId, status: &FeedStatus) -> Result<(), StoreError> {
        let (id, status) = (id.clone(), status.clone());
        self.write("recording a feed's fetch", move |tx| feeds::set_status(tx, &id, &status)).await
    }

    async fn feed_items(&self, id: &FeedId) -> Result<Vec<FeedItem>, StoreError> {
        let id = id.clone();
        self.read("reading a feed's entries", move |tx| feeds::items(tx, &id)).await
    }

    async fn set_feed_items(&self, id: &FeedId, items: &[FeedItem]) -> Result<(), StoreError> {
        let (id, items) = (id.clone(), items.to_vec());
        self.write("recording a feed's entries", move |tx| feeds::set_items(tx, &id, &items)).await
    }

    async fn remove_feed(&self, id: &FeedId, now: Timestamp) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write("removing a feed", move |tx| feeds::remove(tx, &id, now)).await
    }

    async fn add_release(&self, release: &crate::releases::Release) -> Result<(), StoreError> {
        let release = release.clone();
        self.write("adding a release", move |tx| releases::add(tx, &release)).await
    }

    async fn releases(&self) -> Result<Vec<crate::releases::Release>, StoreError> {
        self.read("listing releases", releases::list).await
    }

    async fn assign_release(&self, assignment: &crate::releases::Assignment) -> Result<(), StoreError> {
        let assignment = assignment.clone();
        self.write("assigning a release", move |tx| releases::assign(tx, &assignment)).await
    }

    async fn unassign_release(&self, audience: &str) -> Result<bool, StoreError> {
        let audience = audience.to_owned();
        self.write("removing a release assignment", move |tx| releases::unassign(tx, &audience)).await
    }

    async fn release_assignments(&self) -> Result<Vec<crate::releases::Assignment>, StoreError> {
        self.read("listing release assignments", releases::assignments).await
    }

    async fn device_system(
        &self,
        device: &DeviceId,
    ) -> Result<Option<palier_content::system::SystemStatus>, StoreError> {
        let device = device.clone();
        self.read("reading a device's system", move |tx| releases::device_system(tx, &device)).await
    }

    async fn add_person(&self, person: &Person) -> Result<(), StoreError> {
        let person = person.clone();
        self.write("adding a person", move |tx| people::add(tx, &person)).await
    }

    async fn person(&self, id: &PublisherId) -> Result<Option<Person>, StoreError> {
        let id = id.clone();
        self.read("reading a person", move |tx| people::by_id(tx, &id)).await
    }

    async fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError> {
        let email = email.to_owned();
        self.read("finding a person by e-mail", move |tx| people::by_email(tx, &email)).await
    }

    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        self.read("listing people", people::all).await
    }

    async fn disable_person(&self, id: &PublisherId, now: Timestamp) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write("disabling a person", move |tx| people::disable(tx, &id, now)).await
    }

    async fn add_password_link(
        &self,
        token_hash: &str,
        person: &PublisherId,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        let (token_hash, person) = (token_hash.to_owned(), person.clone());
        self.write("adding a password link", move |tx| people::add_link(tx, &token_hash, &person, expires))
            .await
    }

    async fn password_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PublisherId>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read("reading a password link", move |tx| people::link(tx, &token_hash, now)).await
    }

    async fn use_password_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PublisherId>, StoreError> {
        let (token_hash, password_hash) = (token_hash.to_owned(), password_hash.to_owned());
        self.write("setting a password", move |tx| people::use_link(tx, &token_hash, &password_hash, now))
            .await
    }

    async fn session(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError> {
        let id = id.to_owned();
        self.read("reading a session", move |tx| people::session(tx, &id, now)).await
    }

    async fn save_session(&self, id: &str, record: &str, expires: Timestamp) -> Result<(), StoreError> {
        let (id, record) = (id.to_owned(), record.to_owned());
        self.write("saving a session", move |tx| people::save_session(tx, &id, &record, expires)).await
    }

    async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write("deleting a session", move |tx| {
            tx.execute("DELETE FROM sessions WHERE id = ?1", [&id])?;
            Ok(())
        })
        .await
    }

    async fn forget_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.write("forgetting expired sessions", move |tx| people::forget_expired(tx, now)).await
    }

    async fn live_items_of_person(
        &self,
        publisher: &PublisherId,
        person: &PersonId,
    ) -> Result<Vec<ItemId>, StoreError> {
        let (publisher, person) = (publisher.clone(), person.clone());
        self.read("listing a person's items", move |tx| items::of_person(tx, &publisher, &person)).await
    }

    async fn expired_items(&self, now: Timestamp) -> Result<Vec<ItemId>, StoreError> {
        self.read("listing expired items", move |tx| items::expired(tx, now)).await
    }

    async fn media(&self, address: &MediaAddress) -> Result<Option<MediaRef>, StoreError> {
        let address = address.clone();
        self.read("reading a media description", move |tx| items::media(tx, &address)).await
    }

    async fn add_media(&self, media: &MediaRef, now: Timestamp) -> Result<bool, StoreError> {
        let media = media.clone();
        self.write("recording a media file", move |tx| items::add_media(tx, &media, now)).await
    }

    async fn add_enrolment_code(&self, code: &EnrolmentCode) -> Result<(), StoreError> {
        let code = code.clone();
        self.write("adding an enrolment code", move |tx| devices::add_code(tx, &code)).await
    }

    async fn enrol(
        &self,
        code_hash: &str,
        new: &NewDevice,
        now: Timestamp,
    ) -> Result<Option<Device>, StoreError> {
        let (code_hash, new) = (code_hash.to_owned(), new.clone());
        self.write("enrolling a device", move |tx| devices::enrol(tx, &code_hash, &new, now)).await
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read("authenticating a device", move |tx| devices::by_token(tx, &token_hash)).await
    }

    async fn device_active(&self, id: &DeviceId) -> Result<bool, StoreError> {
        let id = id.clone();
        self.read("checking a device", move |tx| devices::active(tx, &id)).await
    }

    async fn touch_device(&self, id: &DeviceId, now: Timestamp) -> Result<(), StoreError> {
        let id = id.clone();
        self.write("recording a device's contact", move |tx| {
            tx.execute(
                "UPDATE devices SET last_seen_ms = ?2 WHERE id = ?1",
                params![id.as_str(), millis(now)],
            )?;
            Ok(())
        })
        .await
    }

    async fn device_reports(&self, building: Option<&BuildingId>) -> Result<Vec<DeviceReport>, StoreError> {
        let building = building.cloned();
        self.read("listing devices", move |tx| devices::reports(tx, building.as_ref())).await
    }

    async fn revoke_device(&self, id: &DeviceId, now: Timestamp) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write("revoking a device", move |tx| devices::revoke(tx, &id, now)).await
    }

    async fn record_heartbeat(
        &self,
        id: &DeviceId,
        heartbeat: &Heartbeat,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let id = id.clone();
        let json = serde_json::to_string(heartbeat).expect("heartbeats serialize");
        self.write("recording a heartbeat", move |tx| {
            tx.execute(
                "INSERT INTO heartbeats (device_id, received_ms, json) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id) DO UPDATE SET received_ms = excluded.received_ms, json = excluded.json",
                params![id.as_str(), millis(now), json],
            )?;
            Ok(())
        })
        .await
    }

    async fn building_generation(&self, building: &BuildingId) -> Result<Generation, StoreError> {
        let building = building.clone();
        self.read("reading a building's generation", move |tx| devices::generation(tx, &building)).await
    }

    async fn building_items(&self, building: &BuildingId) -> Result<BuildingContent, StoreError> {
        let building = building.clone();
        self.read("reading a building's items", move |tx| devices::content(tx, &building)).await
    }

    async fn record_plays(
        &self,
        device: &DeviceId,
        plays: &[PlayRecord],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (device, plays) = (device.clone(), plays.to_vec());
        self.write("recording plays", move |tx| plays::record(tx, &device, &plays, now)).await
    }

    async fn item_plays(&self, id: &ItemId, limit: usize) -> Result<ItemPlays, StoreError> {
        let id = id.clone();
        self.read("reading an item's plays", move |tx| plays::of_item(tx, &id, limit)).await
    }
}
