//! `palier-sync`, the board's sync daemon: it keeps the local cache in step with the
//! platform, and reports back what the screens showed.
//!
//! - [`settings`]: the `[sync]` section of the board file; [`credentials`]: the device token.
//! - [`api`]: the protocol client, [`PlatformClient`], and nothing else.
//! - [`plan`] (pure): which pictures to fetch, which renditions to make, what to collect.
//! - [`fetch`]: one picture into `media/`, verified; [`renditions`]: display-sized copies.
//! - [`sync`]: one round, [`SyncRound`]: manifest → verify → plan → fetch → one transaction.
//! - [`uploads`]: plays and heartbeats; [`events`]: the change-hint stream.
//! - [`daemon`]: the service loop, `run(config, shutdown)`; [`backoff`]: retry timing (pure);
//!   [`notify`]: systemd notifications.
//! - [`update`]: system updates (the pure [`update::machine`], RAUC as the engine).
//! - [`board`]: the opened board shared by the service and the one-shot commands;
//!   [`report`]: what `check-config` and `status` print.

pub mod api;
pub mod backoff;
pub mod board;
pub mod credentials;
pub mod daemon;
pub mod events;
pub mod fetch;
mod files;
pub mod notify;
pub mod plan;
pub mod renditions;
pub mod report;
pub mod settings;
pub mod sync;
pub mod update;
pub mod uploads;

pub use api::PlatformClient;
pub use board::{Board, BoardError, DaemonConfig, Timing};
pub use daemon::{Daemon, DaemonStatus, run};
pub use plan::Plan;
pub use settings::SyncSettings;
pub use sync::{RoundReport, SyncError, SyncRound};
