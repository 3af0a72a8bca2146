//! Palier's reference platform: the HTTP API that building screens sync from and that
//! landlords, shops and the neighbourhood app publish to, on one machine with an embedded
//! SQLite database.
//!
//! - [`admin`]: what the administration commands do (buildings, publishers, enrolment codes,
//!   the device list).
//! - [`server`]: the HTTP API, `serve(listener, state, shutdown)`.
//! - [`store`]: all storage, behind one narrow interface.
//! - [`publish`], [`privacy`], [`scope`]: the publishing rules; [`media`]: picture uploads
//!   and byte ranges; [`hints`]: the change-hint fan-out; [`signing`]: the manifest key;
//!   [`secret`]: tokens and codes; [`datadir`]: the data directory and its config file.

pub mod admin;
pub mod datadir;
pub mod hints;
pub mod media;
pub mod privacy;
pub mod publish;
pub mod scope;
pub mod secret;
pub mod server;
pub mod signing;
pub mod store;

pub use datadir::{Config, DataDir};
pub use scope::Role;
pub use server::{AppState, Settings, serve};
pub use signing::ManifestSigner;
pub use store::Store;
