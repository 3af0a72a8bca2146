//! Palier's reference platform: the HTTP API that building screens sync from and that
//! landlords, shops and the neighbourhood app publish to, on one machine with an embedded
//! SQLite database.
//!
//! Its floors: the core crate (`palier-platform-core`, `platform/core/`: the domain, the
//! rules, the publishing and administration services, feeds, releases, media
//! normalisation — re-exported here as [`rules`], [`publishing`], [`admin`] …) knows no web
//! framework and no database driver; this crate holds what sits on it:
//! - [`store`]: the one store implementation, every operation written once over the SQLite
//!   and PostgreSQL engines; [`media`]: media files in a directory or a bucket;
//!   [`transfer`]: export and import; [`datadir`]: the data directory and its config file.
//! - [`server`]: the HTTP API, `serve(listener, state, shutdown)`: thin handlers;
//!   [`console`]: the publisher console's pages, over the same services and rules.

pub mod console;
pub mod datadir;
pub mod media;
pub mod server;
pub mod store;
pub mod transfer;

pub use palier_platform_core::{
    admin, domain, feeds, hints, ids, manifest, moderation, privacy, publishing, releases, rules, secret,
    signing,
};

pub use datadir::{Config, DataDir};
pub use publishing::Publishing;
pub use rules::Role;
pub use server::{AppState, Settings, serve};
pub use signing::ManifestSigner;
pub use store::{SqlStore, Store};
