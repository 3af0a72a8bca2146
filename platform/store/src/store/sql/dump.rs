//! Export and import of a store ([`crate::store::dump`]), the same for every engine.

use super::{Dialect, Fail, Outcome, Tx, Value, execute, get, query_one};
use crate::store::dump::{self, Dump, TABLES, Table};

fn to_dump(value: Value) -> Result<dump::Value, String> {
    match value {
        Value::Null => Ok(dump::Value::Null),
        Value::Integer(n) => Ok(dump::Value::Integer(n)),
        Value::Text(t) => Ok(dump::Value::Text(t)),
        Value::Texts(_) => Err("a list, where only integers and text are stored".to_owned()),
    }
}

fn from_dump(value: &dump::Value) -> Value {
    match value {
        dump::Value::Null => Value::Null,
        dump::Value::Integer(n) => Value::Integer(*n),
        dump::Value::Text(t) => Value::Text(t.clone()),
    }
}

pub(in crate::store) async fn export(tx: &dyn Tx, schema: usize) -> Outcome<Dump> {
    let generation: i64 = get(&query_one(tx, "SELECT generation FROM meta WHERE id = 1", &[]).await?, 0)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for name in TABLES {
        let (columns, stored) = tx.table(name).await?;
        let mut rows = Vec::with_capacity(stored.len());
        for row in stored {
            let values = row
                .into_iter()
                .zip(&columns)
                .map(|(value, column)| {
                    to_dump(value).map_err(|e| Fail::Corrupt(format!("{name}.{column}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(values);
        }
        tables.push(Table { name: (*name).to_owned(), columns, rows });
    }
    Ok(Dump { schema, generation, tables })
}

pub(in crate::store) async fn import(tx: &dyn Tx, dump: &Dump, schema: usize) -> Outcome<()> {
    if let Some(refused) = dump::refuse_schema(dump, schema) {
        return Err(Fail::Store(refused));
    }
    for name in TABLES {
        let count: i64 = get(&query_one(tx, &format!("SELECT COUNT(*) FROM {name}"), &[]).await?, 0)?;
        if count > 0 {
            return Err(Fail::Store(dump::refuse_not_empty(name, count)));
        }
    }
    execute(tx, "UPDATE meta SET generation = $1 WHERE id = 1", &[&dump.generation]).await?;
    for table in &dump.tables {
        let table = table.clone().in_reference_order();
        let columns = table.columns.join(", ");
        let marks = (1..=table.columns.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        let sql = format!("INSERT INTO {} ({columns}) VALUES ({marks})", table.name);
        for row in &table.rows {
            tx.execute(&sql, row.iter().map(from_dump).collect()).await?;
        }
    }
    if tx.dialect() == Dialect::Postgres {
        // Audit lines keep their numbers; the next one follows the last imported (SQLite's
        // INTEGER PRIMARY KEY does so by itself).
        let next_audit = "SELECT setval(pg_get_serial_sequence('audit', 'seq'), COALESCE(MAX(seq), 0) + 1, false) FROM audit";
        tx.query(next_audit, Vec::new()).await?;
    }
    Ok(())
}
