//! The API and CLI suite of `tests/api/` again, on PostgreSQL and an S3-compatible bucket
//! (see `tests/api/main.rs`; the servers come from the test kit). The list below is `main.rs`'s.

#[path = "api/areas.rs"]
mod areas;
#[path = "api/cli.rs"]
mod cli;
#[path = "api/devices.rs"]
mod devices;
#[path = "api/events.rs"]
mod events;
#[path = "api/feeds.rs"]
mod feeds;
#[path = "api/lifts.rs"]
mod lifts;
#[path = "api/manifest.rs"]
mod manifest;
#[path = "api/media.rs"]
mod media;
#[path = "api/plays.rs"]
mod plays;
#[path = "api/publishing.rs"]
mod publishing;
#[path = "api/releases.rs"]
mod releases;
#[path = "api/store_suite.rs"]
mod store_suite;
#[path = "api/support.rs"]
mod support;
// Only here: replicas need a database several processes share.
#[path = "api/replicas.rs"]
mod replicas;
