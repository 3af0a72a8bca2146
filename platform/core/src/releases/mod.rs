//! System releases for boards: update bundles stored as media, and which version each board
//! should run.
//!
//! `release add --bundle FILE` reads the bundle's own manifest ([`bundle`]: its version and
//! the systems it is for) and stores the bundle under its SHA-256 like a picture, so boards
//! fetch it through `GET /v1/media/{sha256}` with ranges. `release assign` sets the version
//! for one device, one building, or a share of every board (`--percent`); [`desired`]
//! decides, from those assignments, what a device's manifest carries in `system_update`:
//! the device's own assignment first, then its building's, then the fleet's if the device
//! falls within the share. A device that has not yet said which system it runs (its
//! heartbeat's `system.compatible`) gets nothing, as does a version without a bundle for its
//! system.

pub mod bundle;

use palier_content::system::SystemUpdate;
use serde::Serialize;

use crate::ids::{BuildingId, DeviceId};

/// A stored bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    pub version: String,
    /// The systems it installs on (RAUC's `compatible`), e.g. `palier-amd64`.
    pub compatible: String,
    pub sha256: String,
    pub bytes: u64,
    pub created_at: jiff::Timestamp,
}

/// Whom an assignment is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Device(DeviceId),
    Building(BuildingId),
    /// This share of all boards, from 0 to 100 (the same boards each time: a board's share
    /// is drawn from its id).
    Fleet {
        percent: u8,
    },
}

impl Audience {
    /// `device:dev-…`, `building:bld-…`, `fleet`: one assignment per key.
    pub fn key(&self) -> String {
        match self {
            Audience::Device(id) => format!("device:{id}"),
            Audience::Building(id) => format!("building:{id}"),
            Audience::Fleet { .. } => "fleet".to_owned(),
        }
    }
}

/// The version an audience should run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub audience: Audience,
    pub version: String,
    /// Install it even on boards that run a newer version.
    pub allow_downgrade: bool,
    pub assigned_at: jiff::Timestamp,
}

/// Whether a board belongs to the first `percent` of the fleet: its id, hashed, picks its
/// place, so raising the share only adds boards.
pub fn in_share(device: &DeviceId, percent: u8) -> bool {
    let digest = palier_content::demo::sha256_hex(device.as_str().as_bytes());
    let place = u64::from_str_radix(&digest[..8], 16).unwrap_or(0) % 100;
    place < u64::from(percent.min(100))
}

/// What a device's manifest carries: the assignment that applies to it and the bundle of
/// that version for its system.
pub fn desired(
    device: &DeviceId,
    building: &BuildingId,
    compatible: Option<&str>,
    assignments: &[Assignment],
    releases: &[Release],
) -> Option<SystemUpdate> {
    let compatible = compatible?;
    let find = |audience: &dyn Fn(&Audience) -> bool| assignments.iter().find(|a| audience(&a.audience));
    let assignment = find(&|a| matches!(a, Audience::Device(d) if d == device))
        .or_else(|| find(&|a| matches!(a, Audience::Building(b) if b == building)))
        .or_else(|| find(&|a| matches!(a, Audience::Fleet { percent } if in_share(device, *percent))))?;
    let release = releases.iter().find(|r| r.version == assignment.version && r.compatible == compatible)?;
    Some(SystemUpdate {
        version: release.version.clone(),
        sha256: release.sha256.clone(),
        bytes: release.bytes,
        compatible: release.compatible.clone(),
        allow_downgrade: assignment.allow_downgrade,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: &str, compatible: &str) -> Release {
        Release {
            version: version.into(),
            compatible: compatible.into(),
            sha256: format!("{:0>64}", format!("{version}{}", compatible.len())),
            bytes: 100,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    fn assign(audience: Audience, version: &str) -> Assignment {
        Assignment {
            audience,
            version: version.into(),
            allow_downgrade: false,
            assigned_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_closest_assignment_wins_and_needs_a_bundle_for_the_system() {
        let dev = |id: &str| DeviceId::parse(id).unwrap();
        let bld = |id: &str| BuildingId::parse(id).unwrap();
        let releases =
            [release("2", "palier-amd64"), release("3", "palier-amd64"), release("3", "palier-arm64")];
        let everyone = assign(Audience::Fleet { percent: 100 }, "2");
        let building = assign(Audience::Building(bld("bld-a")), "3");
        let device = assign(Audience::Device(dev("dev-1")), "2");
        // (device, building, system, assignments, version expected)
        let cases: Vec<(&str, &str, Option<&str>, Vec<Assignment>, Option<&str>)> = vec![
            ("dev-1", "bld-a", Some("palier-amd64"), vec![], None),
            ("dev-1", "bld-a", Some("palier-amd64"), vec![everyone.clone()], Some("2")),
            ("dev-1", "bld-a", Some("palier-amd64"), vec![everyone.clone(), building.clone()], Some("3")),
            (
                "dev-1",
                "bld-a",
                Some("palier-amd64"),
                vec![building.clone(), device.clone(), everyone.clone()],
                Some("2"),
            ),
            ("dev-2", "bld-b", Some("palier-amd64"), vec![building.clone(), device.clone()], None),
            ("dev-1", "bld-a", None, vec![everyone.clone()], None),
            ("dev-1", "bld-a", Some("palier-arm64"), vec![everyone.clone()], None),
            ("dev-1", "bld-a", Some("palier-arm64"), vec![building.clone()], Some("3")),
        ];
        for (device_id, building_id, system, assignments, expected) in cases {
            let got = desired(&dev(device_id), &bld(building_id), system, &assignments, &releases);
            assert_eq!(
                got.as_ref().map(|u| u.version.as_str()),
                expected,
                "{device_id} {building_id} {system:?} {assignments:?}"
            );
            if let Some(update) = got {
                assert_eq!(Some(update.compatible.as_str()), system);
            }
        }
    }

    #[test]
    fn a_share_of_the_fleet_grows_without_reshuffling() {
        let devices: Vec<DeviceId> =
            (0..1000).map(|n| DeviceId::parse(&format!("dev-{n:04}")).unwrap()).collect();
        let count = |percent| devices.iter().filter(|d| in_share(d, percent)).count();
        assert_eq!((count(0), count(100)), (0, 1000));
        let ten = count(10);
        assert!((60..=140).contains(&ten), "about a tenth: {ten}");
        for device in &devices {
            assert!(!in_share(device, 10) || in_share(device, 50), "a board in 10 % stays in 50 %");
        }
    }
}
