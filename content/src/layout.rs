//! Where a board keeps its state: one data directory shared by `palier-sync` and the player.
//!
//! ```text
//! <data>/cache.sqlite        content cache (written by palier-sync only)
//! <data>/media/<sha256>      verified media, content-addressed
//! <data>/plays.sqlite        plays journal and screen status (player appends, sync drains)
//! <data>/credentials.json    the device token from enrolment (mode 0600)
//! ```

use std::path::{Path, PathBuf};

/// A board's data directory, e.g. `/var/lib/palier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir(PathBuf);

impl DataDir {
    pub fn new(path: impl Into<PathBuf>) -> DataDir {
        DataDir(path.into())
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn cache(&self) -> PathBuf {
        self.0.join("cache.sqlite")
    }

    pub fn media(&self) -> PathBuf {
        crate::cache::media_dir_for(&self.cache())
    }

    pub fn journal(&self) -> PathBuf {
        self.0.join("plays.sqlite")
    }

    pub fn credentials(&self) -> PathBuf {
        self.0.join("credentials.json")
    }
}
