//! Export and import of the PostgreSQL store ([`crate::store::dump`]).

use tokio_postgres::types::{ToSql, Type};

use super::{Fail, Outcome, Tx, get, query, query_one};
use crate::store::dump::{self, Dump, TABLES, Table, Value};

pub(super) async fn export(tx: &Tx<'_>, schema: usize) -> Outcome<Dump> {
    let generation: i64 = get(&query_one(tx, "SELECT generation FROM meta WHERE id = 1", &[]).await?, 0)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for name in TABLES {
        let statement = tx.prepare(&format!("SELECT * FROM {name}")).await?;
        let columns: Vec<String> = statement.columns().iter().map(|c| c.name().to_owned()).collect();
        let types: Vec<Type> = statement.columns().iter().map(|c| c.type_().clone()).collect();
        let mut rows = Vec::new();
        for row in tx.query(&statement, &[]).await? {
            let mut values = Vec::with_capacity(types.len());
            for (index, kind) in types.iter().enumerate() {
                let value = if *kind == Type::INT8 {
                    get::<Option<i64>>(&row, index)?.map(Value::Integer)
                } else if *kind == Type::TEXT {
                    get::<Option<String>>(&row, index)?.map(Value::Text)
                } else {
                    return Err(Fail::Corrupt(format!("{name}.{}: a column of type {kind}", columns[index])));
                };
                values.push(value.unwrap_or(Value::Null));
            }
            rows.push(values);
        }
        tables.push(Table { name: (*name).to_owned(), columns, rows });
    }
    Ok(Dump { schema, generation, tables })
}

pub(super) async fn import(tx: &Tx<'_>, dump: &Dump, schema: usize) -> Outcome<()> {
    if let Some(refused) = dump::refuse_schema(dump, schema) {
        return Err(Fail::Store(refused));
    }
    for name in TABLES {
        let count: i64 = get(&query_one(tx, &format!("SELECT COUNT(*) FROM {name}"), &[]).await?, 0)?;
        if count > 0 {
            return Err(Fail::Store(dump::refuse_not_empty(name, count)));
        }
    }
    query(tx, "UPDATE meta SET generation = $1 WHERE id = 1", &[&dump.generation]).await?;
    for table in &dump.tables {
        let table = table.clone().in_reference_order();
        let columns = table.columns.join(", ");
        let marks = (1..=table.columns.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        let statement =
            tx.prepare(&format!("INSERT INTO {} ({columns}) VALUES ({marks})", table.name)).await?;
        let types: Vec<Type> = statement.params().to_vec();
        for row in &table.rows {
            // Each value as the column's own type, nulls included (PostgreSQL checks both).
            let values: Vec<Box<dyn ToSql + Sync + Send>> = row
                .iter()
                .zip(&types)
                .map(|(value, kind)| -> Box<dyn ToSql + Sync + Send> {
                    match (value, *kind == Type::INT8) {
                        (Value::Integer(n), _) => Box::new(*n),
                        (Value::Text(t), _) => Box::new(t.clone()),
                        (Value::Null, true) => Box::new(None::<i64>),
                        (Value::Null, false) => Box::new(None::<String>),
                    }
                })
                .collect();
            let params: Vec<&(dyn ToSql + Sync)> =
                values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
            tx.execute(&statement, &params).await?;
        }
    }
    // Audit lines keep their numbers; the next one follows the last imported.
    let next_audit =
        "SELECT setval(pg_get_serial_sequence('audit', 'seq'), COALESCE(MAX(seq), 0) + 1, false) FROM audit";
    query(tx, next_audit, &[]).await?;
    Ok(())
}
