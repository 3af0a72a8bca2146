//! The platform's Ed25519 manifest signing key.
//!
//! The key is generated once, by `init`, and kept in the data directory with mode 0600. Its
//! public half is printed as `ed25519:<standard padded base64 of the 32 bytes>` for the
//! installers to pin on every board: a new key means provisioning every board again, so the
//! file is never overwritten. Manifests are signed over their exact uncompressed bytes and
//! the signature travels in standard padded base64 (88 characters).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use rand::Rng;

/// Why the signing key could not be created or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("signing key {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("signing key {path} is not a base64 32-byte Ed25519 seed; restore it from a backup")]
    Malformed { path: PathBuf },
    #[error("signing key {path} is missing; run `palier-platform init` first")]
    Missing { path: PathBuf },
}

/// The platform's signing key.
#[derive(Debug, Clone)]
pub struct ManifestSigner {
    key: SigningKey,
}

impl ManifestSigner {
    /// A signer for a given seed (tests use the protocol's test vector).
    pub fn from_seed(seed: [u8; 32]) -> ManifestSigner {
        ManifestSigner { key: SigningKey::from_bytes(&seed) }
    }

    /// A fresh random key.
    pub fn generate() -> ManifestSigner {
        ManifestSigner::from_seed(rand::rng().random())
    }

    /// Writes the seed to a new file with mode 0600; refuses to replace an existing one.
    pub fn save_new(&self, path: &Path) -> Result<(), KeyError> {
        let io = |source| KeyError::Io { path: path.to_path_buf(), source };
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        writeln!(file, "{}", STANDARD.encode(self.key.to_bytes())).map_err(io)?;
        file.sync_all().map_err(io)
    }

    pub fn load(path: &Path) -> Result<ManifestSigner, KeyError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing { path: path.to_path_buf() });
            }
            Err(source) => return Err(KeyError::Io { path: path.to_path_buf(), source }),
        };
        let seed: [u8; 32] = STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| KeyError::Malformed { path: path.to_path_buf() })?;
        Ok(ManifestSigner::from_seed(seed))
    }

    /// The public key as installers pin it: `ed25519:<base64>`.
    pub fn public_key(&self) -> String {
        format!("ed25519:{}", STANDARD.encode(self.key.verifying_key().to_bytes()))
    }

    /// The `X-Palier-Signature` value for these exact bytes.
    pub fn sign(&self, body: &[u8]) -> String {
        STANDARD.encode(self.key.sign(body).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/protocol.md §12.
    #[test]
    fn matches_the_protocol_test_vector() {
        let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
        let signer = ManifestSigner::from_seed(seed);
        assert_eq!(signer.public_key(), "ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=");
        let body = r#"{"protocol":1,"device_id":"dev-test","generation":1,"issued_at":"2026-11-24T08:00:00Z","expires_at":"2026-12-01T08:00:00Z","building":{"id":"bld-tilleuls","name":"Résidence Les Tilleuls","time_zone":"Europe/Paris"},"items":[]}"#;
        assert_eq!(
            signer.sign(body.as_bytes()),
            "8N9Df2KYkv0m4BLcF2/+I0QwmcIw6RF5GpiZiG34FIQ6pYzAjcqx2BsCBXeaOAzenexGiYU5yx6UFS/5MXNmCg=="
        );
    }

    #[test]
    fn saved_key_loads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        let signer = ManifestSigner::generate();
        signer.save_new(&path).unwrap();
        assert_eq!(ManifestSigner::load(&path).unwrap().public_key(), signer.public_key());
        assert!(signer.save_new(&path).is_err(), "an existing key is never overwritten");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
