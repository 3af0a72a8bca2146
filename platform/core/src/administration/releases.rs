//! System releases (RAUC bundles): stored under their SHA-256, assigned to a board, a
//! building or a share of the fleet, and followed board by board.

use std::path::Path;

use palier_content::MediaRef;

use super::{AdminError, Administration, Administrator};
use crate::ids::{BuildingId, DeviceId};
use crate::releases::{Assignment, Audience, Release, bundle, desired};
use crate::store::DeviceReport;

/// How media files call an update bundle.
pub const BUNDLE_MIME: &str = "application/vnd.rauc.bundle";

/// Whom an assignment speaks of, as a door received it: exactly one of the three.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AudienceArgs {
    pub building: Option<String>,
    pub device: Option<String>,
    pub percent: Option<u8>,
}

impl AudienceArgs {
    pub fn audience(&self) -> Result<Audience, AdminError> {
        let invalid = |m: String| AdminError::Invalid(m);
        match (&self.building, &self.device, self.percent) {
            (Some(b), None, None) => Ok(Audience::Building(BuildingId::parse(b).map_err(invalid)?)),
            (None, Some(d), None) => Ok(Audience::Device(DeviceId::parse(d).map_err(invalid)?)),
            (None, None, Some(p)) if p <= 100 => Ok(Audience::Fleet { percent: p }),
            (None, None, Some(p)) => Err(invalid(format!("{p} % is over 100"))),
            _ => {
                Err(invalid("name exactly one building, one device or a percentage of the fleet".to_owned()))
            }
        }
    }
}

/// A rollout as it stands: the releases, the assignments, and each active board with the
/// version it should run.
#[derive(Debug, Clone)]
pub struct Rollout {
    pub releases: Vec<Release>,
    pub assignments: Vec<Assignment>,
    pub boards: Vec<(DeviceReport, Option<String>)>,
}

impl Administration {
    /// Reads what the bundle installs, stores it under its SHA-256 (served to boards like
    /// media), and records the release.
    pub async fn add_release(&self, who: &Administrator, path: &Path) -> Result<Release, AdminError> {
        let now = who.change(self.now())?.at;
        let info = bundle::read(path).map_err(|e| AdminError::Invalid(e.to_string()))?;
        let (sha256, bytes) = self
            .media
            .put_file(path)
            .await
            .map_err(|e| AdminError::Invalid(format!("{}: {e}", path.display())))?;
        let reference = MediaRef {
            sha256: sha256.clone(),
            bytes,
            mime: BUNDLE_MIME.to_owned(),
            width: 0,
            height: 0,
            credit: None,
        };
        self.store.add_media(&reference, now).await?;
        let release =
            Release { version: info.version, compatible: info.compatible, sha256, bytes, created_at: now };
        self.store.add_release(&release).await?;
        Ok(release)
    }

    /// Assigns a stored version (for at least one system) to an audience.
    pub async fn assign_release(
        &self,
        who: &Administrator,
        version: &str,
        audience: Audience,
        allow_downgrade: bool,
    ) -> Result<Assignment, AdminError> {
        let now = who.change(self.now())?.at;
        let releases = self.store.releases().await?;
        if !releases.iter().any(|r| r.version == version) {
            return Err(AdminError::Unknown { what: "release with version", id: version.to_owned() });
        }
        match &audience {
            Audience::Building(b) if self.store.building(b).await?.is_none() => {
                return Err(AdminError::Unknown { what: "building", id: b.to_string() });
            }
            Audience::Device(d)
                if !self.store.device_reports(None).await?.iter().any(|r| &r.device.id == d) =>
            {
                return Err(AdminError::Unknown { what: "device", id: d.to_string() });
            }
            _ => {}
        }
        let assignment =
            Assignment { audience, version: version.to_owned(), allow_downgrade, assigned_at: now };
        self.store.assign_release(&assignment).await?;
        Ok(assignment)
    }

    /// Removes the assignment of an audience (`building:…`, `device:…`, `fleet`); its boards
    /// keep what they run. False if it had none.
    pub async fn unassign_release(&self, who: &Administrator, audience: &str) -> Result<bool, AdminError> {
        who.change(self.now())?;
        Ok(self.store.unassign_release(audience).await?)
    }

    /// The rollout as it stands.
    pub async fn rollout(&self, who: &Administrator) -> Result<Rollout, AdminError> {
        who.may_read()?;
        let releases = self.store.releases().await?;
        let assignments = self.store.release_assignments().await?;
        let boards = self
            .store
            .device_reports(None)
            .await?
            .into_iter()
            .filter(|r| r.device.revoked_at.is_none())
            .map(|report| {
                let system = report.heartbeat.as_ref().and_then(|(_, beat)| beat.system.as_ref());
                let wanted = desired(
                    &report.device.id,
                    &report.device.building_id,
                    system.map(|s| s.compatible.as_str()),
                    &assignments,
                    &releases,
                )
                .map(|w| w.version);
                (report, wanted)
            })
            .collect();
        Ok(Rollout { releases, assignments, boards })
    }
}
