//! Media files: what the core says of them ([`palier_platform_core::media`]: normalising an
//! upload, byte ranges, the [`MediaStore`] interface), and where they are kept
//! ([`storage`]: the data directory's `media/` or an S3-compatible bucket).

pub mod storage;

pub use palier_platform_core::media::*;
pub use storage::{BucketConfig, MediaFiles};
