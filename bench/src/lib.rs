//! What a screen costs: Palier's player, sync daemon and platform measured on this machine,
//! side by side with a Chromium kiosk showing the same demo rotation.
//!
//! `bench/run` is the one command: it builds the release binaries and runs the `cost`
//! benchmark of this crate, which prints one table and writes the same figures to
//! `target/bench/results.json`. The modules are the measuring tools, usable on their own:
//! [`procs`] reads CPU, wake-ups, RSS and PSS of a program from `/proc`; [`page`] turns
//! the demo rotation into an HTML page from the player's own scenes; [`demo_publish`]
//! publishes the demo pack through a platform's API; [`big_cache`] makes a cache of any
//! size; [`wire`] counts the bytes of HTTP exchanges; [`load`] polls a platform as many
//! idle devices; [`scale`] runs platforms on PostgreSQL as replicas. Figures are printed,
//! never asserted. [`soak`] is the reliability soak (`bench/soak`), whose parts do check.

pub mod big_cache;
pub mod demo_publish;
pub mod load;
pub mod machine;
pub mod page;
pub mod player;
pub mod procs;
pub mod report;
pub mod scale;
pub mod soak;
pub mod stats;
pub mod sync;
pub mod windowed;
pub mod windowed_report;
pub mod wire;
