//! Media files: making an upload fit to show ([`normalize`]), storing it under its address,
//! and answering ranges.
//!
//! A picture is stored once under its SHA-256 (behind [`MediaStore`]: the data directory's
//! `media/` or an S3-compatible bucket, both in the platform's store crate) and never changes, so every answer about it can be cached forever. Uploads are judged from their bytes, never from a name or a
//! declared type, and what is stored is the normalised picture (upright, without metadata,
//! scaled for the largest screen), not the original.

pub mod normalize;

use std::path::Path;

use async_trait::async_trait;
use palier_content::MediaRef;

pub use normalize::{MAX_UPLOAD_BYTES, Normalized, normalize};

/// Where media files are kept, as the services need it: a file is put once under its
/// SHA-256 and never overwritten (a put of an address already there does nothing).
#[async_trait]
pub trait MediaStore: Send + Sync + std::fmt::Debug {
    /// Keeps `bytes` under `sha256`.
    async fn put(&self, sha256: &str, bytes: Vec<u8>) -> std::io::Result<()>;
    /// Keeps a file's content under its SHA-256; that address and its size.
    async fn put_file(&self, source: &Path) -> std::io::Result<(String, u64)>;
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// Not a JPEG, PNG or WebP picture, or not a whole one (HTTP 415).
    #[error("{0}")]
    NotAPicture(String),
    /// Over a size or dimension limit (HTTP 413).
    #[error("{0}")]
    TooLarge(String),
}

/// The reference a stored normalised picture gets.
pub fn media_ref(normalized: &Normalized) -> MediaRef {
    MediaRef {
        sha256: palier_content::demo::sha256_hex(&normalized.bytes),
        bytes: normalized.bytes.len() as u64,
        mime: normalized.mime.to_owned(),
        width: normalized.width,
        height: normalized.height,
        credit: None,
    }
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// No usable range: send the whole file (also for multi-range requests, as RFC 9110
    /// allows).
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// Outside the file: 416.
    Unsatisfiable,
}

/// Parses `bytes=N-`, `bytes=N-M` and `bytes=-N` (the last N bytes).
pub fn parse_range(header: &str, size: u64) -> ByteRange {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return ByteRange::Whole };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return ByteRange::Whole };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        (true, true) => ByteRange::Whole,
        (true, false) => match number(last) {
            Some(0) => ByteRange::Unsatisfiable,
            Some(n) if size > 0 => ByteRange::Part { start: size.saturating_sub(n), end: size - 1 },
            Some(_) => ByteRange::Unsatisfiable,
            None => ByteRange::Whole,
        },
        (false, _) => {
            let Some(start) = number(first) else { return ByteRange::Whole };
            let end = if last.is_empty() { Some(u64::MAX) } else { number(last) };
            match end {
                None => ByteRange::Whole,
                Some(end) if end < start => ByteRange::Whole,
                Some(_) if start >= size => ByteRange::Unsatisfiable,
                Some(end) => ByteRange::Part { start, end: end.min(size - 1) },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use ByteRange::*;
        let cases = [
            ("bytes=0-", Part { start: 0, end: 99 }),
            ("bytes=10-19", Part { start: 10, end: 19 }),
            ("bytes=90-200", Part { start: 90, end: 99 }),
            ("bytes=-10", Part { start: 90, end: 99 }),
            ("bytes=-500", Part { start: 0, end: 99 }),
            ("bytes=100-", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=5-2", Whole),
            ("bytes=0-1,5-6", Whole),
            ("items=0-1", Whole),
            ("bytes=x-", Whole),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_range(header, 100), expected, "{header}");
        }
    }
}
