//! Where things are shown: areas of buildings, enrolled devices and their reports, a
//! building's manifest generation and content, its lifts.

use jiff::Timestamp;
use palier_content::Building;
use palier_content::wire::Heartbeat;
use serde::Serialize;

use crate::ids::{AreaId, BuildingId, DeviceId, LiftId};

/// What a neighbourhood or a city is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    Neighbourhood,
    City,
}

impl AreaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaKind::Neighbourhood => "neighbourhood",
            AreaKind::City => "city",
        }
    }

    pub fn parse(text: &str) -> Option<AreaKind> {
        [AreaKind::Neighbourhood, AreaKind::City].into_iter().find(|k| k.as_str() == text)
    }
}

/// A group of buildings publishers and feeds can target as one: a neighbourhood, a city.
/// An area may lie within a larger one (a neighbourhood within its city); the larger one
/// then reaches the smaller one's buildings too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    pub id: AreaId,
    pub name: String,
    pub kind: AreaKind,
    pub within: Option<AreaId>,
}

/// One line of `area list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaEntry {
    pub area: Area,
    /// Buildings put in this area by name, sorted.
    pub buildings: Vec<BuildingId>,
    /// Every building it reaches, with those of the areas within it, sorted.
    pub reach: Vec<BuildingId>,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub name: String,
    pub building_id: BuildingId,
    pub roles: Vec<String>,
    /// The generation drawn at enrolment; the manifest generation never falls below it.
    pub generation: u64,
    pub software_version: String,
    pub enrolled_at: Timestamp,
    pub last_seen: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// One line of `device list`: a device and its latest heartbeat.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceReport {
    pub device: Device,
    /// When the latest heartbeat arrived, and what it said.
    pub heartbeat: Option<(Timestamp, Heartbeat)>,
}

/// A one-time enrolment code (its hash) for a building and screen roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCode {
    pub code_hash: String,
    pub building_id: BuildingId,
    pub roles: Vec<String>,
    pub created: Timestamp,
    pub expires: Timestamp,
}

/// What an enrolment code turns into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub id: DeviceId,
    pub name: String,
    pub software_version: String,
    pub token_hash: String,
}

/// A building's manifest generation and the reason of its last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    pub generation: u64,
    pub reason: String,
}

/// A building's live items, read at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingContent {
    pub building: Building,
    pub generation: u64,
    /// Items as stored (the device-facing JSON), by id.
    pub items: Vec<serde_json::Value>,
}

/// A lift of a building, and what its monitoring last said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lift {
    pub id: LiftId,
    pub building_id: BuildingId,
    /// As residents call it: « Ascenseur A ».
    pub name: String,
    /// `None` until the first status.
    pub status: Option<LiftStatus>,
}

/// What a lift's monitoring reported, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiftStatus {
    pub running: bool,
    pub since: Timestamp,
    /// When the company expects it back, for an out-of-service lift.
    pub expected_return: Option<Timestamp>,
}
