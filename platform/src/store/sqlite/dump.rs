//! Export and import of the SQLite store ([`crate::store::dump`]).

use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{Transaction, params_from_iter};

use super::{Fail, Outcome};
use crate::store::dump::{self, Dump, TABLES, Table, Value};

pub(super) fn export(tx: &Transaction<'_>, schema: usize) -> Outcome<Dump> {
    let generation: i64 = tx.query_row("SELECT generation FROM meta WHERE id = 1", [], |row| row.get(0))?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for name in TABLES {
        let mut stmt = tx.prepare(&format!("SELECT * FROM {name}"))?;
        let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let width = columns.len();
        let mut rows = Vec::new();
        let mut cursor = stmt.query([])?;
        while let Some(row) = cursor.next()? {
            let mut values = Vec::with_capacity(width);
            for (index, column) in columns.iter().enumerate() {
                values.push(match row.get_ref(index)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Integer(n),
                    ValueRef::Text(t) => Value::Text(
                        String::from_utf8(t.to_vec())
                            .map_err(|e| Fail::Corrupt(format!("{name}.{column}: {e}")))?,
                    ),
                    other => {
                        return Err(Fail::Corrupt(format!(
                            "{name}.{column}: a {:?} value, where only integers and text are stored",
                            other.data_type()
                        )));
                    }
                });
            }
            rows.push(values);
        }
        tables.push(Table { name: (*name).to_owned(), columns, rows });
    }
    Ok(Dump { schema, generation, tables })
}

pub(super) fn import(tx: &Transaction<'_>, dump: &Dump, schema: usize) -> Outcome<()> {
    if let Some(refused) = dump::refuse_schema(dump, schema) {
        return Err(Fail::Store(refused));
    }
    for name in TABLES {
        let count: i64 = tx.query_row(&format!("SELECT COUNT(*) FROM {name}"), [], |row| row.get(0))?;
        if count > 0 {
            return Err(Fail::Store(dump::refuse_not_empty(name, count)));
        }
    }
    tx.execute("UPDATE meta SET generation = ?1 WHERE id = 1", [dump.generation])?;
    for table in &dump.tables {
        let table = table.clone().in_reference_order();
        let columns = table.columns.join(", ");
        let marks = (1..=table.columns.len()).map(|n| format!("?{n}")).collect::<Vec<_>>().join(", ");
        let mut stmt = tx.prepare(&format!("INSERT INTO {} ({columns}) VALUES ({marks})", table.name))?;
        for row in &table.rows {
            stmt.execute(params_from_iter(row.iter().map(|value| match value {
                Value::Null => Sql::Null,
                Value::Integer(n) => Sql::Integer(*n),
                Value::Text(t) => Sql::Text(t.clone()),
            })))?;
        }
    }
    Ok(())
}
