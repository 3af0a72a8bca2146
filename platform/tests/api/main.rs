//! The platform over real HTTP: every test starts its own server on 127.0.0.1:0 in this
//! process (readiness is the bound listener; nothing sleeps), sets it up through the same
//! library functions as the admin CLI, and talks to it with reqwest. `cli` also runs the
//! real binary end to end.
//!
//! The same files build two test binaries: `api` on SQLite with a media directory, and
//! `api_postgres` (`tests/api_postgres.rs`) on a real PostgreSQL server with media in a real
//! S3-compatible bucket (the test kit's `servers`), so every endpoint and verb is checked on both. A module
//! added here is added to `tests/api_postgres.rs` too.

mod administration;
mod support;

mod areas;
mod cli;
mod devices;
mod events;
mod feeds;
mod lifts;
mod manifest;
mod media;
mod plays;
mod publishing;
mod releases;
mod store_suite;
