//! The platform over real HTTP: every test starts its own server on 127.0.0.1:0 in this
//! process (readiness is the bound listener; nothing sleeps), sets it up through the same
//! library functions as the admin CLI, and talks to it with reqwest. `cli` also runs the
//! real binary end to end.

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
