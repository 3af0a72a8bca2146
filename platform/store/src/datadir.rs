//! The platform's data directory: where the database, the signing key, the media files and
//! the optional `platform.toml` live, and how `init` creates them.
//!
//! ```text
//! <data>/platform.sqlite   the database (WAL: -wal and -shm files beside it)
//! <data>/signing.key       the Ed25519 seed, mode 0600; back it up, never replace it
//! <data>/media/<sha256>    uploaded pictures, immutable, named by content
//! <data>/platform.toml     optional settings, e.g. listen = "127.0.0.1:8080"
//! ```
//!
//! Past one machine, `platform.toml` names a PostgreSQL database (`database_url`, or the
//! `PALIER_DATABASE_URL` environment variable, which wins) and an S3-compatible bucket
//! (`[media]`); the database file and the media directory are then not used, and each
//! replica's data directory holds only the signing key (the same file on every replica) and
//! its settings. See `docs/operations.md`.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::signing::{KeyError, ManifestSigner};
use std::sync::Arc;

use crate::media::{BucketConfig, MediaFiles};
use crate::store::{SqlStore, Store, StoreError};

/// The environment variable that names the PostgreSQL database, over `database_url`.
pub const DATABASE_URL_VARIABLE: &str = "PALIER_DATABASE_URL";

pub const DATABASE_FILE: &str = "platform.sqlite";
pub const KEY_FILE: &str = "signing.key";
pub const MEDIA_DIR: &str = "media";
pub const CONFIG_FILE: &str = "platform.toml";

/// Why the data directory could not be set up or read.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("data directory {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("data directory {path} is not initialised; run `palier-platform --data {path} init`")]
    NotInitialised { path: PathBuf },
    #[error("config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Media(String),
}

/// Settings read from `platform.toml`. Every key is optional; unknown keys are refused so a
/// typo does not silently fall back to a default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address `serve` listens on when no `--listen` is given.
    pub listen: Option<SocketAddr>,
    /// The console's public address, e.g. `https://palier.example.org`: it starts the
    /// password links `user add` prints, and `https://` makes console cookies Secure.
    pub public_url: Option<String>,
    /// `palier-player`, which the console runs for exact previews.
    pub player: Option<PathBuf>,
    /// `postgres://user:password@host:port/database`: the store, instead of
    /// `platform.sqlite` (`PALIER_DATABASE_URL` overrides it).
    pub database_url: Option<String>,
    /// An S3-compatible bucket for media, instead of the `media/` directory.
    pub media: Option<BucketConfig>,
}

/// Which database a data directory uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

/// What `init` found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOutcome {
    /// `ed25519:<base64>`, to pin on the boards.
    pub public_key: String,
    /// False when the directory was already initialised; its key was kept.
    pub created_key: bool,
}

/// A platform data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database_path(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }

    pub fn key_path(&self) -> PathBuf {
        self.root.join(KEY_FILE)
    }

    pub fn media_dir(&self) -> PathBuf {
        self.root.join(MEDIA_DIR)
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// The database of this directory: PostgreSQL when `PALIER_DATABASE_URL` or
    /// `database_url` names one, else the SQLite file.
    pub fn database(&self) -> Result<Database, DataDirError> {
        if let Ok(url) = std::env::var(DATABASE_URL_VARIABLE)
            && !url.trim().is_empty()
        {
            return Ok(Database::Postgres(url));
        }
        Ok(match self.config()?.database_url {
            Some(url) => Database::Postgres(url),
            None => Database::Sqlite(self.database_path()),
        })
    }

    /// The media files: the bucket of `[media]`, else the `media/` directory.
    pub fn media(&self) -> Result<MediaFiles, DataDirError> {
        match self.config()?.media {
            Some(bucket) => MediaFiles::bucket(&bucket).map_err(DataDirError::Media),
            None => Ok(MediaFiles::new(self.media_dir())),
        }
    }

    /// Creates the directory, the database and the signing key. Running it again keeps
    /// everything (above all the key the boards have pinned) and migrates the database.
    pub async fn init(&self) -> Result<InitOutcome, DataDirError> {
        for dir in [self.root.clone(), self.media_dir()] {
            fs::create_dir_all(&dir).map_err(|source| DataDirError::Io { path: dir.clone(), source })?;
        }
        let key_path = self.key_path();
        let (signer, created_key) = if key_path.exists() {
            (ManifestSigner::load(&key_path)?, false)
        } else {
            let signer = ManifestSigner::generate();
            signer.save_new(&key_path)?;
            (signer, true)
        };
        self.connect().await?;
        Ok(InitOutcome { public_key: signer.public_key(), created_key })
    }

    async fn connect(&self) -> Result<Arc<dyn Store>, DataDirError> {
        Ok(match self.database()? {
            Database::Sqlite(path) => Arc::new(SqlStore::sqlite(&path)?),
            Database::Postgres(url) => Arc::new(SqlStore::postgres(&url).await?),
        })
    }

    fn require_initialised(&self) -> Result<(), DataDirError> {
        let database_there = match self.database()? {
            Database::Sqlite(path) => path.exists(),
            Database::Postgres(_) => true,
        };
        if database_there && self.key_path().exists() {
            Ok(())
        } else {
            Err(DataDirError::NotInitialised { path: self.root.clone() })
        }
    }

    /// Opens (and migrates) the database of an initialised directory.
    pub async fn open_store(&self) -> Result<Arc<dyn Store>, DataDirError> {
        self.require_initialised()?;
        self.connect().await
    }

    pub fn load_signer(&self) -> Result<ManifestSigner, DataDirError> {
        self.require_initialised()?;
        Ok(ManifestSigner::load(&self.key_path())?)
    }

    /// Reads `platform.toml`; a missing file means every default.
    pub fn config(&self) -> Result<Config, DataDirError> {
        let path = self.config_path();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => return Err(DataDirError::Io { path, source }),
        };
        toml::from_str(&text).map_err(|e| DataDirError::Config { path, message: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn init_twice_keeps_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("data"));
        assert!(matches!(data.open_store().await, Err(DataDirError::NotInitialised { .. })));
        let first = data.init().await.unwrap();
        assert!(first.created_key);
        let second = data.init().await.unwrap();
        assert!(!second.created_key);
        assert_eq!(first.public_key, second.public_key);
        assert_eq!(data.load_signer().unwrap().public_key(), first.public_key);
    }

    #[test]
    fn config_reads_listen_and_refuses_typos() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        assert_eq!(data.config().unwrap(), Config::default());
        fs::write(data.config_path(), "listen = \"127.0.0.1:9000\"\n").unwrap();
        assert_eq!(data.config().unwrap().listen, Some("127.0.0.1:9000".parse().unwrap()));
        fs::write(data.config_path(), "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let message = data.config().unwrap_err().to_string();
        assert!(message.contains("lisen"), "{message}");
    }
}
