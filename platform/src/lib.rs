//! Palier's reference platform: the HTTP API that building screens sync from and that
//! landlords, shops and the neighbourhood app publish to, on one machine with an embedded
//! SQLite database or on several over PostgreSQL and a bucket.
//!
//! Its floors, each a crate, from the bottom:
//! - the core (`palier-platform-core`, `platform/core/`): the domain, the rules, the
//!   publishing, administration, accounts and boards services, feeds, releases, media
//!   normalisation ([`rules`], [`publishing`], [`administration`] …), knowing no web framework
//!   and no database driver;
//! - the store (`palier-platform-store`, `platform/store/`): [`store`], the one store
//!   implementation over the SQLite and PostgreSQL engines; [`media`], files in a directory
//!   or a bucket; [`transfer`], export and import; [`datadir`], the data directory;
//! - the web doors (`palier-platform-web`, `platform/web/`): [`server`], the HTTP APIs, and
//!   [`console`], the publisher console's pages, over the services;
//! - this crate: [`cli`], the `palier-platform` command (`main.rs` only starts it).
//!
//! Everything below is re-exported here, so the command and the tests name one crate.

pub mod cli;

pub use palier_platform_web::*;
