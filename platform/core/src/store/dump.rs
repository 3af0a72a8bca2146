//! `palier-platform export` and `import`: an installation's whole database as JSON Lines,
//! read from one store and written into another (SQLite to PostgreSQL, or back).
//!
//! Both stores keep the same tables with the same columns, whose values are only integers,
//! text and nulls, so a dump is rows by column name and nothing engine-specific:
//!
//! ```text
//! {"format":"palier-export","schema":6,"exported_at":"…"}
//! {"table":"buildings","columns":["id","name",…],"rows":1}
//! ["bld-a","Les Tilleuls",…]
//! …
//! ```
//!
//! Tables come in an order where every row's references come before it (areas within
//! areas sorted parents first), so the target's foreign keys hold at each insert. Import
//! goes into an empty, migrated store only, in one transaction: it never merges.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// The first line of a dump.
pub const FORMAT: &str = "palier-export";

/// Every table, references first. A store's tables are exactly these (a test checks it).
pub const TABLES: &[&str] = &[
    "buildings",
    "publishers",
    "publisher_buildings",
    "enrolment_codes",
    "devices",
    "items",
    "item_buildings",
    "media",
    "plays",
    "heartbeats",
    "people",
    "password_links",
    "sessions",
    "audit",
    "lifts",
    "areas",
    "area_buildings",
    "publisher_areas",
    "item_areas",
    "feeds",
    "feed_items",
    "releases",
    "release_assignments",
];

/// One stored value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Integer(i64),
    Text(String),
}

/// A table's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A whole database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    pub schema: usize,
    /// The platform-wide generation sequence's value.
    pub generation: i64,
    pub tables: Vec<Table>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    schema: usize,
    generation: i64,
}

#[derive(Serialize, Deserialize)]
struct TableHeader {
    table: String,
    columns: Vec<String>,
    rows: usize,
}

impl Table {
    /// Sorts rows so that an area comes after the area it is within.
    pub fn in_reference_order(mut self) -> Table {
        if self.name != "areas" {
            return self;
        }
        let (Some(id), Some(within)) = (self.column("id"), self.column("within_id")) else { return self };
        let mut placed: HashSet<Value> = HashSet::new();
        let mut rest = std::mem::take(&mut self.rows);
        while !rest.is_empty() {
            let (ready, waiting): (Vec<_>, Vec<_>) =
                rest.into_iter().partition(|row| row[within] == Value::Null || placed.contains(&row[within]));
            if ready.is_empty() {
                // A cycle cannot be stored; keep the rows and let the insert name the problem.
                self.rows.extend(waiting);
                break;
            }
            placed.extend(ready.iter().map(|row| row[id].clone()));
            self.rows.extend(ready);
            rest = waiting;
        }
        self
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Value::Null => 0u8.hash(state),
            Value::Integer(n) => n.hash(state),
            Value::Text(t) => t.hash(state),
        }
    }
}

impl Dump {
    /// The dump as JSON Lines.
    pub fn write(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let line = |out: &mut dyn std::io::Write, value: &dyn erased::Json| -> std::io::Result<()> {
            out.write_all(value.json().as_bytes())?;
            out.write_all(b"\n")
        };
        let header = Header { format: FORMAT.to_owned(), schema: self.schema, generation: self.generation };
        line(out, &header)?;
        for table in &self.tables {
            let head = TableHeader {
                table: table.name.clone(),
                columns: table.columns.clone(),
                rows: table.rows.len(),
            };
            line(out, &head)?;
            for row in &table.rows {
                line(out, row)?;
            }
        }
        out.flush()
    }

    /// Reads a dump; the error names the line.
    pub fn read(input: impl std::io::BufRead) -> Result<Dump, String> {
        let mut lines = input.lines().enumerate();
        let mut next = |what: &str| -> Result<(usize, String), String> {
            match lines.next() {
                Some((n, Ok(line))) => Ok((n + 1, line)),
                Some((n, Err(e))) => Err(format!("line {}: {e}", n + 1)),
                None => Err(format!("the file ends where {what} was expected: is it whole?")),
            }
        };
        let (_, first) = next("the header")?;
        let header: Header = serde_json::from_str(&first)
            .map_err(|e| format!("line 1 is not a palier-platform export header: {e}"))?;
        if header.format != FORMAT {
            return Err(format!("line 1: format {:?}, not {FORMAT:?}", header.format));
        }
        let mut tables = Vec::new();
        for _ in TABLES {
            let (n, line) = next("a table")?;
            let head: TableHeader = serde_json::from_str(&line).map_err(|e| format!("line {n}: {e}"))?;
            let mut rows = Vec::with_capacity(head.rows.min(1 << 20));
            for _ in 0..head.rows {
                let (n, line) = next(&format!("a row of {}", head.table))?;
                let row: Vec<Value> = serde_json::from_str(&line).map_err(|e| format!("line {n}: {e}"))?;
                if row.len() != head.columns.len() {
                    return Err(format!("line {n}: {} values for {} columns", row.len(), head.columns.len()));
                }
                rows.push(row);
            }
            tables.push(Table { name: head.table, columns: head.columns, rows });
        }
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        if names != TABLES {
            return Err(format!("the tables are {names:?}, not {TABLES:?}"));
        }
        Ok(Dump { schema: header.schema, generation: header.generation, tables })
    }
}

/// Why a dump cannot go into a store at schema version `schema`, if it cannot.
pub fn refuse_schema(dump: &Dump, schema: usize) -> Option<crate::store::StoreError> {
    (dump.schema != schema).then(|| {
        crate::store::StoreError::Refused(format!(
            "the export is of schema version {}, this store is at {schema}: export and import with the same palier-platform",
            dump.schema
        ))
    })
}

/// The refusal of an import into a store whose `table` holds `count` rows.
pub fn refuse_not_empty(table: &str, count: i64) -> crate::store::StoreError {
    crate::store::StoreError::Refused(format!(
        "the target database is not empty ({table} holds {count} rows): import goes into a new one"
    ))
}

/// JSON of the three line shapes, behind one object-safe trait.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("dump lines serialize")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    #[test]
    fn areas_come_after_the_area_they_are_within() {
        let table = Table {
            name: "areas".into(),
            columns: vec!["id".into(), "within_id".into()],
            rows: vec![
                vec![text("area-quartier"), text("area-ville")],
                vec![text("area-ilot"), text("area-quartier")],
                vec![text("area-ville"), Value::Null],
            ],
        };
        let ids: Vec<Value> = table.in_reference_order().rows.into_iter().map(|r| r[0].clone()).collect();
        assert_eq!(ids, vec![text("area-ville"), text("area-quartier"), text("area-ilot")]);
    }

    #[test]
    fn a_dump_reads_back_and_a_cut_one_is_refused() {
        let tables = TABLES
            .iter()
            .map(|name| Table {
                name: (*name).to_owned(),
                columns: vec!["a".into(), "b".into()],
                rows: vec![vec![Value::Integer(-3), Value::Null], vec![text("é\n\"x\""), Value::Integer(0)]],
            })
            .collect();
        let dump = Dump { schema: 6, generation: 42, tables };
        let mut bytes = Vec::new();
        dump.write(&mut bytes).unwrap();
        assert_eq!(Dump::read(&bytes[..]).unwrap(), dump);
        let cut = &bytes[..bytes.len() - 20];
        let cut = &cut[..cut.iter().rposition(|b| *b == b'\n').unwrap() + 1];
        assert!(Dump::read(cut).unwrap_err().contains("is it whole"));
        assert!(
            Dump::read(&b"{\"format\":\"other\",\"schema\":1,\"generation\":0}\n"[..])
                .unwrap_err()
                .contains("other")
        );
    }
}
