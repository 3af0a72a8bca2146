//! The store: the interface and domain types of [`palier_platform_core::store`], and its one
//! implementation, [`SqlStore`], whose operations are written once ([`sql`]) over an engine:
//! SQLite (one file in WAL mode, the default; [`SqlStore::sqlite`]) or, for installations
//! past one machine, PostgreSQL ([`SqlStore::postgres`], with the change hints between
//! replicas in [`HintListener`]).

mod postgres;
mod sql;
mod sqlite;

pub use palier_platform_core::store::*;
pub use postgres::{HINT_CHANNEL, HintListener};
pub use sql::SqlStore;
