//! The PostgreSQL engine, for installations past one machine: several platform processes on
//! one database the operator already runs and backs up.
//!
//! Same tables and columns as the SQLite engine, and the same statements ([`super::sql`]
//! runs on both; the store suite checks it). Writes that move generations, items, people or
//! settings take one transaction-scoped advisory lock first, so they run one after another
//! across every replica exactly as they do behind SQLite's single writer, and a version
//! check never races a concurrent write; a board's own records (its heartbeat, its contact
//! time, its plays) and console sessions touch only their own rows and skip that lock. Reads
//! run as `REPEATABLE READ READ ONLY` snapshots, so the poll path never waits on a write.
//!
//! Every write that moves a building's manifests also sends `NOTIFY palier_hints` in its
//! transaction, delivered to every replica when (and only when) it commits: see
//! [`listen`] for the listening side. Only connections, value binding and row reading are
//! here.

mod listen;
mod schema;

use std::error::Error;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::sql::{Dialect, Engine, Fail, Mode, Outcome, Row, SqlStore, Transaction, Tx, Value};
use super::{HintRelay, StoreError};
use crate::ids::BuildingId;

pub use listen::{HINT_CHANNEL, HintListener};

/// Connections a replica keeps to the database at most (the listening one is apart).
const POOL_SIZE: usize = 16;

/// The key of the advisory lock every ordered write takes (any constant; "palier" in ASCII).
const WRITE_LOCK: i64 = 0x70616c696572;

/// The PostgreSQL engine.
struct PostgresEngine {
    pool: Pool,
    /// The URL without its password, for messages.
    shown: String,
    config: tokio_postgres::Config,
}

impl std::fmt::Debug for PostgresEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresEngine").field("database", &self.shown).finish()
    }
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Fail {
        if e.is_closed() || e.as_db_error().is_none() && e.code().is_none() {
            Fail::Unavailable(error_text(&e))
        } else {
            Fail::Backend(error_text(&e))
        }
    }
}

/// The server's own message when there is one (tokio-postgres's Display says only "db error").
pub(super) fn error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_owned(),
        },
        None => match Error::source(e) {
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

impl SqlStore {
    /// Connects to the PostgreSQL database at `url` (`postgres://user:password@host:port/name`,
    /// or `postgres:///name?host=/run/postgresql` for a local socket) and migrates it to the
    /// latest schema (once, whatever the number of replicas starting together).
    pub async fn postgres(url: &str) -> Result<SqlStore, StoreError> {
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
        let engine = PostgresEngine { pool, shown: shown(url), config };
        let operation = "migrating the database";
        let mut client = engine.client().await.map_err(|fail| fail.during(operation))?;
        schema::migrate(&mut client).await.map_err(|fail| fail.during(operation))?;
        Ok(SqlStore::new(Arc::new(engine)))
    }
}

impl PostgresEngine {
    async fn client(&self) -> Outcome<deadpool_postgres::Client> {
        self.pool.get().await.map_err(|e| {
            let detail = match &e {
                deadpool_postgres::PoolError::Backend(e) => error_text(e),
                other => other.to_string(),
            };
            Fail::Unavailable(format!("database {}: {detail}", self.shown))
        })
    }
}

#[async_trait]
impl Engine for PostgresEngine {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn schema_version(&self) -> usize {
        schema::MIGRATIONS.len()
    }

    fn relay_hints(&self, hints: &crate::hints::Hints) -> Option<HintRelay> {
        Some(HintRelay::new(HintListener::start(self.config.clone(), hints.clone())))
    }

    async fn begin(&self, mode: Mode) -> Outcome<Box<dyn Transaction>> {
        let client = self.client().await?;
        let begin = match mode {
            Mode::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            Mode::Write | Mode::Own => "BEGIN",
        };
        client.batch_execute(begin).await?;
        // From here on, dropping the transaction rolls it back.
        let transaction = PostgresTransaction { client: Some(client) };
        if mode == Mode::Write {
            transaction.execute("SELECT pg_advisory_xact_lock($1)", vec![Value::Integer(WRITE_LOCK)]).await?;
        }
        Ok(Box::new(transaction))
    }
}

/// A transaction on a pooled connection, begun by `BEGIN`.
struct PostgresTransaction {
    /// `None` once committed.
    client: Option<deadpool_postgres::Client>,
}

impl PostgresTransaction {
    fn client(&self) -> &deadpool_postgres::Client {
        self.client.as_ref().expect("a transaction is used only until it commits")
    }
}

impl Drop for PostgresTransaction {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        // Rolled back before the connection goes back to the pool; without a runtime to do
        // it on, the connection leaves the pool instead.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        drop(deadpool_postgres::Object::take(client));
                    }
                });
            }
            Err(_) => drop(deadpool_postgres::Object::take(client)),
        }
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

#[async_trait]
impl Tx for PostgresTransaction {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&self, sql: &str, values: Vec<Value>) -> Outcome<Vec<Row>> {
        let client = self.client();
        let statement = client.prepare_cached(sql).await?;
        let rows = client.query(&statement, &params(&values)).await?;
        rows.iter().map(|row| read_row(row, |index| format!("column {index}"))).collect()
    }

    async fn execute(&self, sql: &str, values: Vec<Value>) -> Outcome<u64> {
        let client = self.client();
        let statement = client.prepare_cached(sql).await?;
        Ok(client.execute(&statement, &params(&values)).await?)
    }

    async fn table(&self, name: &str) -> Outcome<(Vec<String>, Vec<Row>)> {
        let client = self.client();
        let statement = client.prepare(&format!("SELECT * FROM {name}")).await?;
        let columns: Vec<String> = statement.columns().iter().map(|c| c.name().to_owned()).collect();
        let rows = client.query(&statement, &[]).await?;
        let rows = rows
            .iter()
            .map(|row| read_row(row, |index| format!("{name}.{}", columns[index])))
            .collect::<Result<_, _>>()?;
        Ok((columns, rows))
    }

    async fn hint(&self, buildings: &[BuildingId], generation: u64, reason: &str) -> Outcome<()> {
        listen::notify(self, buildings, generation, reason).await
    }
}

#[async_trait]
impl Transaction for PostgresTransaction {
    async fn commit(mut self: Box<Self>) -> Outcome<()> {
        self.client().batch_execute("COMMIT").await?;
        // Committed: the connection goes back to the pool as it is.
        self.client = None;
        Ok(())
    }
}

/// A row as values, each read as its column's type.
fn read_row(row: &tokio_postgres::Row, column: impl Fn(usize) -> String) -> Outcome<Row> {
    let mut values = Vec::with_capacity(row.len());
    for (index, described) in row.columns().iter().enumerate() {
        let kind = described.type_();
        let value = match *kind {
            Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map(Value::Integer),
            Type::INT4 => row.try_get::<_, Option<i32>>(index)?.map(|n| Value::Integer(n.into())),
            Type::INT2 => row.try_get::<_, Option<i16>>(index)?.map(|n| Value::Integer(n.into())),
            Type::BOOL => row.try_get::<_, Option<bool>>(index)?.map(|b| Value::Integer(b.into())),
            Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
                row.try_get::<_, Option<String>>(index)?.map(Value::Text)
            }
            Type::VOID => None,
            _ => return Err(Fail::Corrupt(format!("{}: a column of type {kind}", column(index)))),
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(values)
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        let mismatch =
            || -> Box<dyn Error + Sync + Send> { format!("{self:?} for a parameter of type {ty}").into() };
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Value::Text(text) if <&str as ToSql>::accepts(ty) => text.as_str().to_sql(ty, out),
            Value::Texts(texts) if <Vec<String> as ToSql>::accepts(ty) => texts.to_sql(ty, out),
            _ => Err(mismatch()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}
