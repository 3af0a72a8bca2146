//! What a store write and read *mean*, written once for every engine.
//!
//! Each engine ([`super::sqlite`], [`super::postgres`]) gives a [`Transaction`] that runs
//! SQL text with values ([`Value`]) and hands rows back as values; everything above that —
//! the version check of a replace, an item's reach, the admission check, the audit lines,
//! the generation bump and its hint — lives in this module's files, which both engines run
//! unchanged. SQL is written once with `$1`-style parameters in the dialect both engines
//! share; the few spots where they differ ask the transaction's [`Dialect`].
//!
//! [`SqlStore`] is the one [`super::Store`] implementation, over any engine.

pub(super) mod areas;
pub(super) mod devices;
pub(super) mod dump;
pub(super) mod feeds;
pub(super) mod items;
pub(super) mod people;
pub(super) mod plays;
pub(super) mod releases;
mod store;

use std::fmt;

use async_trait::async_trait;
use jiff::Timestamp;
use palier_content::Building;

use super::{Change, Moved, Publisher, PublisherKind, StoreError};
use crate::ids::{BuildingId, ItemId, PublisherId};

pub use store::SqlStore;

/// A value bound to a statement or read from a row: the schema holds only integers, text
/// and nulls; `Texts` is a list parameter (see [`Dialect::text_set`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Integer(i64),
    Text(String),
    Texts(Vec<String>),
}

/// One row of a result.
pub type Row = Vec<Value>;

/// The SQL spellings the engines do not share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A subquery yielding each text of the list parameter `param` (`$1`) as a row, with
    /// the collation of the schema's text columns.
    pub fn text_set(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => format!("SELECT value FROM json_each({param})"),
            Dialect::Postgres => format!("SELECT unnest({param}::text[]) COLLATE \"C\""),
        }
    }

    /// A text parameter as the seed of a recursive query over text columns.
    pub fn text_seed(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => param.to_owned(),
            Dialect::Postgres => format!("{param}::text COLLATE \"C\""),
        }
    }
}

/// How a transaction runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A snapshot that cannot write.
    Read,
    /// Ordered after every other ordered write (SQLite's one writer, PostgreSQL's advisory
    /// lock), so a version check never races a concurrent write.
    Write,
    /// A write to rows nobody else writes (a board's own records, a session).
    Own,
}

/// What a statement run against the database can fail with; an engine maps its driver's
/// errors into the first two, so nothing above names a driver's type.
#[derive(Debug)]
pub enum Fail {
    /// The database could not be reached.
    Unavailable(String),
    /// The database refused or failed the statement.
    Backend(String),
    /// A stored value this build cannot read.
    Corrupt(String),
    /// A refusal decided by the store's own rules.
    Store(StoreError),
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

impl Fail {
    /// The store error of a failure during `operation`.
    pub fn during(self, operation: &'static str) -> StoreError {
        match self {
            Fail::Unavailable(detail) => StoreError::Unavailable { operation, detail },
            Fail::Backend(detail) => StoreError::Backend { operation, detail },
            Fail::Corrupt(detail) => StoreError::Corrupt { operation, detail },
            Fail::Store(e) => e,
        }
    }
}

pub type Outcome<T> = Result<T, Fail>;

/// One transaction of an engine.
#[async_trait]
pub trait Tx: Send + Sync {
    fn dialect(&self) -> Dialect;
    /// Runs a query; its rows.
    async fn query(&self, sql: &str, params: Vec<Value>) -> Outcome<Vec<Row>>;
    /// Runs a statement; how many rows it changed.
    async fn execute(&self, sql: &str, params: Vec<Value>) -> Outcome<u64>;
    /// Every row of a table with the names of its columns (export).
    async fn table(&self, name: &str) -> Outcome<(Vec<String>, Vec<Row>)>;
    /// Tells other processes sharing the database that `buildings` moved to `generation`,
    /// when (and only if) this transaction commits. Nothing for an engine one process owns.
    async fn hint(&self, _buildings: &[BuildingId], _generation: u64, _reason: &str) -> Outcome<()> {
        Ok(())
    }
}

/// A transaction that can be committed; dropped without it, it rolls back.
#[async_trait]
pub trait Transaction: Tx {
    async fn commit(self: Box<Self>) -> Outcome<()>;
}

/// A database engine: where transactions come from.
#[async_trait]
pub trait Engine: Send + Sync + fmt::Debug {
    /// Where the data lives, for logs and errors (`sqlite:/var/lib/…`).
    fn describe(&self) -> String;
    fn schema_version(&self) -> usize;
    async fn begin(&self, mode: Mode) -> Outcome<Box<dyn Transaction>>;
    /// Starts relaying the hints other processes send (see [`super::Store::relay_hints`]).
    fn relay_hints(&self, _hints: &crate::hints::Hints) -> Option<super::HintRelay> {
        None
    }
}

/// A statement parameter, as the functions of this module write them: `&id.as_str()`,
/// `&millis(now)`, `&optional_text`.
pub trait ToValue: Sync {
    fn to_value(&self) -> Value;
}

pub type Param<'a> = &'a dyn ToValue;

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToValue for &str {
    fn to_value(&self) -> Value {
        Value::Text((*self).to_owned())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Integer(*self)
    }
}
impl ToValue for Vec<String> {
    fn to_value(&self) -> Value {
        Value::Texts(self.clone())
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// A column value read back.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self, String>;
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<String, String> {
        match value {
            Value::Text(text) => Ok(text.clone()),
            other => Err(format!("text expected, found {other:?}")),
        }
    }
}
impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<i64, String> {
        match value {
            Value::Integer(n) => Ok(*n),
            other => Err(format!("an integer expected, found {other:?}")),
        }
    }
}
impl FromValue for bool {
    fn from_value(value: &Value) -> Result<bool, String> {
        i64::from_value(value).map(|n| n != 0)
    }
}
impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Value, String> {
        Ok(value.clone())
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Option<T>, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

fn values(params: &[Param<'_>]) -> Vec<Value> {
    params.iter().map(|p| p.to_value()).collect()
}

/// Every row of a query.
pub async fn query(tx: &dyn Tx, sql: &str, params: &[Param<'_>]) -> Outcome<Vec<Row>> {
    tx.query(sql, values(params)).await
}

/// At most one row.
pub async fn query_opt(tx: &dyn Tx, sql: &str, params: &[Param<'_>]) -> Outcome<Option<Row>> {
    Ok(tx.query(sql, values(params)).await?.into_iter().next())
}

/// Exactly one row.
pub async fn query_one(tx: &dyn Tx, sql: &str, params: &[Param<'_>]) -> Outcome<Row> {
    query_opt(tx, sql, params).await?.ok_or_else(|| Fail::Backend(format!("no row from {sql}")))
}

/// A statement that returns no rows; the number of rows it changed.
pub async fn execute(tx: &dyn Tx, sql: &str, params: &[Param<'_>]) -> Outcome<u64> {
    tx.execute(sql, values(params)).await
}

/// Column `index` of a row.
pub fn get<T: FromValue>(row: &Row, index: usize) -> Outcome<T> {
    let value = row.get(index).ok_or_else(|| Fail::Backend(format!("no column {index} in the row")))?;
    T::from_value(value).map_err(|e| Fail::Corrupt(format!("column {index}: {e}")))
}

/// An instant as stored: Unix milliseconds.
pub fn millis(at: Timestamp) -> i64 {
    at.as_millisecond()
}

pub fn instant(ms: i64) -> Outcome<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| Fail::Corrupt(format!("instant {ms} ms: {e}")))
}

pub fn roles_from_json(json: &str) -> Outcome<Vec<String>> {
    serde_json::from_str(json).map_err(|e| Fail::Corrupt(format!("roles {json:?}: {e}")))
}

fn role(text: &str) -> Outcome<crate::rules::Role> {
    text.parse().map_err(Fail::Corrupt)
}

pub fn publisher_kind(text: &str) -> Outcome<PublisherKind> {
    PublisherKind::from_stored(text).map_err(Fail::Corrupt)
}

/// Ids as a list parameter.
pub fn texts<T: AsRef<str>>(ids: &[T]) -> Vec<String> {
    ids.iter().map(|id| id.as_ref().to_owned()).collect()
}

/// Appends one line to the audit log.
pub async fn audit(
    tx: &dyn Tx,
    change: &Change,
    action: &str,
    item: Option<&ItemId>,
    detail: &str,
) -> Outcome<()> {
    execute(
        tx,
        "INSERT INTO audit (at_ms, actor_id, actor_name, via, action, item_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &millis(change.at),
            &change.actor.as_ref().map(PublisherId::as_str),
            &change.actor_name,
            &change.via.as_str(),
            &action,
            &item.map(ItemId::as_str),
            &detail,
        ],
    )
    .await?;
    Ok(())
}

/// Draws the next value of the platform-wide generation sequence.
pub async fn next_generation(tx: &dyn Tx) -> Outcome<u64> {
    let row =
        query_one(tx, "UPDATE meta SET generation = generation + 1 WHERE id = 1 RETURNING generation", &[])
            .await?;
    Ok(get::<i64>(&row, 0)? as u64)
}

/// Moves the manifests of these buildings to a new generation, and tells the other
/// processes sharing the database when the transaction commits.
pub async fn bump_buildings(tx: &dyn Tx, buildings: &[BuildingId], reason: &str) -> Outcome<Moved> {
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
    tx.hint(buildings, generation, reason).await?;
    Ok(Moved { generation: Some(generation), buildings: buildings.to_vec() })
}

pub async fn building_exists(tx: &dyn Tx, id: &str) -> Outcome<bool> {
    Ok(query_opt(tx, "SELECT 1 FROM buildings WHERE id = $1", &[&id]).await?.is_some())
}

pub async fn require_building(tx: &dyn Tx, id: &BuildingId) -> Outcome<()> {
    if building_exists(tx, id.as_str()).await? {
        Ok(())
    } else {
        Err(StoreError::not_found("building", id).into())
    }
}

/// A building from `id, name, address, time_zone, locale`.
pub fn building_from_row(row: &Row) -> Outcome<Building> {
    Ok(Building {
        id: get(row, 0)?,
        name: get(row, 1)?,
        address: get(row, 2)?,
        time_zone: get(row, 3)?,
        locale: get(row, 4)?,
    })
}

/// A stored publisher with its scope: named buildings, areas, and the buildings it reaches.
pub async fn publisher(
    tx: &dyn Tx,
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

/// « bld-a, area-nord » (or « every building » for a publisher given none) for audit lines.
pub fn scope(publisher: &Publisher) -> String {
    let targets = super::Targets { buildings: publisher.buildings.clone(), areas: publisher.areas.clone() };
    if targets.is_empty() { "every building".to_owned() } else { targets.describe() }
}

/// Stores a new publisher's named buildings and areas.
pub async fn add_publisher_scope(tx: &dyn Tx, publisher: &Publisher) -> Outcome<()> {
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
