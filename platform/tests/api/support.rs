//! The suite's platform: the test kit's, served in this process, on SQLite in the `api`
//! binary and scaled out (PostgreSQL and a bucket) in `api_postgres`; with the kit's event
//! reader, answers, items and pictures under the names the suite uses.

use std::ops::{Deref, DerefMut};

use palier_platform::Settings;
use palier_testkit::inproc::{self, Backend};
use serde_json::Value;

pub use palier_testkit::events::Events;
pub use palier_testkit::inproc::{OPERATOR, error, header, verify};
pub use palier_testkit::items::{event, flash};
pub use palier_testkit::pictures::{png, png_header};

/// True in the `api_postgres` test binary: the same suite on PostgreSQL, with media in an
/// S3-compatible bucket; false in `api` (SQLite, a media directory).
pub fn scaled_out() -> bool {
    env!("CARGO_CRATE_NAME") == "api_postgres"
}

fn backend() -> Backend {
    if scaled_out() { Backend::Scaled } else { Backend::Sqlite }
}

/// In the scaled-out binary, points a data directory (not initialised yet) at a new
/// PostgreSQL database and a new bucket; nothing otherwise.
pub async fn prepare_data_dir(root: &std::path::Path) {
    if scaled_out() {
        inproc::scale_out(root).await;
    }
}

/// A running platform on this binary's backend.
pub struct Platform(inproc::Platform);

impl Platform {
    pub async fn start() -> Platform {
        Platform::start_with(Settings::default()).await
    }

    pub async fn start_with(settings: Settings) -> Platform {
        Platform(inproc::Platform::start_on(backend(), settings).await)
    }

    /// Stops the server and waits for it: open event streams must not hold it up.
    pub async fn stop(self) {
        self.0.stop().await
    }
}

impl Deref for Platform {
    type Target = inproc::Platform;

    fn deref(&self) -> &inproc::Platform {
        &self.0
    }
}

impl DerefMut for Platform {
    fn deref_mut(&mut self) -> &mut inproc::Platform {
        &mut self.0
    }
}

/// A shop's promotion without pictures.
pub fn promo(id: &str) -> Value {
    palier_testkit::items::promo(id, &[])
}

/// Camille's offer, published for `person`.
pub fn offer(id: &str, person: &str) -> Value {
    palier_testkit::items::offer(id, person, "Camille", None)
}
