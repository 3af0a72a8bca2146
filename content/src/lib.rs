//! Palier's shared content crate: the model of what a building's screens show, the device
//! protocol's wire format, manifest validation, the board's SQLite cache and plays journal,
//! and the bundled demo pack.
//!
//! It pulls in no GPU, no async runtime and no HTTP client, so the player, the sync daemon
//! and the platform can all depend on it.

pub mod cache;
pub mod config;
pub mod demo;
pub mod journal;
pub mod layout;
pub mod limits;
pub mod model;
pub mod notify;
pub mod sample;
pub mod sqlite;
pub mod system;
pub mod validate;
pub mod wire;

pub use cache::{ApplyOutcome, Cache, CacheError, CacheReader, Snapshot, SyncState};
pub use journal::PlaysJournal;
pub use layout::DataDir;
pub use model::*;
pub use validate::{ManifestError, ValidatedManifest, parse_manifest, validate_manifest};
