//! Palier's reference platform: the HTTP API that building screens sync from and that
//! landlords, shops and the neighbourhood app publish to, on one machine with an embedded
//! SQLite database.
//!
//! Where things live:
//! - [`rules`]: every authorization rule (the role table, building scope, ownership, people).
//! - [`publishing`]: the one service every interface calls to publish, withdraw, erase a
//!   person, expire and read proof of play; [`publishing::draft`] reads a publication.
//! - [`store`]: the storage interface and its SQLite implementation; all SQL is there.
//! - [`manifest`]: what a device's manifest holds.
//! - [`server`]: the HTTP API, `serve(listener, state, shutdown)`: thin handlers.
//! - [`console`]: the publisher console's pages, over the same service and rules.
//! - [`moderation`]: residents' posts waiting for a moderator, as a pure state machine.
//! - [`admin`]: what the administration commands do (buildings, publishers, enrolment codes,
//!   the device list).
//! - [`ids`]: typed identifiers; [`privacy`]: contact details kept off screens; [`media`]:
//!   picture uploads and byte ranges; [`hints`]: the change-hint fan-out; [`signing`]: the
//!   manifest key; [`secret`]: tokens and codes; [`datadir`]: the data directory and its
//!   config file.

pub mod admin;
pub mod console;
pub mod datadir;
pub mod domain;
pub mod feeds;
pub mod hints;
pub mod ids;
pub mod manifest;
pub mod media;
pub mod moderation;
pub mod privacy;
pub mod publishing;
pub mod releases;
pub mod rules;
pub mod secret;
pub mod server;
pub mod signing;
pub mod store;
pub mod transfer;

pub use datadir::{Config, DataDir};
pub use publishing::Publishing;
pub use rules::Role;
pub use server::{AppState, Settings, serve};
pub use signing::ManifestSigner;
pub use store::{SqlStore, Store};
