//! The platform's doors on the web, over the core's services: [`server`], the device and
//! publishing APIs (`serve(listener, state, shutdown)`, thin handlers that parse, call a
//! service and map its answer to HTTP), and [`console`], the publisher console's pages.
//!
//! [`state::AppState`] holds the services every door calls (publishing, administration,
//! accounts, boards) and the server's settings; the console keeps its own state apart
//! ([`console::ConsoleState`]: the preview renderer, drawn thumbnails, login limits) and
//! reaches the services through axum's `FromRef`. Neither door calls the store: the one
//! exception is the server's start-up, which relays other replicas' hints.
//!
//! The core's and the store's modules are re-exported under their own names, so the doors
//! (and the `palier-platform` command over them) name one crate.

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
