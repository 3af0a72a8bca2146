//! Palier's reference platform: the HTTP API that building screens sync from and that
//! landlords, shops and the neighbourhood app publish to, on one machine with an embedded
//! SQLite database.
//!
//! Its floors, each a crate, re-exported here so every door and test names one crate:
//! - the core (`palier-platform-core`, `platform/core/`): the domain, the rules, the
//!   publishing and administration services, feeds, releases, media normalisation
//!   ([`rules`], [`publishing`], [`administration`] …), knowing no web framework and no database
//!   driver;
//! - the store (`palier-platform-store`, `platform/store/`): [`store`], the one store
//!   implementation over the SQLite and PostgreSQL engines; [`media`], files in a directory
//!   or a bucket; [`transfer`], export and import; [`datadir`], the data directory;
//! - this crate, the doors: [`server`], the HTTP API (`serve(listener, state, shutdown)`,
//!   thin handlers), and [`console`], the publisher console's pages, over the same services
//!   and rules; and the `palier-platform` command (`main.rs`).

pub mod cli;
mod client;
pub mod console;
mod limiter;
pub mod server;
pub mod state;

pub use palier_platform_core::{
    accounts, administration, boards, domain, feeds, hints, ids, manifest, moderation, privacy, publishing,
    releases, rules, secret, signing,
};
pub use palier_platform_store::{datadir, media, store, transfer};

pub use datadir::{Config, DataDir};
pub use publishing::Publishing;
pub use rules::Role;
pub use server::{AppState, Settings, serve};
pub use signing::ManifestSigner;
pub use store::{SqlStore, Store};
