//! The end-to-end suite's crate: real processes over loopback, from the test kit
//! (`palier_testkit::processes`, re-exported here), and [`browser`], Debian's Chromium
//! driven headless for the console's pages.

pub mod browser;

pub use palier_testkit::items::{offer, urgent_flash};
pub use palier_testkit::pictures;
pub use palier_testkit::processes::*;
