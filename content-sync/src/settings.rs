//! The daemon's own section of the board file, `[sync]`: where the platform is, the key it
//! signs with, the enrolment code, and the daemon's intervals.
//!
//! `palier-content` keeps the section as a raw `toml::Table` so the player never depends on
//! the daemon's keys; this module gives it a type. Every key but the platform's address and
//! key has a default. Unknown keys are warnings (a file written for a newer Palier still
//! starts an older one); bad values are errors that name the key and the fix, in the words
//! an installer reads on a terminal.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;

/// The `[sync]` section as written, with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SyncSettings {
    /// Base URL of the platform, e.g. `https://palier.example` (the `/v1` is added).
    pub platform_url: Option<String>,
    /// The platform's manifest key, pinned: `ed25519:<base64 of 32 bytes>`.
    pub platform_key: Option<String>,
    /// One-time code used to enrol when the board has no credentials yet.
    pub enrolment_code: Option<String>,
    /// Seconds between polls, ±20 % jitter.
    pub poll_interval_s: u64,
    /// Seconds between heartbeats.
    pub heartbeat_interval_s: u64,
    /// Seconds one request may take (a media download: between two chunks).
    pub request_timeout_s: u64,
    /// Media downloads running at once.
    pub max_parallel_downloads: usize,
    /// Listen to the platform's change hints (server-sent events). Turn off only on networks
    /// that break long-lived connections; polling alone then bounds the delay.
    pub change_hints: bool,
    /// When a board may restart into a new system: `HH:MM-HH:MM` in the building's local
    /// time (it may run past midnight), or `always`.
    pub update_window: String,
    /// Minutes a new system has to show content and sync once before it is given up.
    pub update_proof_minutes: u64,
    /// What the image says it is (version, system); without it, no system update runs.
    pub system_file: String,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            platform_url: None,
            platform_key: None,
            enrolment_code: None,
            poll_interval_s: 60,
            heartbeat_interval_s: 300,
            request_timeout_s: 20,
            max_parallel_downloads: 2,
            change_hints: true,
            update_window: "03:00-05:00".to_owned(),
            update_proof_minutes: 10,
            system_file: "/usr/lib/palier/system.json".to_owned(),
        }
    }
}

/// One problem with the `[sync]` section, naming the key and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sync.{key}: {message}")]
pub struct SettingsProblem {
    pub key: String,
    pub message: String,
}

fn problem(key: &str, message: impl Into<String>) -> SettingsProblem {
    SettingsProblem { key: key.to_owned(), message: message.into() }
}

/// A `[sync]` section read from the board file: the settings, and warnings to log.
#[derive(Debug, Clone)]
pub struct LoadedSettings {
    pub settings: SyncSettings,
    pub warnings: Vec<String>,
}

/// The platform's pinned manifest key.
#[derive(Clone, PartialEq, Eq)]
pub struct PlatformKey(VerifyingKey);

impl std::fmt::Debug for PlatformKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlatformKey({})", self.to_text())
    }
}

impl PlatformKey {
    /// Reads `ed25519:<standard padded base64 of the 32-byte key>`.
    pub fn parse(text: &str) -> Result<PlatformKey, String> {
        let Some(encoded) = text.trim().strip_prefix("ed25519:") else {
            return Err(
                "must start with \"ed25519:\"; copy the line `palier-platform public-key` prints".into()
            );
        };
        let bytes: [u8; 32] = STANDARD.decode(encoded).ok().and_then(|b| b.try_into().ok()).ok_or(
            "is not the base64 of 32 bytes; copy the whole line `palier-platform public-key` prints",
        )?;
        VerifyingKey::from_bytes(&bytes)
            .map(PlatformKey)
            .map_err(|_| "is not a valid Ed25519 public key; copy it again from the platform".to_owned())
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }

    pub fn to_text(&self) -> String {
        format!("ed25519:{}", STANDARD.encode(self.0.to_bytes()))
    }
}

impl SyncSettings {
    /// Reads the `[sync]` table, collecting unknown keys as warnings; checks every value.
    pub fn from_table(table: &toml::Table) -> Result<LoadedSettings, Vec<SettingsProblem>> {
        let problems = type_problems(table);
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut unknown = Vec::new();
        let settings: SyncSettings = serde_ignored::deserialize(toml::Value::Table(table.clone()), |path| {
            unknown.push(path.to_string())
        })
        .map_err(|e| vec![problem("(section)", e.to_string())])?;
        let problems = settings.problems();
        if !problems.is_empty() {
            return Err(problems);
        }
        let warnings = unknown
            .into_iter()
            .map(|key| format!("unknown key `sync.{key}` ignored (misspelt, or for a newer Palier?)"))
            .chain(settings.platform_url.as_deref().and_then(plain_http_warning))
            .collect();
        Ok(LoadedSettings { settings, warnings })
    }

    /// Every value problem, each naming its key and fix. Missing required keys included.
    pub fn problems(&self) -> Vec<SettingsProblem> {
        let mut problems = Vec::new();
        match self.platform_url.as_deref() {
            None => problems.push(problem(
                "platform_url",
                "is missing; set it to the platform's address, e.g. platform_url = \"https://palier.example\"",
            )),
            Some(url) => {
                if let Err(message) = parse_platform_url(url) {
                    problems.push(problem("platform_url", message));
                }
            }
        }
        match self.platform_key.as_deref() {
            None => problems.push(problem(
                "platform_key",
                "is missing; set it to the key `palier-platform public-key` prints (ed25519:...)",
            )),
            Some(key) => {
                if let Err(message) = PlatformKey::parse(key) {
                    problems.push(problem("platform_key", format!("{key:?} {message}")));
                }
            }
        }
        if let Some(code) = &self.enrolment_code
            && code.trim().is_empty()
        {
            problems.push(problem("enrolment_code", "is empty; remove the line or paste the code"));
        }
        if let Err(message) = crate::update::Window::parse(&self.update_window) {
            problems.push(problem("update_window", message));
        }
        let ranges: [(&str, u64, u64, u64); 5] = [
            ("poll_interval_s", self.poll_interval_s, 5, 86_400),
            ("heartbeat_interval_s", self.heartbeat_interval_s, 30, 86_400),
            ("request_timeout_s", self.request_timeout_s, 1, 600),
            ("max_parallel_downloads", self.max_parallel_downloads as u64, 1, 16),
            ("update_proof_minutes", self.update_proof_minutes, 2, 120),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                problems.push(problem(
                    key,
                    format!("{value} is outside {min}..={max}; pick a value in that range"),
                ));
            }
        }
        problems
    }

    /// The platform key; only call on settings that passed [`SyncSettings::problems`].
    pub fn key(&self) -> Result<PlatformKey, SettingsProblem> {
        let text = self.platform_key.as_deref().ok_or_else(|| problem("platform_key", "is missing"))?;
        PlatformKey::parse(text).map_err(|m| problem("platform_key", m))
    }

    /// The platform's base URL, without a trailing slash.
    pub fn base_url(&self) -> Result<reqwest::Url, SettingsProblem> {
        let text = self.platform_url.as_deref().ok_or_else(|| problem("platform_url", "is missing"))?;
        parse_platform_url(text).map_err(|m| problem("platform_url", m))
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(self.poll_interval_s)
    }

    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_secs(self.heartbeat_interval_s)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_s)
    }
}

fn parse_platform_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text.trim())
        .map_err(|e| format!("{text:?} is not a URL ({e}); write it like https://palier.example"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{text:?} must be an http:// or https:// address"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} must not carry ?query or #fragment; give the platform's base address"));
    }
    Ok(url)
}

/// Plain HTTP to anything but this machine: allowed, but worth saying.
fn plain_http_warning(text: &str) -> Option<String> {
    let url = reqwest::Url::parse(text.trim()).ok()?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    (url.scheme() == "http" && !local).then(|| {
        format!(
            "sync.platform_url {text:?} is plain http: the device token travels in clear; \
             use https outside a test bench"
        )
    })
}

/// Checks each known key's type first, so a quoted number names its key and the fix.
fn type_problems(table: &toml::Table) -> Vec<SettingsProblem> {
    let mut problems = Vec::new();
    for (key, value) in table {
        let (ok, expected) = match key.as_str() {
            "platform_url" | "platform_key" | "enrolment_code" | "update_window" | "system_file" => {
                (value.is_str(), "text in quotes")
            }
            "change_hints" => (value.is_bool(), "true or false, without quotes"),
            "poll_interval_s"
            | "heartbeat_interval_s"
            | "request_timeout_s"
            | "max_parallel_downloads"
            | "update_proof_minutes" => {
                (value.as_integer().is_some_and(|n| n >= 0), "a whole number without quotes, e.g. 60")
            }
            _ => (true, ""),
        };
        if !ok {
            problems.push(problem(key, format!("{value} has the wrong type; write {expected}")));
        }
    }
    problems
}

#[cfg(test)]
mod tests;
