//! Media files: making an upload fit to show ([`normalize`]), storing it under its address,
//! and answering ranges.
//!
//! A picture is stored once under `media/<sha256>` and never changes, so every answer about
//! it can be cached forever. Uploads are judged from their bytes, never from a name or a
//! declared type, and what is stored is the normalised picture (upright, without metadata,
//! scaled for the largest screen), not the original. Files are written to a temporary name,
//! synced, then renamed, so a reader never sees half a picture.

pub mod normalize;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use palier_content::MediaRef;

pub use normalize::{MAX_UPLOAD_BYTES, Normalized, normalize};

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

/// The media directory.
#[derive(Debug, Clone)]
pub struct MediaFiles {
    dir: PathBuf,
}

impl MediaFiles {
    pub fn new(dir: impl Into<PathBuf>) -> MediaFiles {
        MediaFiles { dir: dir.into() }
    }

    /// The file of a media address (which the caller has checked with
    /// [`crate::ids::is_address`]).
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    /// Stores the bytes under their address, unless a file is already there.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let target = self.path(sha256);
        if target.exists() {
            return Ok(());
        }
        fs::create_dir_all(&self.dir)?;
        let temp = self.dir.join(format!(".{sha256}.{}.tmp", std::process::id()));
        let written = (|| {
            let mut file = fs::File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &target)?;
            sync_dir(&self.dir)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }
}

impl MediaFiles {
    /// Copies a file in under its SHA-256 without holding it in memory (update bundles);
    /// returns its address and size.
    pub fn put_file(&self, source: &Path) -> std::io::Result<(String, u64)> {
        use sha2::{Digest, Sha256};
        use std::io::Read;
        fs::create_dir_all(&self.dir)?;
        let temp = self.dir.join(format!(".import.{}.tmp", std::process::id()));
        let copied = (|| {
            let mut input = fs::File::open(source)?;
            let mut output = fs::File::create(&temp)?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0; 1024 * 1024];
            let mut size = 0u64;
            loop {
                let n = input.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
                output.write_all(&buffer[..n])?;
                size += n as u64;
            }
            output.sync_all()?;
            let sha256 = format!("{:x}", hasher.finalize());
            let target = self.path(&sha256);
            if target.exists() {
                fs::remove_file(&temp)?;
            } else {
                fs::rename(&temp, &target)?;
                sync_dir(&self.dir)?;
            }
            Ok((sha256, size))
        })();
        if copied.is_err() {
            let _ = fs::remove_file(&temp);
        }
        copied
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
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

    #[test]
    fn put_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let files = MediaFiles::new(dir.path().join("media"));
        let sha = "a".repeat(64);
        files.put(&sha, b"one").unwrap();
        files.put(&sha, b"two").unwrap();
        assert_eq!(fs::read(files.path(&sha)).unwrap(), b"one");
        assert_eq!(fs::read_dir(dir.path().join("media")).unwrap().count(), 1);
    }
}
