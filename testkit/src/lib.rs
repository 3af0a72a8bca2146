//! The one test kit every suite and the bench use:
//!
//! - [`processes`]: the real binaries (`palier-platform`, `palier-sync`, `palier-player`) in
//!   temporary directories, talking over loopback: the end-to-end suite's and the bench's
//!   platform and boards;
//! - [`inproc`] (feature `platform`): a real platform served in the test's own process, on
//!   SQLite or on PostgreSQL with media in a bucket, whose clock the test can move, with an
//!   event-stream reader ([`events`]);
//! - [`servers`]: a throw-away PostgreSQL cluster (`pg_virtualenv`) and an S3-compatible
//!   server (moto's), started once per process and gone with it;
//! - [`items`]: the publishing requests tests send, built from `palier-content`'s samples;
//! - [`pictures`]: real JPEG and PNG files of any size, and the header of a PNG bomb.

#[cfg(feature = "platform")]
pub mod events;
#[cfg(feature = "platform")]
pub mod inproc;
pub mod items;
pub mod pictures;
pub mod processes;
pub mod servers;
