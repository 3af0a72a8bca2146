//! The embedded engine: one SQLite file in WAL mode, the default for one machine and tests.
//!
//! One writer connection takes every write, in one transaction each; reads take a connection
//! of their own from a small pool, so thousands of boards polling read side by side and never
//! wait behind a publish (WAL readers see the last commit). rusqlite blocks, so each
//! transaction lives on a thread of tokio's blocking pool, holding its connection, and runs
//! the statements the store's async code sends it one by one; dropped without a commit, it
//! rolls back. Only SQL text, value binding and row reading are here: what the statements
//! mean is in [`super::sql`].

mod schema;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};

use async_trait::async_trait;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::oneshot;

use super::StoreError;
use super::sql::{Dialect, Engine, Fail, Mode, Outcome, Row, SqlStore, Transaction, Tx, Value};

/// Read connections kept open for reuse.
const IDLE_READERS: usize = 8;

/// The SQLite engine.
#[derive(Debug)]
pub(super) struct SqliteEngine {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

impl SqlStore {
    /// Opens (creating and migrating if needed) the SQLite database file at `path`.
    pub fn sqlite(path: &Path) -> Result<SqlStore, StoreError> {
        let writer = schema::open(path).map_err(|e| StoreError::Unavailable {
            operation: "opening the database",
            detail: e.to_string(),
        })?;
        let engine = SqliteEngine {
            path: path.to_path_buf(),
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
        };
        Ok(SqlStore::new(Arc::new(engine)))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a transaction open: rusqlite rolls back on
    // drop. The connection itself is still sound.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn backend(e: rusqlite::Error) -> Fail {
    Fail::Backend(e.to_string())
}

/// What the store's code asks of a transaction's thread.
enum Request {
    Query { sql: String, params: Vec<Value>, reply: oneshot::Sender<Outcome<Vec<Row>>> },
    Execute { sql: String, params: Vec<Value>, reply: oneshot::Sender<Outcome<u64>> },
    Table { name: String, reply: oneshot::Sender<Outcome<(Vec<String>, Vec<Row>)>> },
    Commit { reply: oneshot::Sender<Outcome<()>> },
}

/// A transaction: the sending end of its thread's requests.
struct SqliteTransaction {
    requests: mpsc::Sender<Request>,
    /// A read has nothing to commit: it ends when its requests stop.
    read_only: bool,
}

#[async_trait]
impl Engine for SqliteEngine {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn schema_version(&self) -> usize {
        schema::MIGRATIONS.len()
    }

    async fn begin(&self, mode: Mode) -> Outcome<Box<dyn Transaction>> {
        // The transaction begins on its thread; the first request waits for it, and an error
        // in beginning is that request's answer. No round trip is spent on beginning.
        let (requests, inbox) = mpsc::channel();
        let (path, writer, readers) =
            (self.path.clone(), Arc::clone(&self.writer), Arc::clone(&self.readers));
        tokio::task::spawn_blocking(move || match mode {
            Mode::Read => {
                let pooled = lock(&readers).pop();
                let mut conn = match pooled.map(Ok).unwrap_or_else(|| open_reader(&path)) {
                    Ok(conn) => conn,
                    Err(fail) => return refuse(&inbox, &fail),
                };
                serve(&mut conn, TransactionBehavior::Deferred, &inbox);
                let mut idle = lock(&readers);
                if idle.len() < IDLE_READERS {
                    idle.push(conn);
                }
            }
            Mode::Write | Mode::Own => {
                let mut conn = lock(&writer);
                serve(&mut conn, TransactionBehavior::Immediate, &inbox);
            }
        });
        Ok(Box::new(SqliteTransaction { requests, read_only: mode == Mode::Read }))
    }
}

fn open_reader(path: &Path) -> Outcome<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
    conn.busy_timeout(palier_content::sqlite::BUSY_TIMEOUT).map_err(backend)?;
    Ok(conn)
}

/// Runs one transaction on this thread: begins it, answers requests until the commit, and
/// rolls back if the requests stop first (a read-only transaction ends so).
fn serve(conn: &mut Connection, behavior: TransactionBehavior, inbox: &mpsc::Receiver<Request>) {
    let tx = match conn.transaction_with_behavior(behavior) {
        Ok(tx) => tx,
        Err(e) => return refuse(inbox, &backend(e)),
    };
    while let Ok(request) = inbox.recv() {
        match request {
            Request::Query { sql, params, reply } => {
                let _ = reply.send(rows(&tx, &sql, &params));
            }
            Request::Execute { sql, params, reply } => {
                let outcome = tx
                    .prepare_cached(&placeholders(&sql))
                    .and_then(|mut statement| statement.execute(rusqlite::params_from_iter(params.iter())))
                    .map(|changed| changed as u64)
                    .map_err(backend);
                let _ = reply.send(outcome);
            }
            Request::Table { name, reply } => {
                let _ = reply.send(table(&tx, &name));
            }
            Request::Commit { reply } => {
                let _ = reply.send(tx.commit().map_err(backend));
                return;
            }
        }
    }
    // The store's code went away without committing: `tx` rolls back as it drops.
}

/// A transaction that could not begin: every request gets why.
fn refuse(inbox: &mpsc::Receiver<Request>, fail: &Fail) {
    let why = || match fail {
        Fail::Unavailable(text) => Fail::Unavailable(text.clone()),
        Fail::Corrupt(text) => Fail::Corrupt(text.clone()),
        Fail::Backend(text) => Fail::Backend(text.clone()),
        Fail::Store(e) => Fail::Store(e.clone()),
    };
    while let Ok(request) = inbox.recv() {
        // A reply nobody waits for any more is dropped.
        match request {
            Request::Query { reply, .. } => drop(reply.send(Err(why()))),
            Request::Execute { reply, .. } => drop(reply.send(Err(why()))),
            Request::Table { reply, .. } => drop(reply.send(Err(why()))),
            Request::Commit { reply } => drop(reply.send(Err(why()))),
        }
    }
}

fn rows(tx: &rusqlite::Transaction<'_>, sql: &str, params: &[Value]) -> Outcome<Vec<Row>> {
    let mut statement = tx.prepare_cached(&placeholders(sql)).map_err(backend)?;
    let width = statement.column_count();
    let mut cursor = statement.query(rusqlite::params_from_iter(params.iter())).map_err(backend)?;
    let mut rows = Vec::new();
    while let Some(row) = cursor.next().map_err(backend)? {
        rows.push(read_row(row, width, |index| format!("column {index}"))?);
    }
    Ok(rows)
}

fn table(tx: &rusqlite::Transaction<'_>, name: &str) -> Outcome<(Vec<String>, Vec<Row>)> {
    let mut statement = tx.prepare(&format!("SELECT * FROM {name}")).map_err(backend)?;
    let columns: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
    let mut cursor = statement.query([]).map_err(backend)?;
    let mut rows = Vec::new();
    while let Some(row) = cursor.next().map_err(backend)? {
        rows.push(read_row(row, columns.len(), |index| format!("{name}.{}", columns[index]))?);
    }
    Ok((columns, rows))
}

fn read_row(row: &rusqlite::Row<'_>, width: usize, column: impl Fn(usize) -> String) -> Outcome<Row> {
    let mut values = Vec::with_capacity(width);
    for index in 0..width {
        values.push(match row.get_ref(index).map_err(backend)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Text(text) => Value::Text(
                String::from_utf8(text.to_vec())
                    .map_err(|e| Fail::Corrupt(format!("{}: {e}", column(index))))?,
            ),
            other => {
                return Err(Fail::Corrupt(format!(
                    "{}: a {:?} value, where only integers and text are stored",
                    column(index),
                    other.data_type()
                )));
            }
        });
    }
    Ok(values)
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Integer(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            // A list goes in as a JSON array, read back by `json_each` (Dialect::text_set).
            Value::Texts(texts) => {
                ToSqlOutput::from(serde_json::to_string(texts).expect("strings serialize"))
            }
        })
    }
}

/// The statement with SQLite's numbered parameters: `$1` becomes `?1` (outside quotes).
fn placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '$' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

impl SqliteTransaction {
    async fn ask<T>(&self, request: impl FnOnce(oneshot::Sender<Outcome<T>>) -> Request) -> Outcome<T> {
        let ended = || Fail::Backend("the database task ended during the transaction".into());
        let (reply, answer) = oneshot::channel();
        self.requests.send(request(reply)).map_err(|_| ended())?;
        answer.await.map_err(|_| ended())?
    }
}

#[async_trait]
impl Tx for SqliteTransaction {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&self, sql: &str, params: Vec<Value>) -> Outcome<Vec<Row>> {
        self.ask(|reply| Request::Query { sql: sql.to_owned(), params, reply }).await
    }

    async fn execute(&self, sql: &str, params: Vec<Value>) -> Outcome<u64> {
        self.ask(|reply| Request::Execute { sql: sql.to_owned(), params, reply }).await
    }

    async fn table(&self, name: &str) -> Outcome<(Vec<String>, Vec<Row>)> {
        self.ask(|reply| Request::Table { name: name.to_owned(), reply }).await
    }
}

#[async_trait]
impl Transaction for SqliteTransaction {
    async fn commit(self: Box<Self>) -> Outcome<()> {
        if self.read_only {
            return Ok(());
        }
        self.ask(|reply| Request::Commit { reply }).await
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;
    use crate::store::{SqlStore, Store, StoreError};

    #[test]
    fn numbered_parameters_become_sqlite_ones_outside_quotes() {
        let cases = [
            ("SELECT 1", "SELECT 1"),
            ("UPDATE t SET a = $2 WHERE id = $1", "UPDATE t SET a = ?2 WHERE id = ?1"),
            ("SELECT '$1', $1", "SELECT '$1', ?1"),
            ("SELECT $x, $10", "SELECT $x, ?10"),
        ];
        for (sql, expected) in cases {
            assert_eq!(placeholders(sql), expected, "{sql}");
        }
    }

    #[tokio::test]
    async fn a_read_that_cannot_begin_answers_its_first_statement_with_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("platform.sqlite");
        let store = SqlStore::sqlite(&path).unwrap();
        // No reader is pooled yet, and the file is gone: the read's connection cannot open.
        std::fs::remove_file(&path).unwrap();
        let refused = store.buildings().await.unwrap_err();
        assert!(
            matches!(&refused, StoreError::Backend { operation: "listing buildings", detail } if detail.contains("unable to open")),
            "{refused:?}"
        );
        // Writes still go through the open writer connection.
        store.add_building(&palier_content::sample::building(), jiff::Timestamp::now()).await.unwrap();
    }
}
