//! The platform's store floor, over the core's interfaces: [`store::SqlStore`] (every store
//! operation written once, over the SQLite and PostgreSQL engines), media files in a
//! directory or an S3-compatible bucket ([`media::MediaFiles`]), export and import
//! ([`transfer`]), and the data directory that holds an installation ([`datadir`]). It knows
//! no web framework; the doors (`palier-platform`) sit on it.

pub mod datadir;
pub mod media;
pub mod store;
pub mod transfer;

pub(crate) use palier_platform_core::{
    administration, feeds, hints, ids, moderation, releases, rules, signing,
};

pub use datadir::{Config, DataDir};
pub use store::{SqlStore, Store};
