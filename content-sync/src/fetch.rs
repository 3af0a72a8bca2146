//! Downloads one picture by its sha256 into `media/<sha256>` (or a system update bundle into
//! `updates/<sha256>`), so that nothing unverified ever carries a final name.
//!
//! Bytes go to `media/<sha256>.partial`, hashed as they arrive. After a cut, the partial
//! bytes are hashed again and the download resumes with `Range`. The body is never read past
//! the MediaRef's declared size (nor `MAX_MEDIA_BYTES`). At the end the size, the sha256,
//! and the format and dimensions read from the header (nothing is decoded) must match the
//! MediaRef (a bundle has no header to read: its size and hash suffice, and the update
//! engine checks its signature); only then is the file fsynced and renamed. Failures say whether the picture is
//! bad ([`FetchError::Permanent`]: the item is quarantined, the partial deleted) or the way
//! to it is ([`FetchError::Transient`]: the item is held back, the partial kept for resume).

use std::io::Read;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use palier_content::MediaRef;
use palier_content::demo::describe_media_bytes;
use palier_content::limits::MAX_MEDIA_BYTES;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::api::{ApiError, PlatformClient, Retry};
use crate::files::sync_dir;

/// Why a picture could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The picture itself is wrong: 404, size or hash mismatch, oversize, a header that
    /// disagrees with the manifest.
    #[error("{0}")]
    Permanent(String),
    /// The way to it failed (network, platform overloaded, local disk): try again later.
    #[error("{0}")]
    Transient(String),
}

/// Where `sha256`'s partial download lives.
pub fn partial_path(media_dir: &Path, sha256: &str) -> PathBuf {
    media_dir.join(format!("{sha256}.partial"))
}

fn io(what: &str, path: &Path, e: std::io::Error) -> FetchError {
    FetchError::Transient(format!("{what} {}: {e}", path.display()))
}

/// Fetches `media` into `media_dir`; returns the bytes that came over the network.
pub async fn fetch_media(
    client: &PlatformClient,
    media_dir: &Path,
    media: &MediaRef,
) -> Result<u64, FetchError> {
    let wanted =
        Wanted { sha256: &media.sha256, bytes: media.bytes, limit: MAX_MEDIA_BYTES, picture: Some(media) };
    fetch_into(client, media_dir, wanted).await
}

/// Fetches a system update bundle (served like media) into `dir`; returns the bytes that
/// came over the network.
pub async fn fetch_bundle(
    client: &PlatformClient,
    dir: &Path,
    sha256: &str,
    bytes: u64,
) -> Result<u64, FetchError> {
    let wanted = Wanted { sha256, bytes, limit: palier_content::system::MAX_BUNDLE_BYTES, picture: None };
    fetch_into(client, dir, wanted).await
}

/// What a download must end with.
struct Wanted<'a> {
    sha256: &'a str,
    bytes: u64,
    limit: u64,
    /// A picture's header is checked against its reference.
    picture: Option<&'a MediaRef>,
}

async fn fetch_into(
    client: &PlatformClient,
    media_dir: &Path,
    wanted: Wanted<'_>,
) -> Result<u64, FetchError> {
    let partial = partial_path(media_dir, wanted.sha256);
    let limit = wanted.bytes.min(wanted.limit);
    let (mut hasher, mut have) = resume_state(&partial, limit).await?;
    let mut downloaded = 0;
    let mut restarted = false;
    while have < limit {
        let response = match client.media(wanted.sha256, have).await {
            Ok(response) => response,
            Err(e) if e.status() == Some(416) && !restarted => {
                // The partial file is past the platform's: start again from byte 0, once.
                restarted = true;
                remove(&partial).await?;
                (hasher, have) = (Sha256::new(), 0);
                continue;
            }
            Err(e) => return Err(classify(e)),
        };
        let mut options = tokio::fs::OpenOptions::new();
        options.create(true).write(true);
        if response.status() == StatusCode::PARTIAL_CONTENT && resumes_at(&response, have) {
            options.append(true);
        } else {
            // A whole file (200), or a range we did not ask for: start over.
            options.truncate(true);
            (hasher, have) = (Sha256::new(), 0);
        }
        let mut file = options.open(&partial).await.map_err(|e| io("opening", &partial, e))?;
        let mut body = response.bytes_stream();
        let outcome = loop {
            let next = match tokio::time::timeout(client.timeout(), body.next()).await {
                Ok(next) => next,
                Err(_) => break Err(FetchError::Transient("download stalled; will resume".to_owned())),
            };
            let chunk = match next {
                None => break Ok(()),
                Some(Ok(chunk)) => chunk,
                Some(Err(e)) => break Err(FetchError::Transient(format!("download cut ({e}); will resume"))),
            };
            if have + chunk.len() as u64 > limit {
                break Err(FetchError::Permanent(format!(
                    "the platform sends more than the {} bytes the manifest declares",
                    wanted.bytes
                )));
            }
            if let Err(e) = file.write_all(&chunk).await {
                break Err(io("writing", &partial, e));
            }
            hasher.update(&chunk);
            have += chunk.len() as u64;
            downloaded += chunk.len() as u64;
        };
        file.flush().await.map_err(|e| io("writing", &partial, e))?;
        drop(file);
        match outcome {
            Ok(()) => break,
            Err(FetchError::Permanent(reason)) => {
                remove(&partial).await?;
                return Err(FetchError::Permanent(reason));
            }
            Err(transient) => return Err(transient),
        }
    }
    let verdict = verify(&partial, &wanted, have, &format!("{:x}", hasher.finalize())).await;
    if let Err(FetchError::Permanent(_)) = &verdict {
        remove(&partial).await?;
    }
    verdict?;
    let target = media_dir.join(wanted.sha256);
    tokio::fs::rename(&partial, &target).await.map_err(|e| io("renaming", &partial, e))?;
    let dir = media_dir.to_path_buf();
    tokio::task::spawn_blocking(move || sync_dir(&dir))
        .await
        .map_err(|e| FetchError::Transient(e.to_string()))?
        .map_err(|e| io("syncing", media_dir, e))?;
    Ok(downloaded)
}

/// The hash and size of what an earlier attempt left; a partial past the limit is dropped.
async fn resume_state(partial: &Path, limit: u64) -> Result<(Sha256, u64), FetchError> {
    let path = partial.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut hasher = Sha256::new();
        let mut file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((hasher, 0)),
            Err(e) => return Err(io("opening", &path, e)),
        };
        let size = file.metadata().map_err(|e| io("reading", &path, e))?.len();
        if size > limit {
            drop(file);
            std::fs::remove_file(&path).map_err(|e| io("removing", &path, e))?;
            return Ok((hasher, 0));
        }
        let mut buffer = vec![0; 64 * 1024];
        let mut read = 0;
        loop {
            let n = file.read(&mut buffer).map_err(|e| io("reading", &path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            read += n as u64;
        }
        Ok((hasher, read))
    })
    .await
    .map_err(|e| FetchError::Transient(e.to_string()))?
}

/// Does a 206 answer continue exactly where the partial file ends?
fn resumes_at(response: &reqwest::Response, have: u64) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes "))
        .and_then(|v| v.split_once('-'))
        .and_then(|(start, _)| start.trim().parse::<u64>().ok())
        == Some(have)
}

/// Size, hash, then a picture's header format and dimensions against its MediaRef.
async fn verify(partial: &Path, wanted: &Wanted<'_>, size: u64, sha256: &str) -> Result<(), FetchError> {
    if size != wanted.bytes {
        return Err(FetchError::Permanent(format!(
            "the platform served {size} bytes, the manifest declares {}",
            wanted.bytes
        )));
    }
    if sha256 != wanted.sha256 {
        return Err(FetchError::Permanent(format!(
            "the bytes served hash to sha256 {sha256}, not to their address"
        )));
    }
    let path = partial.to_path_buf();
    let Some(expected) = wanted.picture.cloned() else {
        return tokio::task::spawn_blocking(move || {
            std::fs::File::open(&path).and_then(|f| f.sync_all()).map_err(|e| io("syncing", &path, e))
        })
        .await
        .map_err(|e| FetchError::Transient(e.to_string()))?;
    };
    tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(&path).map_err(|e| io("reading", &path, e))?;
        let found = describe_media_bytes(&bytes).map_err(FetchError::Permanent)?;
        if (found.mime.as_str(), found.width, found.height)
            != (expected.mime.as_str(), expected.width, expected.height)
        {
            return Err(FetchError::Permanent(format!(
                "the file is a {} of {}×{}, the manifest declares a {} of {}×{}",
                found.mime, found.width, found.height, expected.mime, expected.width, expected.height
            )));
        }
        std::fs::File::open(&path).and_then(|f| f.sync_all()).map_err(|e| io("syncing", &path, e))
    })
    .await
    .map_err(|e| FetchError::Transient(e.to_string()))?
}

fn classify(e: ApiError) -> FetchError {
    match (e.status(), e.retry()) {
        _ if matches!(e, ApiError::Unauthorized) => FetchError::Transient(e.to_string()),
        (Some(404), _) => FetchError::Permanent("the platform has no file at this address (404)".to_owned()),
        (_, Retry::Transient) => FetchError::Transient(e.to_string()),
        (_, Retry::Permanent) => FetchError::Permanent(e.to_string()),
    }
}

async fn remove(path: &Path) -> Result<(), FetchError> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("removing", path, e)),
        _ => Ok(()),
    }
}
