//! Media files: checking an upload, storing it under its address, and answering ranges.
//!
//! A picture is stored once under `media/<sha256>` and never changes, so every answer about
//! it can be cached forever. Uploads are judged from their bytes, never from a name or a
//! declared type: the header must be JPEG, PNG or WebP, and its declared dimensions must fit
//! the protocol's limits before anything is written. Files are written to a temporary name,
//! synced, then renamed, so a reader never sees half a picture.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use palier_content::MediaRef;
use palier_content::demo::describe_media_bytes;
use palier_content::limits::{MAX_MEDIA_BYTES, MAX_MEDIA_PIXELS, MAX_MEDIA_SIDE};

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// Not a JPEG, PNG or WebP picture (HTTP 415).
    #[error("{0}")]
    NotAPicture(String),
    /// Over a size or dimension limit (HTTP 413).
    #[error("{0}")]
    TooLarge(String),
}

/// Describes an upload from its bytes and checks it against the limits.
pub fn inspect_upload(bytes: &[u8]) -> Result<MediaRef, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::NotAPicture("the body is empty; send the picture's bytes".to_owned()));
    }
    if bytes.len() as u64 > MAX_MEDIA_BYTES {
        return Err(UploadError::TooLarge(format!(
            "the picture is {} bytes, over the {MAX_MEDIA_BYTES}-byte limit",
            bytes.len()
        )));
    }
    let media = describe_media_bytes(bytes).map_err(|reason| {
        UploadError::NotAPicture(format!("{reason}; upload a JPEG, PNG or WebP picture"))
    })?;
    let (w, h) = (media.width, media.height);
    if w == 0
        || h == 0
        || w > MAX_MEDIA_SIDE
        || h > MAX_MEDIA_SIDE
        || u64::from(w) * u64::from(h) > MAX_MEDIA_PIXELS
    {
        return Err(UploadError::TooLarge(format!(
            "the picture declares {w}×{h} pixels; each side must be 1–{MAX_MEDIA_SIDE} and the area at most \
             {MAX_MEDIA_PIXELS} pixels: scale it down"
        )));
    }
    Ok(media)
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

    /// A PNG header (signature + IHDR) declaring these dimensions; enough for the sniffer.
    pub(crate) fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn uploads_are_judged_from_their_bytes() {
        let media = inspect_upload(&png_header(640, 480)).unwrap();
        assert_eq!((media.mime.as_str(), media.width, media.height), ("image/png", 640, 480));
        assert!(matches!(inspect_upload(b"hello, not a picture"), Err(UploadError::NotAPicture(_))));
        assert!(matches!(inspect_upload(b"GIF89a\x01\0\x01\0\0\0\0"), Err(UploadError::NotAPicture(_))));
        let err = inspect_upload(&png_header(9000, 100)).unwrap_err();
        assert!(matches!(&err, UploadError::TooLarge(m) if m.contains("9000×100")), "{err}");
        assert!(matches!(inspect_upload(&png_header(8000, 8000)), Err(UploadError::TooLarge(_))));
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
