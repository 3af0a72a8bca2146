//! The platform's core: its domain, its rules and its services, knowing no web framework and
//! no database driver.
//!
//! - [`domain`]: what the platform keeps and reasons about, in plain types; [`ids`]: typed
//!   identifiers.
//! - [`rules`]: every authorization rule (the role table, building scope, ownership, people);
//!   [`moderation`]: residents' posts waiting for a moderator, a pure state machine;
//!   [`privacy`]: contact details kept off screens.
//! - [`publishing`]: the one service every interface calls to publish, withdraw, erase a
//!   person, expire and read proof of play; [`administration`]: buildings, areas, people,
//!   tokens, boards, feeds, releases and settings, for an administrator, audited; [`accounts`]:
//!   signing in, passwords and sessions; [`boards`]: the boards' side of the protocol.
//! - [`store`]: the storage interface the services call ([`store::Store`]); the engines
//!   behind it live in the platform's store crate. [`media`]: normalising uploads and the
//!   [`media::MediaStore`] interface.
//! - [`feeds`]: the city's agenda and news as items; [`releases`]: over-the-air updates;
//!   [`manifest`]: what a device's manifest holds; [`hints`]: the change-hint fan-out;
//!   [`signing`]: the manifest key; [`secret`]: tokens and codes.

pub mod accounts;
pub mod administration;
pub mod boards;
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
pub mod signing;
pub mod store;

pub use administration::{Administration, Administrator};
pub use publishing::Publishing;
pub use rules::Role;
pub use signing::ManifestSigner;
pub use store::Store;
