//! The device protocol's messages (version 1), as JSON through serde.
//!
//! The platform and the sync daemon both use these types, so the two sides cannot drift
//! apart; `docs/protocol.md` describes the same messages for people. Every message ignores
//! fields it does not know, so a newer platform can talk to an older board. Manifest items
//! stay raw JSON here: each one is parsed and checked on its own by [`crate::validate`], so
//! one bad or unknown item never sinks the others.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Building, Item};

/// The protocol version this build speaks. A manifest of another major version is refused.
pub const PROTOCOL_VERSION: u32 = 1;

/// Response header carrying the manifest's Ed25519 signature (base64, over the exact body).
pub const SIGNATURE_HEADER: &str = "x-palier-signature";

/// Everything a device should hold now. The device reconciles its cache to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub protocol: u32,
    pub device_id: String,
    /// Grows whenever anything in the device's manifest changes; never goes backwards.
    pub generation: u64,
    pub issued_at: Timestamp,
    /// A device refuses a manifest past this instant (a replayed old manifest).
    pub expires_at: Timestamp,
    pub building: Building,
    /// Screen roles this device was enrolled with.
    #[serde(default)]
    pub roles: Vec<String>,
    pub items: Vec<serde_json::Value>,
    /// The system version the device should run, when one is assigned to it. Protocol
    /// addition: older boards ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_update: Option<crate::system::SystemUpdate>,
}

impl Manifest {
    /// Builds a manifest from typed items (the platform's and the tests' side).
    pub fn from_items(
        device_id: &str,
        generation: u64,
        issued_at: Timestamp,
        expires_at: Timestamp,
        building: Building,
        roles: Vec<String>,
        items: &[Item],
    ) -> Manifest {
        Manifest {
            protocol: PROTOCOL_VERSION,
            device_id: device_id.to_owned(),
            generation,
            issued_at,
            expires_at,
            building,
            roles,
            items: items
                .iter()
                .map(|item| serde_json::to_value(item).expect("items always serialize"))
                .collect(),
            system_update: None,
        }
    }
}

/// `POST /v1/device/enrol` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The one-time enrolment code printed by the platform's admin.
    pub code: String,
    /// Free text the installer sees in `device list`, e.g. the board's host name.
    #[serde(default)]
    pub device_name: String,
    #[serde(default)]
    pub software_version: String,
}

/// `POST /v1/device/enrol` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub device_id: String,
    /// The device's bearer token; shown once, stored hashed by the platform.
    pub token: String,
    pub building_id: String,
    pub roles: Vec<String>,
}

/// Why a slide went on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlayTrigger {
    /// Its turn in the rotation.
    Rotation,
    /// An urgent flash interrupting the rotation.
    Preempt,
    /// Nothing was eligible: the building's fallback slide.
    Fallback,
}

impl PlayTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            PlayTrigger::Rotation => "rotation",
            PlayTrigger::Preempt => "preempt",
            PlayTrigger::Fallback => "fallback",
        }
    }

    pub fn parse(s: &str) -> Option<PlayTrigger> {
        [PlayTrigger::Rotation, PlayTrigger::Preempt, PlayTrigger::Fallback]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// One slide really shown on one screen: proof of play.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayRecord {
    /// Unique per record, chosen by the device; makes uploads idempotent.
    pub id: String,
    /// Empty for the fallback slide.
    pub item_id: String,
    pub item_version: u64,
    /// Screen name from the board's configuration.
    pub screen: String,
    pub role: String,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub trigger: PlayTrigger,
    /// False when the board's clock was not known to be synchronised when it played.
    pub clock_trusted: bool,
}

/// `POST /v1/device/plays` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaysBatch {
    pub plays: Vec<PlayRecord>,
}

/// `POST /v1/device/plays` answer: the device deletes acknowledged and rejected records.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlaysAck {
    /// Ids stored now or already stored by an earlier upload.
    pub acknowledged: Vec<String>,
    /// Ids the platform will never accept (malformed), with the reason.
    #[serde(default)]
    pub rejected: Vec<RejectedPlay>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPlay {
    pub id: String,
    pub reason: String,
}

/// `POST /v1/device/heartbeat` body: the board's health, for the admin's `device list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Heartbeat {
    pub sent_at: Option<Timestamp>,
    pub software_version: String,
    /// The manifest generation the cache holds.
    pub generation: u64,
    pub last_sync_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default)]
    pub quarantined: Vec<QuarantinedItem>,
    pub free_disk_bytes: u64,
    #[serde(default)]
    pub screens: Vec<ScreenStatus>,
    pub clock: ClockStatus,
    /// The board's screens as its board file describes them (geometry and channels), so the
    /// platform can draw what each one shows. Protocol addition: absent from older boards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub displays: Vec<crate::config::ScreenConfig>,
    /// How often the board sends a heartbeat, in seconds; older boards leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval_s: Option<u64>,
    /// The system it runs and where its update stands. Protocol addition: absent from
    /// older boards and from boards without an update engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<crate::system::SystemStatus>,
}

/// What one screen shows now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenStatus {
    pub screen: String,
    pub role: String,
    /// Empty when the fallback slide shows.
    pub item_id: String,
    pub item_version: u64,
    pub since: Timestamp,
    /// The cache generation the slide came from.
    pub generation: u64,
}

/// How far the board's clock is from the platform's `Date` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClockStatus {
    pub trusted: bool,
    /// Board minus platform, in milliseconds, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew_ms: Option<i64>,
}

/// An item the device refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedItem {
    /// Empty when the item had no readable id.
    pub id: String,
    pub version: Option<u64>,
    pub reason: String,
}

/// The `data` of a server-sent `changed` event: the device's manifest has moved on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeHint {
    pub generation: u64,
    #[serde(default)]
    pub reason: String,
}

/// Every error answer of the platform: `{"error": {"code": ..., "message": ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `invalid_code`, `unauthorized`, `not_found`, ...
    pub code: String,
    /// For people: names the thing and what to do.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: code.to_owned(), message: message.into() } }
    }
}
