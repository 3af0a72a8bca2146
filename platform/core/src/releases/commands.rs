//! What the `release` commands do, over the store and the media files: store a bundle,
//! assign a version, and show a rollout.

use std::fmt::Write as _;
use std::path::Path;

use jiff::Timestamp;
use palier_content::MediaRef;
use palier_content::system::UpdateState;

use super::{Assignment, Audience, Release, bundle, desired};
use crate::admin::{AdminError, whole_seconds};
use crate::ids::{BuildingId, DeviceId};
use crate::media::MediaStore;
use crate::store::{DeviceReport, Store, StoreError};

/// How media files call an update bundle.
pub const BUNDLE_MIME: &str = "application/vnd.rauc.bundle";

/// `release add --bundle FILE`: reads what the bundle installs, stores it under its SHA-256
/// (served to boards like media), and records the release.
pub async fn add(
    store: &dyn Store,
    media: &dyn MediaStore,
    path: &Path,
    now: Timestamp,
) -> Result<Release, AdminError> {
    let info = bundle::read(path).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let (sha256, bytes) =
        media.put_file(path).await.map_err(|e| AdminError::Invalid(format!("{}: {e}", path.display())))?;
    let reference = MediaRef {
        sha256: sha256.clone(),
        bytes,
        mime: BUNDLE_MIME.to_owned(),
        width: 0,
        height: 0,
        credit: None,
    };
    store.add_media(&reference, now).await?;
    let release =
        Release { version: info.version, compatible: info.compatible, sha256, bytes, created_at: now };
    store.add_release(&release).await.map_err(|e| match e {
        StoreError::Conflict(crate::store::Conflict::Exists { id, .. }) => AdminError::Invalid(format!(
            "release {id} is already stored; a version is immutable: build the next one with a new --version"
        )),
        other => other.into(),
    })?;
    Ok(release)
}

/// Whom `release assign` speaks of, as given on the command line.
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
            (None, None, Some(p)) => Err(invalid(format!("--percent {p} is over 100"))),
            _ => Err(invalid("say exactly one of --building, --device or --percent".to_owned())),
        }
    }
}

/// `release assign --version V …`: the version must be stored (for at least one system).
pub async fn assign(
    store: &dyn Store,
    version: &str,
    audience: Audience,
    allow_downgrade: bool,
    now: Timestamp,
) -> Result<Assignment, AdminError> {
    let releases = store.releases().await?;
    if !releases.iter().any(|r| r.version == version) {
        let known: Vec<&str> = releases.iter().map(|r| r.version.as_str()).collect();
        return Err(AdminError::Invalid(format!(
            "no release has version {version:?}; `release add --bundle FILE` stores one (stored: {})",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        )));
    }
    match &audience {
        Audience::Building(b) if store.building(b).await?.is_none() => {
            return Err(StoreError::not_found("building", b).into());
        }
        Audience::Device(d) if !store.device_reports(None).await?.iter().any(|r| &r.device.id == d) => {
            return Err(AdminError::Invalid(format!(
                "device {d} does not exist; `palier-platform device list` shows them"
            )));
        }
        _ => {}
    }
    let assignment = Assignment { audience, version: version.to_owned(), allow_downgrade, assigned_at: now };
    store.assign_release(&assignment).await?;
    Ok(assignment)
}

/// `release list`: the releases, the assignments, and each board's version and update state.
pub async fn render_list(store: &dyn Store) -> Result<String, StoreError> {
    let releases = store.releases().await?;
    let assignments = store.release_assignments().await?;
    let mut out = String::new();
    if releases.is_empty() {
        out.push_str("no releases yet; `palier-platform release add --bundle FILE` stores one\n");
    }
    for r in &releases {
        let _ = writeln!(
            out,
            "release {} for {}  {} bytes  sha256 {}  added {}",
            r.version,
            r.compatible,
            r.bytes,
            r.sha256,
            whole_seconds(r.created_at)
        );
    }
    for a in &assignments {
        let who = match &a.audience {
            Audience::Device(d) => format!("device {d}"),
            Audience::Building(b) => format!("building {b}"),
            Audience::Fleet { percent } => format!("{percent} % of all boards"),
        };
        let downgrade = if a.allow_downgrade { " (downgrade allowed)" } else { "" };
        let _ = writeln!(
            out,
            "assigned: {who} → {}{downgrade}, since {}",
            a.version,
            whole_seconds(a.assigned_at)
        );
    }
    let reports = store.device_reports(None).await?;
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for DeviceReport { device, heartbeat } in reports.iter().filter(|r| r.device.revoked_at.is_none()) {
        let system = heartbeat.as_ref().and_then(|(_, beat)| beat.system.clone());
        let wanted = desired(
            &device.id,
            &device.building_id,
            system.as_ref().map(|s| s.compatible.as_str()),
            &assignments,
            &releases,
        );
        let line = match &system {
            None => "no system report (no update engine, or an older board)".to_owned(),
            Some(s) => {
                let update = &s.update;
                let mut line = format!(
                    "runs {} ({}{})",
                    s.version,
                    s.compatible,
                    s.slot.as_ref().map(|x| format!(", slot {x}")).unwrap_or_default()
                );
                if update.state != UpdateState::Idle || update.detail.is_some() {
                    let _ = write!(line, ", update {}", update.state.as_str());
                    if let Some(v) = &update.version {
                        let _ = write!(line, " {v}");
                    }
                    if let Some(d) = &update.detail {
                        let _ = write!(line, ": {d}");
                    }
                }
                *counts.entry(s.version.clone()).or_default() += 1;
                line
            }
        };
        let wanted = wanted.map_or("none".to_owned(), |w| w.version);
        let seen = heartbeat.as_ref().map_or("never".to_owned(), |(at, _)| whole_seconds(*at).to_string());
        let _ = writeln!(
            out,
            "{}  {:?}  building {}  {line}; should run {wanted}; heard {seen}",
            device.id, device.name, device.building_id
        );
    }
    if !counts.is_empty() {
        let summary: Vec<String> = counts.iter().map(|(v, n)| format!("{n} on {v}")).collect();
        let _ = writeln!(out, "boards: {}", summary.join(", "));
    }
    Ok(out)
}
