//! Where media files live: a local directory (the default) or an S3-compatible bucket.
//!
//! Either way a file is kept under its SHA-256 and never overwritten: a put of an address
//! already there does nothing. The local directory writes to a temporary name, syncs, then
//! renames, so a reader never sees half a picture; a bucket's put is atomic by itself, and
//! large files (update bundles) go up in parts. The bucket is reached through the
//! `object_store` crate (the Apache Arrow project's), which speaks S3 and its compatible
//! servers (MinIO, Ceph, Garage, the clouds' own); credentials come from the usual
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` environment, or from `[media]`.
//! With `public_url` set, `/v1/media/{sha256}` redirects boards there (a CDN in front of
//! the bucket) instead of streaming the file through the platform.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

/// `[media]` in `platform.toml`: an S3-compatible bucket instead of the data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// The bucket's name; it must exist.
    pub s3_bucket: String,
    /// The server, e.g. `http://127.0.0.1:9000` (MinIO, Garage…); AWS's own when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_endpoint: Option<String>,
    /// The region (`us-east-1` when absent; most compatible servers ignore it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_region: Option<String>,
    /// Files' public address, e.g. `https://cdn.example.org/palier`: `/v1/media/{sha256}`
    /// answers with a redirect to `<public_url>/<sha256>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Credentials, when the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, or
    /// an instance role) does not give them; a file holding them must be readable by the
    /// platform only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
}

/// The media files of the platform.
#[derive(Debug, Clone)]
pub struct MediaFiles {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Directory(PathBuf),
    Bucket { store: Arc<dyn ObjectStore>, shown: String, public_url: Option<String> },
}

/// A part of a stored file, streamed.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

fn io_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn not_found(e: object_store::Error) -> std::io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string())
        }
        other => io_error(other),
    }
}

impl MediaFiles {
    /// Files in a local directory.
    pub fn new(dir: impl Into<PathBuf>) -> MediaFiles {
        MediaFiles { backend: Backend::Directory(dir.into()) }
    }

    /// Files in an S3-compatible bucket.
    pub fn bucket(config: &BucketConfig) -> Result<MediaFiles, String> {
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&config.s3_bucket)
            .with_region(config.s3_region.as_deref().unwrap_or("us-east-1"));
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder.with_access_key_id(id).with_secret_access_key(secret);
        }
        if let Some(endpoint) = &config.s3_endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder.build().map_err(|e| format!("media bucket {}: {e}", config.s3_bucket))?;
        let shown = match &config.s3_endpoint {
            Some(endpoint) => format!("s3://{} at {endpoint}", config.s3_bucket),
            None => format!("s3://{}", config.s3_bucket),
        };
        let public_url = config.public_url.as_ref().map(|url| url.trim_end_matches('/').to_owned());
        Ok(MediaFiles { backend: Backend::Bucket { store: Arc::new(store), shown, public_url } })
    }

    /// Where the files are, for messages.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Directory(dir) => dir.display().to_string(),
            Backend::Bucket { shown, .. } => shown.clone(),
        }
    }

    /// Where boards should fetch this file instead of from the platform, if anywhere.
    pub fn public_url(&self, sha256: &str) -> Option<String> {
        match &self.backend {
            Backend::Bucket { public_url: Some(base), .. } => Some(format!("{base}/{sha256}")),
            _ => None,
        }
    }

    fn location(sha256: &str) -> object_store::path::Path {
        object_store::path::Path::from(sha256)
    }

    /// Stores the bytes under their address, unless a file is already there.
    pub async fn put(&self, sha256: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        match &self.backend {
            Backend::Directory(dir) => {
                let (dir, sha256) = (dir.clone(), sha256.to_owned());
                tokio::task::spawn_blocking(move || put_in_directory(&dir, &sha256, &bytes))
                    .await
                    .map_err(io_error)?
            }
            Backend::Bucket { store, .. } => {
                let location = MediaFiles::location(sha256);
                match store.head(&location).await {
                    Ok(_) => return Ok(()),
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(io_error(e)),
                }
                store.put(&location, PutPayload::from(bytes)).await.map_err(io_error)?;
                Ok(())
            }
        }
    }

    /// Copies a file in under its SHA-256 without holding it in memory (update bundles);
    /// returns its address and size.
    pub async fn put_file(&self, source: &Path) -> std::io::Result<(String, u64)> {
        match &self.backend {
            Backend::Directory(dir) => {
                let (dir, source) = (dir.clone(), source.to_path_buf());
                tokio::task::spawn_blocking(move || put_file_in_directory(&dir, &source))
                    .await
                    .map_err(io_error)?
            }
            Backend::Bucket { store, .. } => {
                let source_path = source.to_path_buf();
                let (sha256, size) = tokio::task::spawn_blocking(move || hash_file(&source_path))
                    .await
                    .map_err(io_error)??;
                let location = MediaFiles::location(&sha256);
                if store.head(&location).await.is_ok() {
                    return Ok((sha256, size));
                }
                let mut upload = object_store::buffered::BufWriter::new(Arc::clone(store), location);
                let mut input = tokio::fs::File::open(source).await?;
                let copied = tokio::io::copy(&mut input, &mut upload).await;
                match copied {
                    Ok(_) => {
                        tokio::io::AsyncWriteExt::shutdown(&mut upload).await?;
                        Ok((sha256, size))
                    }
                    Err(e) => {
                        let _ = upload.abort().await;
                        Err(e)
                    }
                }
            }
        }
    }

    /// The size of a stored file.
    pub async fn size(&self, sha256: &str) -> std::io::Result<u64> {
        match &self.backend {
            Backend::Directory(dir) => Ok(tokio::fs::metadata(dir.join(sha256)).await?.len()),
            Backend::Bucket { store, .. } => {
                Ok(store.head(&MediaFiles::location(sha256)).await.map_err(not_found)?.size)
            }
        }
    }

    /// `length` bytes of a stored file from `start`.
    pub async fn stream(&self, sha256: &str, start: u64, length: u64) -> std::io::Result<ByteStream> {
        match &self.backend {
            Backend::Directory(dir) => {
                let mut file = tokio::fs::File::open(dir.join(sha256)).await?;
                if start > 0 {
                    file.seek(std::io::SeekFrom::Start(start)).await?;
                }
                Ok(ReaderStream::new(file.take(length)).boxed())
            }
            Backend::Bucket { store, .. } => {
                let options = GetOptions {
                    range: Some(GetRange::Bounded(start..start + length)),
                    ..GetOptions::default()
                };
                let got = store.get_opts(&MediaFiles::location(sha256), options).await.map_err(not_found)?;
                Ok(got.into_stream().map_err(io_error).boxed())
            }
        }
    }

    /// A whole stored file.
    pub async fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        match &self.backend {
            Backend::Directory(dir) => tokio::fs::read(dir.join(sha256)).await,
            Backend::Bucket { store, .. } => {
                let got = store.get(&MediaFiles::location(sha256)).await.map_err(not_found)?;
                Ok(got.bytes().await.map_err(io_error)?.to_vec())
            }
        }
    }

    /// Puts a copy of a stored file at `target` (a hard link when both are local).
    pub async fn copy_to(&self, sha256: &str, target: &Path) -> std::io::Result<()> {
        match &self.backend {
            Backend::Directory(dir) => {
                let source = dir.join(sha256);
                if tokio::fs::hard_link(&source, target).await.is_err() {
                    tokio::fs::copy(&source, target).await?;
                }
                Ok(())
            }
            Backend::Bucket { .. } => tokio::fs::write(target, self.read(sha256).await?).await,
        }
    }
}

fn put_in_directory(dir: &Path, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
    let target = dir.join(sha256);
    if target.exists() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    let mut temp = incoming_file(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// A file of its own to write into before the rename: two uploads of the same picture at
/// once each get one (a name made from the address and the process clashed), and it is
/// removed if the write fails.
fn incoming_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(".incoming.").suffix(".tmp").tempfile_in(dir)
}

/// Reads `source` in pieces into `sink`; the SHA-256 and size of what went through.
fn copy_hashing(source: &Path, sink: &mut impl Write) -> std::io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut input = fs::File::open(source)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1024 * 1024];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        sink.write_all(&buffer[..n])?;
        size += n as u64;
    }
    Ok((format!("{:x}", hasher.finalize()), size))
}

/// The SHA-256 and size of a file.
fn hash_file(source: &Path) -> std::io::Result<(String, u64)> {
    copy_hashing(source, &mut std::io::sink())
}

fn put_file_in_directory(dir: &Path, source: &Path) -> std::io::Result<(String, u64)> {
    fs::create_dir_all(dir)?;
    let mut temp = incoming_file(dir)?;
    let (sha256, size) = copy_hashing(source, &mut temp)?;
    temp.as_file().sync_all()?;
    let target = dir.join(&sha256);
    if !target.exists() {
        temp.persist(&target).map_err(|e| e.error)?;
        sync_dir(dir)?;
    }
    Ok((sha256, size))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[async_trait::async_trait]
impl palier_platform_core::media::MediaStore for MediaFiles {
    async fn put(&self, sha256: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        MediaFiles::put(self, sha256, bytes).await
    }

    async fn put_file(&self, source: &Path) -> std::io::Result<(String, u64)> {
        MediaFiles::put_file(self, source).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let files = MediaFiles::new(dir.path().join("media"));
        let sha = "a".repeat(64);
        files.put(&sha, b"one".to_vec()).await.unwrap();
        files.put(&sha, b"two".to_vec()).await.unwrap();
        assert_eq!(files.read(&sha).await.unwrap(), b"one");
        assert_eq!(fs::read_dir(dir.path().join("media")).unwrap().count(), 1);
        let part: Vec<Bytes> = files.stream(&sha, 1, 2).await.unwrap().try_collect().await.unwrap();
        assert_eq!(part.concat(), b"ne");
    }

    /// Six landlords uploading the same photo at once (the uploads test did): every put
    /// succeeds and one whole file remains, with nothing half-written beside it.
    #[test]
    fn the_same_picture_put_at_once_from_many_uploads_is_stored_once() {
        let bytes = vec![7u8; 4 << 20];
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let media = dir.path().join("media");
            let sha = format!("{round:064}");
            std::thread::scope(|scope| {
                let puts: Vec<_> =
                    (0..6).map(|_| scope.spawn(|| put_in_directory(&media, &sha, &bytes))).collect();
                for put in puts {
                    put.join().unwrap().unwrap_or_else(|e| panic!("round {round}: {e}"));
                }
            });
            let names: Vec<_> = fs::read_dir(&media).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert_eq!(names, vec![std::ffi::OsString::from(&sha)], "round {round}");
            assert_eq!(fs::read(media.join(&sha)).unwrap().len(), bytes.len());
        }
    }
}
