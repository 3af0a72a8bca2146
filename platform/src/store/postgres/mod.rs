//! The PostgreSQL store, for installations past one machine: several platform processes on
//! one database the operator already runs and backs up.
//!
//! Same tables, same queries and same rules as [`super::SqliteStore`] (the store suite runs
//! against both). Writes that move generations, items, people or settings take one
//! transaction-scoped advisory lock first, so they run one after another across every
//! replica exactly as they do behind SQLite's single writer, and a version check never races
//! a concurrent write; a board's own records (its heartbeat, its contact time, its plays)
//! and console sessions touch only their own rows and skip that lock. Reads run as
//! `REPEATABLE READ READ ONLY` snapshots, so the poll path never waits on a write.
//!
//! Every write that moves a building's manifests also sends `NOTIFY palier_hints` in its
//! transaction, delivered to every replica when (and only when) it commits: see
//! [`listen`] for the listening side.

mod areas;
mod devices;
mod dump;
mod feeds;
mod items;
mod listen;
mod people;
mod plays;
mod releases;
mod schema;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use async_trait::async_trait;
use jiff::Timestamp;
use palier_content::wire::{Heartbeat, PlayRecord};
use palier_content::{Building, MediaRef};

use super::{
    Admission, Area, AreaEntry, AuditEntry, BuildingContent, Change, Device, DeviceReport, EnrolmentCode,
    Feed, FeedItem, FeedStatus, Generation, ItemPlays, ItemQuery, ItemRecord, ItemWrite, Lift, LiftStatus,
    Moved, NewDevice, Person, Publisher, PublisherEntry, PublisherKind, Store, StoreError, WithdrawReason,
    Withdrawal,
};
use crate::ids::{AreaId, BuildingId, DeviceId, FeedId, ItemId, LiftId, MediaAddress, PersonId, PublisherId};
use crate::moderation::Moderation;
use std::sync::Arc;

pub use listen::{HINT_CHANNEL, HintListener};

/// Connections a replica keeps to the database at most (the listening one is apart).
const POOL_SIZE: usize = 16;

/// The key of the advisory lock every ordered write takes (any constant; "palier" in ASCII).
const WRITE_LOCK: i64 = 0x70616c696572;

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// The URL without its password, for messages.
    shown: String,
    config: tokio_postgres::Config,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("database", &self.shown).finish()
    }
}

/// What a query run against the database can fail with.
pub(super) enum Fail {
    Sql(tokio_postgres::Error),
    Corrupt(String),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Fail {
        Fail::Sql(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

pub(super) type Outcome<T> = Result<T, Fail>;

/// The transaction every query helper takes.
pub(super) type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// A statement parameter.
pub(super) type Param<'a> = &'a (dyn ToSql + Sync);

/// How a transaction runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A snapshot that cannot write.
    Read,
    /// Ordered after every other ordered write (the advisory lock).
    Write,
    /// A write to rows nobody else writes (a board's own records, a session).
    Own,
}

/// `in_transaction!(store, mode, "operation", |tx| body)`: runs `body` (an expression that
/// may `.await` and `?`, of type `Outcome<T>`) in one transaction, committed when it is `Ok`
/// and rolled back otherwise.
macro_rules! in_transaction {
    ($store:expr, $mode:expr, $operation:expr, |$tx:ident| $body:expr) => {{
        let operation: &'static str = $operation;
        let mut client = $store.client(operation).await?;
        let transaction = begin(&mut client, $mode).await.map_err(|e| map(operation, e))?;
        let outcome: Outcome<_> = {
            let $tx = &transaction;
            async { $body }.await
        };
        match outcome {
            Ok(value) => {
                transaction.commit().await.map_err(|e| map(operation, Fail::Sql(e)))?;
                Ok(value)
            }
            Err(fail) => Err(map(operation, fail)),
        }
    }};
}

async fn begin(client: &mut deadpool_postgres::Client, mode: Mode) -> Outcome<Tx<'_>> {
    let transaction = match mode {
        Mode::Read => {
            client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?
        }
        Mode::Write | Mode::Own => client.transaction().await?,
    };
    if mode == Mode::Write {
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK]).await?;
    }
    Ok(transaction)
}

fn map(operation: &'static str, fail: Fail) -> StoreError {
    match fail {
        Fail::Sql(e) => {
            if e.is_closed() || e.as_db_error().is_none() && e.code().is_none() {
                StoreError::Unavailable { operation, detail: error_text(&e) }
            } else {
                StoreError::Backend { operation, detail: error_text(&e) }
            }
        }
        Fail::Corrupt(detail) => StoreError::Corrupt { operation, detail },
        Fail::Store(e) => e,
    }
}

/// The server's own message when there is one (tokio-postgres's Display says only "db error").
pub(super) fn error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_owned(),
        },
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

/// The URL as it may be shown: without a password.
fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/name`, or
    /// `postgres:///name?host=/run/postgresql` for a local socket) and migrates it to the
    /// latest schema (once, whatever the number of replicas starting together).
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let config: tokio_postgres::Config =
            url.parse().map_err(|e: tokio_postgres::Error| StoreError::Unavailable {
                operation: "reading database_url",
                detail: format!("{}: {e}", shown(url)),
            })?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager).max_size(POOL_SIZE).build().map_err(|e| {
            StoreError::Unavailable { operation: "connecting to the database", detail: e.to_string() }
        })?;
        let store = PostgresStore { pool, shown: shown(url), config };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations this build knows and the database has not run; returns the
    /// schema version.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let operation = "migrating the database";
        let mut client = self.client(operation).await?;
        schema::migrate(&mut client).await.map_err(|e| map(operation, e))
    }

    async fn client(&self, operation: &'static str) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool.get().await.map_err(|e| StoreError::Unavailable {
            operation,
            detail: format!("database {}: {}", self.shown, pool_error(&e)),
        })
    }
}

fn pool_error(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => error_text(e),
        other => other.to_string(),
    }
}

/// Runs a query through the connection's statement cache.
pub(super) async fn query(tx: &Tx<'_>, sql: &str, params: &[Param<'_>]) -> Outcome<Vec<Row>> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query(&statement, params).await?)
}

/// At most one row.
pub(super) async fn query_opt(tx: &Tx<'_>, sql: &str, params: &[Param<'_>]) -> Outcome<Option<Row>> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_opt(&statement, params).await?)
}

/// Exactly one row.
pub(super) async fn query_one(tx: &Tx<'_>, sql: &str, params: &[Param<'_>]) -> Outcome<Row> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.query_one(&statement, params).await?)
}

/// A statement that returns no rows; the number of rows it changed.
pub(super) async fn execute(tx: &Tx<'_>, sql: &str, params: &[Param<'_>]) -> Outcome<u64> {
    let statement = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&statement, params).await?)
}

/// Column `index` of a row.
pub(super) fn get<'r, T: tokio_postgres::types::FromSql<'r>>(row: &'r Row, index: usize) -> Outcome<T> {
    Ok(row.try_get(index)?)
}

/// An instant as stored: Unix milliseconds.
pub(super) fn millis(at: Timestamp) -> i64 {
    at.as_millisecond()
}

pub(super) fn instant(ms: i64) -> Outcome<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| Fail::Corrupt(format!("instant {ms} ms: {e}")))
}

pub(super) fn roles_from_json(json: &str) -> Outcome<Vec<String>> {
    serde_json::from_str(json).map_err(|e| Fail::Corrupt(format!("roles {json:?}: {e}")))
}

fn role(text: &str) -> Outcome<crate::rules::Role> {
    text.parse().map_err(Fail::Corrupt)
}

fn publisher_kind(text: &str) -> Outcome<PublisherKind> {
    PublisherKind::from_stored(text).map_err(Fail::Corrupt)
}

/// Ids as a `text[]` parameter.
pub(super) fn texts<T: AsRef<str>>(ids: &[T]) -> Vec<String> {
    ids.iter().map(|id| id.as_ref().to_owned()).collect()
}

/// Draws the next value of the platform-wide generation sequence.
pub(super) async fn next_generation(tx: &Tx<'_>) -> Outcome<u64> {
    let row =
        query_one(tx, "UPDATE meta SET generation = generation + 1 WHERE id = 1 RETURNING generation", &[])
            .await?;
    Ok(get::<i64>(&row, 0)? as u64)
}

/// Moves the manifests of these buildings to a new generation, and tells every replica when
/// the transaction commits.
pub(super) async fn bump_buildings(tx: &Tx<'_>, buildings: &[BuildingId], reason: &str) -> Outcome<Moved> {
    if buildings.is_empty() {
        return Ok(Moved::default());
    }
    let generation = next_generation(tx).await?;
    for building in buildings {
        execute(
            tx,
            "UPDATE buildings SET generation = $2, change_reason = $3 WHERE id = $1",
            &[&building.as_str(), &(generation as i64), &reason],
        )
        .await?;
    }
    listen::notify(tx, buildings, generation, reason).await?;
    Ok(Moved { generation: Some(generation), buildings: buildings.to_vec() })
}

async fn building_exists(tx: &Tx<'_>, id: &str) -> Outcome<bool> {
    Ok(query_opt(tx, "SELECT 1 FROM buildings WHERE id = $1", &[&id]).await?.is_some())
}

pub(super) async fn require_building(tx: &Tx<'_>, id: &BuildingId) -> Outcome<()> {
    if building_exists(tx, id.as_str()).await? {
        Ok(())
    } else {
        Err(StoreError::not_found("building", id).into())
    }
}

fn building_from_row(row: &Row) -> Outcome<Building> {
    Ok(Building {
        id: get(row, 0)?,
        name: get(row, 1)?,
        address: get(row, 2)?,
        time_zone: get(row, 3)?,
        locale: get(row, 4)?,
    })
}

/// A stored publisher with its scope: named buildings, areas, and the buildings it reaches.
async fn publisher(
    tx: &Tx<'_>,
    id: String,
    name: String,
    role_name: &str,
    kind: PublisherKind,
) -> Outcome<Publisher> {
    let rows = query(
        tx,
        "SELECT building_id FROM publisher_buildings WHERE publisher_id = $1 ORDER BY building_id",
        &[&id],
    )
    .await?;
    let buildings: Vec<BuildingId> =
        rows.iter().map(|row| get::<String>(row, 0).map(BuildingId::stored)).collect::<Result<_, _>>()?;
    let areas = areas::of_publisher(tx, &id).await?;
    let mut reach = areas::reach(tx, &areas).await?;
    reach.extend(buildings.iter().cloned());
    reach.sort();
    reach.dedup();
    Ok(Publisher { id: PublisherId::stored(id), name, role: role(role_name)?, buildings, areas, reach, kind })
}

/// Stores a new publisher's named buildings and areas.
async fn add_publisher_scope(tx: &Tx<'_>, publisher: &Publisher) -> Outcome<()> {
    for building in &publisher.buildings {
        require_building(tx, building).await?;
        execute(
            tx,
            "INSERT INTO publisher_buildings (publisher_id, building_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&publisher.id.as_str(), &building.as_str()],
        )
        .await?;
    }
    areas::set_publisher_areas(tx, publisher.id.as_str(), &publisher.areas).await
}

#[async_trait]
impl Store for PostgresStore {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn schema_version(&self) -> usize {
        schema::MIGRATIONS.len()
    }

    fn relay_hints(&self, hints: &crate::hints::Hints) -> Option<HintListener> {
        Some(HintListener::start(self.config.clone(), hints.clone()))
    }

    async fn export(&self) -> Result<crate::store::dump::Dump, StoreError> {
        in_transaction!(self, Mode::Read, "exporting the database", |tx| dump::export(
            tx,
            schema::MIGRATIONS.len()
        )
        .await)
    }

    async fn import(&self, dump: &crate::store::dump::Dump) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "importing an export", |tx| {
            dump::import(tx, dump, schema::MIGRATIONS.len()).await
        })
    }

    async fn add_building(&self, building: &Building, now: Timestamp) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a building", |tx| {
            if building_exists(tx, &building.id).await? {
                return Err(StoreError::exists("building", &building.id).into());
            }
            let generation = next_generation(tx).await? as i64;
            execute(
                tx,
                "INSERT INTO buildings (id, name, address, time_zone, locale, generation, change_reason, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, 'settings', $7)",
                &[&building.id, &building.name, &building.address, &building.time_zone, &building.locale, &generation, &millis(now)],
            )
            .await?;
            Ok(())
        })
    }

    async fn buildings(&self) -> Result<Vec<Building>, StoreError> {
        in_transaction!(self, Mode::Read, "listing buildings", |tx| {
            let rows =
                query(tx, "SELECT id, name, address, time_zone, locale FROM buildings ORDER BY id", &[])
                    .await?;
            rows.iter().map(building_from_row).collect()
        })
    }

    async fn building(&self, id: &BuildingId) -> Result<Option<Building>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a building", |tx| {
            let row = query_opt(
                tx,
                "SELECT id, name, address, time_zone, locale FROM buildings WHERE id = $1",
                &[&id.as_str()],
            )
            .await?;
            row.as_ref().map(building_from_row).transpose()
        })
    }

    async fn add_area(&self, area: &Area, now: Timestamp) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding an area", |tx| areas::add(tx, area, now).await)
    }

    async fn area(&self, id: &AreaId) -> Result<Option<Area>, StoreError> {
        in_transaction!(self, Mode::Read, "reading an area", |tx| areas::find(tx, id).await)
    }

    async fn areas(&self) -> Result<Vec<AreaEntry>, StoreError> {
        in_transaction!(self, Mode::Read, "listing areas", |tx| areas::list(tx).await)
    }

    async fn add_to_area(
        &self,
        area: &AreaId,
        building: &BuildingId,
        change: &Change,
    ) -> Result<Moved, StoreError> {
        in_transaction!(self, Mode::Write, "putting a building in an area", |tx| {
            areas::add_building(tx, area, building, change).await
        })
    }

    async fn area_reach(&self, ids: &[AreaId]) -> Result<Vec<BuildingId>, StoreError> {
        in_transaction!(self, Mode::Read, "reading an area's buildings", |tx| areas::reach(tx, ids).await)
    }

    async fn add_publisher(
        &self,
        publisher: &Publisher,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a publisher", |tx| {
            execute(
                tx,
                "INSERT INTO publishers (id, name, role, token_hash, created_ms) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &publisher.id.as_str(),
                    &publisher.name,
                    &publisher.role.as_str(),
                    &token_hash,
                    &millis(now),
                ],
            )
            .await?;
            add_publisher_scope(tx, publisher).await
        })
    }

    async fn publisher_by_token(&self, token_hash: &str) -> Result<Option<Publisher>, StoreError> {
        in_transaction!(self, Mode::Read, "authenticating a publisher", |tx| {
            let found = query_opt(
                tx,
                "SELECT id, name, role FROM publishers
                 WHERE token_hash = $1 AND revoked_ms IS NULL AND kind = 'token'",
                &[&token_hash],
            )
            .await?;
            let Some(row) = found else { return Ok(None) };
            let (id, name, role_name): (String, String, String) =
                (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
            Ok(Some(publisher(tx, id, name, &role_name, PublisherKind::Token).await?))
        })
    }

    async fn publishers(&self) -> Result<Vec<PublisherEntry>, StoreError> {
        in_transaction!(self, Mode::Read, "listing publishers", |tx| {
            let rows = query(
                tx,
                "SELECT id, name, role, revoked_ms, kind FROM publishers ORDER BY created_ms, id",
                &[],
            )
            .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in &rows {
                let (id, name, role_name): (String, String, String) =
                    (get(row, 0)?, get(row, 1)?, get(row, 2)?);
                let (revoked, kind): (Option<i64>, String) = (get(row, 3)?, get(row, 4)?);
                let publisher = publisher(tx, id, name, &role_name, publisher_kind(&kind)?).await?;
                entries.push(PublisherEntry { publisher, revoked_at: revoked.map(instant).transpose()? });
            }
            Ok(entries)
        })
    }

    async fn revoke_publisher(&self, id: &PublisherId, now: Timestamp) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "revoking a publisher", |tx| {
            let state =
                query_opt(tx, "SELECT revoked_ms FROM publishers WHERE id = $1", &[&id.as_str()]).await?;
            match state {
                None => Err(StoreError::not_found("publisher", id).into()),
                Some(row) if get::<Option<i64>>(&row, 0)?.is_some() => Ok(false),
                Some(_) => {
                    execute(
                        tx,
                        "UPDATE publishers SET revoked_ms = $2 WHERE id = $1",
                        &[&id.as_str(), &millis(now)],
                    )
                    .await?;
                    Ok(true)
                }
            }
        })
    }

    async fn item(&self, id: &ItemId) -> Result<Option<ItemRecord>, StoreError> {
        in_transaction!(self, Mode::Read, "reading an item", |tx| items::record(tx, id).await)
    }

    async fn items(&self, query: &ItemQuery) -> Result<Vec<ItemRecord>, StoreError> {
        in_transaction!(self, Mode::Read, "listing items", |tx| items::list(tx, query).await)
    }

    async fn write_item(&self, write: &ItemWrite, admit: Arc<Admission>) -> Result<Moved, StoreError> {
        in_transaction!(self, Mode::Write, "storing an item", |tx| items::write(tx, write, &*admit).await)
    }

    async fn withdraw_items(
        &self,
        ids: &[ItemId],
        reason: WithdrawReason,
        change: &Change,
    ) -> Result<Withdrawal, StoreError> {
        in_transaction!(self, Mode::Write, "withdrawing items", |tx| items::withdraw(tx, ids, reason, change)
            .await)
    }

    async fn moderate(
        &self,
        id: &ItemId,
        version: u64,
        moderation: &Moderation,
        change: &Change,
    ) -> Result<Moved, StoreError> {
        in_transaction!(self, Mode::Write, "moderating an item", |tx| items::moderate(
            tx, id, version, moderation, change
        )
        .await)
    }

    async fn audit(&self, limit: usize, before: Option<u64>) -> Result<Vec<AuditEntry>, StoreError> {
        in_transaction!(self, Mode::Read, "reading the audit log", |tx| people::audit(tx, limit, before)
            .await)
    }

    async fn moderated_kinds(&self, building: &BuildingId) -> Result<Vec<palier_content::Kind>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a building's moderation", |tx| people::moderated_kinds(
            tx, building
        )
        .await)
    }

    async fn set_moderated_kinds(
        &self,
        building: &BuildingId,
        kinds: &[palier_content::Kind],
    ) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "setting a building's moderation", |tx| {
            people::set_moderated_kinds(tx, building, kinds).await
        })
    }

    async fn add_lift(&self, lift: &Lift) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a lift", |tx| people::add_lift(tx, lift).await)
    }

    async fn lift(&self, id: &LiftId) -> Result<Option<Lift>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a lift", |tx| people::lift(tx, id).await)
    }

    async fn lifts(&self) -> Result<Vec<Lift>, StoreError> {
        in_transaction!(self, Mode::Read, "listing lifts", |tx| people::lifts(tx).await)
    }

    async fn set_lift_status(&self, id: &LiftId, status: &LiftStatus) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "recording a lift's status", |tx| people::set_lift_status(
            tx, id, status
        )
        .await)
    }

    async fn add_feed(&self, feed: &Feed) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a feed", |tx| feeds::add(tx, feed).await)
    }

    async fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        in_transaction!(self, Mode::Read, "listing feeds", |tx| feeds::list(tx, None).await)
    }

    async fn feed(&self, id: &FeedId) -> Result<Option<Feed>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a feed", |tx| Ok(feeds::list(tx, Some(id)).await?.pop()))
    }

    async fn set_feed_status(&self, id: &FeedId, status: &FeedStatus) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "recording a feed's fetch", |tx| feeds::set_status(tx, id, status)
            .await)
    }

    async fn feed_items(&self, id: &FeedId) -> Result<Vec<FeedItem>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a feed's entries", |tx| feeds::items(tx, id).await)
    }

    async fn set_feed_items(&self, id: &FeedId, items: &[FeedItem]) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "recording a feed's entries", |tx| feeds::set_items(tx, id, items)
            .await)
    }

    async fn remove_feed(&self, id: &FeedId, now: Timestamp) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "removing a feed", |tx| feeds::remove(tx, id, now).await)
    }

    async fn add_release(&self, release: &crate::releases::Release) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a release", |tx| releases::add(tx, release).await)
    }

    async fn releases(&self) -> Result<Vec<crate::releases::Release>, StoreError> {
        in_transaction!(self, Mode::Read, "listing releases", |tx| releases::list(tx).await)
    }

    async fn assign_release(&self, assignment: &crate::releases::Assignment) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "assigning a release", |tx| releases::assign(tx, assignment).await)
    }

    async fn unassign_release(&self, audience: &str) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "removing a release assignment", |tx| releases::unassign(
            tx, audience
        )
        .await)
    }

    async fn release_assignments(&self) -> Result<Vec<crate::releases::Assignment>, StoreError> {
        in_transaction!(self, Mode::Read, "listing release assignments", |tx| releases::assignments(tx).await)
    }

    async fn device_system(
        &self,
        device: &DeviceId,
    ) -> Result<Option<palier_content::system::SystemStatus>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a device's system", |tx| releases::device_system(
            tx, device
        )
        .await)
    }

    async fn add_person(&self, person: &Person) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a person", |tx| people::add(tx, person).await)
    }

    async fn person(&self, id: &PublisherId) -> Result<Option<Person>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a person", |tx| people::by_id(tx, id).await)
    }

    async fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError> {
        in_transaction!(self, Mode::Read, "finding a person by e-mail", |tx| people::by_email(tx, email)
            .await)
    }

    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        in_transaction!(self, Mode::Read, "listing people", |tx| people::all(tx).await)
    }

    async fn disable_person(&self, id: &PublisherId, now: Timestamp) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "disabling a person", |tx| people::disable(tx, id, now).await)
    }

    async fn add_password_link(
        &self,
        token_hash: &str,
        person: &PublisherId,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a password link", |tx| people::add_link(
            tx, token_hash, person, expires
        )
        .await)
    }

    async fn password_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PublisherId>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a password link", |tx| people::link(tx, token_hash, now)
            .await)
    }

    async fn use_password_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PublisherId>, StoreError> {
        in_transaction!(self, Mode::Write, "setting a password", |tx| people::use_link(
            tx,
            token_hash,
            password_hash,
            now
        )
        .await)
    }

    async fn session(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a session", |tx| people::session(tx, id, now).await)
    }

    async fn save_session(&self, id: &str, record: &str, expires: Timestamp) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Own, "saving a session", |tx| people::save_session(
            tx, id, record, expires
        )
        .await)
    }

    async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Own, "deleting a session", |tx| {
            execute(tx, "DELETE FROM sessions WHERE id = $1", &[&id]).await?;
            Ok(())
        })
    }

    async fn forget_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        in_transaction!(self, Mode::Own, "forgetting expired sessions", |tx| people::forget_expired(tx, now)
            .await)
    }

    async fn live_items_of_person(
        &self,
        publisher: &PublisherId,
        person: &PersonId,
    ) -> Result<Vec<ItemId>, StoreError> {
        in_transaction!(self, Mode::Read, "listing a person's items", |tx| items::of_person(
            tx, publisher, person
        )
        .await)
    }

    async fn expired_items(&self, now: Timestamp) -> Result<Vec<ItemId>, StoreError> {
        in_transaction!(self, Mode::Read, "listing expired items", |tx| items::expired(tx, now).await)
    }

    async fn media(&self, address: &MediaAddress) -> Result<Option<MediaRef>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a media description", |tx| items::media(tx, address).await)
    }

    async fn add_media(&self, media: &MediaRef, now: Timestamp) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "recording a media file", |tx| items::add_media(tx, media, now)
            .await)
    }

    async fn add_enrolment_code(&self, code: &EnrolmentCode) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding an enrolment code", |tx| devices::add_code(tx, code).await)
    }

    async fn enrol(
        &self,
        code_hash: &str,
        new: &NewDevice,
        now: Timestamp,
    ) -> Result<Option<Device>, StoreError> {
        in_transaction!(self, Mode::Write, "enrolling a device", |tx| devices::enrol(tx, code_hash, new, now)
            .await)
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        in_transaction!(self, Mode::Read, "authenticating a device", |tx| devices::by_token(tx, token_hash)
            .await)
    }

    async fn device_active(&self, id: &DeviceId) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Read, "checking a device", |tx| devices::active(tx, id).await)
    }

    async fn touch_device(&self, id: &DeviceId, now: Timestamp) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Own, "recording a device's contact", |tx| {
            execute(tx, "UPDATE devices SET last_seen_ms = $2 WHERE id = $1", &[&id.as_str(), &millis(now)])
                .await?;
            Ok(())
        })
    }

    async fn device_reports(&self, building: Option<&BuildingId>) -> Result<Vec<DeviceReport>, StoreError> {
        in_transaction!(self, Mode::Read, "listing devices", |tx| devices::reports(tx, building).await)
    }

    async fn revoke_device(&self, id: &DeviceId, now: Timestamp) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "revoking a device", |tx| devices::revoke(tx, id, now).await)
    }

    async fn record_heartbeat(
        &self,
        id: &DeviceId,
        heartbeat: &Heartbeat,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(heartbeat).expect("heartbeats serialize");
        in_transaction!(self, Mode::Own, "recording a heartbeat", |tx| {
            execute(
                tx,
                "INSERT INTO heartbeats (device_id, received_ms, json) VALUES ($1, $2, $3)
                 ON CONFLICT (device_id) DO UPDATE SET received_ms = excluded.received_ms, json = excluded.json",
                &[&id.as_str(), &millis(now), &json],
            )
            .await?;
            Ok(())
        })
    }

    async fn building_generation(&self, building: &BuildingId) -> Result<Generation, StoreError> {
        in_transaction!(self, Mode::Read, "reading a building's generation", |tx| devices::generation(
            tx, building
        )
        .await)
    }

    async fn building_items(&self, building: &BuildingId) -> Result<BuildingContent, StoreError> {
        in_transaction!(self, Mode::Read, "reading a building's items", |tx| devices::content(tx, building)
            .await)
    }

    async fn record_plays(
        &self,
        device: &DeviceId,
        plays: &[PlayRecord],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Own, "recording plays", |tx| plays::record(tx, device, plays, now).await)
    }

    async fn item_plays(&self, id: &ItemId, limit: usize) -> Result<ItemPlays, StoreError> {
        in_transaction!(self, Mode::Read, "reading an item's plays", |tx| plays::of_item(tx, id, limit).await)
    }
}
