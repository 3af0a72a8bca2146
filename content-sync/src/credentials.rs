//! The board's identity on the platform: `credentials.json` in the data directory, written
//! once at enrolment.
//!
//! The file is the only copy of the device token, so it is written atomically (a temporary
//! file in the same directory, fsync, rename, fsync of the directory) with mode 0600: a power
//! cut leaves the old file or the new one, never half of one. The token never appears in
//! logs or `Debug` output; [`DeviceToken`] prints as redacted.

use std::fs;
use std::path::{Path, PathBuf};

use palier_content::wire::EnrolResponse;
use serde::{Deserialize, Serialize};

use crate::files::write_atomically;

/// A bearer token that does not print.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceToken(String);

impl DeviceToken {
    pub fn new(token: impl Into<String>) -> DeviceToken {
        DeviceToken(token.into())
    }

    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceToken(redacted)")
    }
}

/// What enrolment gave this board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub device_id: String,
    pub token: DeviceToken,
    pub building_id: String,
    pub roles: Vec<String>,
}

impl From<EnrolResponse> for Credentials {
    fn from(r: EnrolResponse) -> Credentials {
        Credentials {
            device_id: r.device_id,
            token: DeviceToken(r.token),
            building_id: r.building_id,
            roles: r.roles,
        }
    }
}

/// Why the credentials could not be read or written. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} is damaged ({message}); delete it and enrol again with a new code \
         (`palier-sync enrol --code CODE`)"
    )]
    Damaged { path: PathBuf, message: String },
}

impl Credentials {
    /// Reads the file; `None` when the board has not enrolled yet.
    pub fn load(path: &Path) -> Result<Option<Credentials>, CredentialsError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CredentialsError::Io { path: path.to_path_buf(), source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| CredentialsError::Damaged { path: path.to_path_buf(), message: e.to_string() })
    }

    /// Replaces the file atomically, mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), CredentialsError> {
        let json = serde_json::to_vec_pretty(self).expect("credentials serialize");
        write_atomically(path, &json, 0o600)
            .map_err(|source| CredentialsError::Io { path: path.to_path_buf(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Credentials {
        Credentials {
            device_id: "dev-7k2m9q".into(),
            token: DeviceToken::new("pd1_secret-token-value"),
            building_id: "bld-tilleuls".into(),
            roles: vec!["lift".into()],
        }
    }

    #[test]
    fn saved_credentials_load_back_private_and_never_print_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        assert_eq!(Credentials::load(&path).unwrap(), None);
        sample().save(&path).unwrap();
        assert_eq!(Credentials::load(&path).unwrap(), Some(sample()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let printed = format!("{:?} {:#?}", sample(), sample());
        assert!(!printed.contains("secret-token"), "{printed}");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    }

    #[test]
    fn a_damaged_file_says_how_to_recover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        fs::write(&path, "{\"device_id\": ").unwrap();
        let message = Credentials::load(&path).unwrap_err().to_string();
        assert!(message.contains("enrol again"), "{message}");
    }
}
