//! `palier-sync` against the real platform: each test starts `palier-platform` in this
//! process on 127.0.0.1 (readiness is the bound listener), a board in a temp directory with
//! real SQLite files, and either the library (one round, or the daemon in-process, waited on
//! through its status channel) or the real `palier-sync` binary (plays, crashes, CLI).

mod support;

mod cli;
mod crash;
mod daemon;
mod plays;
mod rounds;
mod service;
