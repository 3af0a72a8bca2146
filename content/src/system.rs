//! Over-the-air system updates as the protocol carries them (a protocol addition of v1:
//! boards that do not know these fields ignore them): the version a board should run, in
//! the manifest, and what the board runs and where its update stands, in the heartbeat.
//!
//! The update itself is a RAUC bundle, fetched like media (`GET /v1/media/{sha256}`,
//! resumable, verified by size and SHA-256) and installed by the update engine into the
//! other system slot; see `docs/protocol.md` §5.7.

use std::cmp::Ordering;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The largest update bundle a board downloads.
pub const MAX_BUNDLE_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// The system a board should run: in the manifest as `system_update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemUpdate {
    /// The version the bundle installs, as the bundle names it.
    pub version: String,
    /// The bundle's address: fetched at `/v1/media/{sha256}`.
    pub sha256: String,
    pub bytes: u64,
    /// The systems the bundle is for (RAUC's `compatible`), e.g. `palier-amd64`.
    pub compatible: String,
    /// Install it even when it is older than the running version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_downgrade: bool,
}

/// What a board runs and where its update stands: in the heartbeat as `system`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    /// The running system's version.
    pub version: String,
    /// What bundles it accepts, e.g. `palier-amd64`.
    pub compatible: String,
    /// The slot it booted (`A`, `B`), when the board has two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    pub update: UpdateStatus,
}

/// Where a board's update stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateStatus {
    pub state: UpdateState,
    /// The version the state is about (the one downloading, installed, refused…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A sentence: why it was refused or rolled back, when the reboot is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
}

impl UpdateStatus {
    pub fn idle() -> UpdateStatus {
        UpdateStatus { state: UpdateState::Idle, version: None, detail: None, since: None }
    }
}

/// The steps of an update on a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateState {
    /// Runs what it should, or nothing is assigned.
    Idle,
    /// Fetching the bundle.
    Downloading,
    /// The update engine verifies the bundle and writes the other slot.
    Installing,
    /// Written; the board restarts into it in its quiet window.
    WaitingForWindow,
    /// Booted the new version; marked good once the player presented frames and a sync
    /// round succeeded.
    Verifying,
    /// The bundle was refused (signature, system, older version, damaged): content plays on.
    Refused,
    /// The new version did not prove itself; the board came back to the previous one.
    RolledBack,
}

impl UpdateState {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateState::Idle => "idle",
            UpdateState::Downloading => "downloading",
            UpdateState::Installing => "installing",
            UpdateState::WaitingForWindow => "waiting_for_window",
            UpdateState::Verifying => "verifying",
            UpdateState::Refused => "refused",
            UpdateState::RolledBack => "rolled_back",
        }
    }
}

/// Compares versions the way people write them: numbers as numbers (`1.10` after `1.9`),
/// other parts as text, a missing part before a present one (`2` before `2.1`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<String> { v.split(['.', '-', '+', '~']).map(str::to_owned).collect() };
    let (left, right) = (parts(a.trim_start_matches('v')), parts(b.trim_start_matches('v')));
    for (x, y) in left.iter().zip(&right) {
        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Greater,
            (Err(_), Ok(_)) => Ordering::Less,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    left.len().cmp(&right.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_people_read_them() {
        let cases = [
            ("1", "2", Ordering::Less),
            ("1.9", "1.10", Ordering::Less),
            ("2.0", "2", Ordering::Greater),
            ("v2.1.0", "2.1.0", Ordering::Equal),
            ("0.3.0-7", "0.3.0-12", Ordering::Less),
            ("2026.11.28", "2026.12.1", Ordering::Less),
            ("1.0.0-rc1", "1.0.0-1", Ordering::Less),
        ];
        for (a, b, expected) in cases {
            assert_eq!(compare_versions(a, b), expected, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn older_boards_and_platforms_read_each_other() {
        let update = SystemUpdate {
            version: "2".into(),
            sha256: "ab".repeat(32),
            bytes: 10,
            compatible: "palier-amd64".into(),
            allow_downgrade: false,
        };
        let json = serde_json::to_value(&update).unwrap();
        assert!(json.get("allow_downgrade").is_none(), "left out when false: {json}");
        let status: SystemStatus = serde_json::from_value(serde_json::json!({
            "version": "1", "compatible": "palier-amd64", "update": {"state": "idle"}, "unknown": 1
        }))
        .unwrap();
        assert_eq!((status.slot, status.update.state), (None, UpdateState::Idle));
    }
}
