//! System releases in SQLite: stored bundles, and the version each audience should run.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Fail, Outcome, instant, millis};
use crate::ids::{BuildingId, DeviceId};
use crate::releases::{Assignment, Audience, Release};
use crate::store::StoreError;
use palier_content::system::SystemStatus;

pub(super) fn add(tx: &Transaction<'_>, release: &Release) -> Outcome<()> {
    let exists = tx
        .query_row(
            "SELECT 1 FROM releases WHERE compatible = ?1 AND version = ?2",
            params![release.compatible, release.version],
            |_| Ok(()),
        )
        .optional()?;
    if exists.is_some() {
        return Err(
            StoreError::exists("release", format!("{} for {}", release.version, release.compatible)).into()
        );
    }
    tx.execute(
        "INSERT INTO releases (compatible, version, sha256, bytes, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            release.compatible,
            release.version,
            release.sha256,
            release.bytes as i64,
            millis(release.created_at)
        ],
    )?;
    Ok(())
}

pub(super) fn list(tx: &Transaction<'_>) -> Outcome<Vec<Release>> {
    let mut stmt = tx.prepare(
        "SELECT compatible, version, sha256, bytes, created_ms FROM releases ORDER BY created_ms DESC, compatible",
    )?;
    let rows: Vec<(String, String, String, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(compatible, version, sha256, bytes, created)| {
            Ok(Release {
                version,
                compatible,
                sha256,
                bytes: bytes.max(0) as u64,
                created_at: instant(created)?,
            })
        })
        .collect()
}

pub(super) fn assign(tx: &Transaction<'_>, assignment: &Assignment) -> Outcome<()> {
    let percent = match &assignment.audience {
        Audience::Fleet { percent } => Some(i64::from(*percent)),
        _ => None,
    };
    tx.execute(
        "INSERT INTO release_assignments (audience, version, percent, allow_downgrade, assigned_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (audience) DO UPDATE SET version = excluded.version, percent = excluded.percent,
             allow_downgrade = excluded.allow_downgrade, assigned_ms = excluded.assigned_ms",
        params![
            assignment.audience.key(),
            assignment.version,
            percent,
            assignment.allow_downgrade,
            millis(assignment.assigned_at)
        ],
    )?;
    Ok(())
}

pub(super) fn unassign(tx: &Transaction<'_>, audience: &str) -> Outcome<bool> {
    Ok(tx.execute("DELETE FROM release_assignments WHERE audience = ?1", [audience])? == 1)
}

pub(super) fn assignments(tx: &Transaction<'_>) -> Outcome<Vec<Assignment>> {
    let mut stmt = tx.prepare(
        "SELECT audience, version, percent, allow_downgrade, assigned_ms FROM release_assignments ORDER BY audience",
    )?;
    let rows: Vec<(String, String, Option<i64>, bool, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(audience, version, percent, allow_downgrade, assigned)| {
            let audience = match audience.split_once(':') {
                Some(("device", id)) => Audience::Device(DeviceId::stored(id.to_owned())),
                Some(("building", id)) => Audience::Building(BuildingId::stored(id.to_owned())),
                None if audience == "fleet" => {
                    Audience::Fleet { percent: percent.unwrap_or(0).clamp(0, 100) as u8 }
                }
                _ => return Err(Fail::Corrupt(format!("release assignment for {audience:?}"))),
            };
            Ok(Assignment { audience, version, allow_downgrade, assigned_at: instant(assigned)? })
        })
        .collect()
}

pub(super) fn device_system(tx: &Transaction<'_>, device: &DeviceId) -> Outcome<Option<SystemStatus>> {
    let json: Option<String> = tx
        .query_row("SELECT json FROM heartbeats WHERE device_id = ?1", [device.as_str()], |r| r.get(0))
        .optional()?;
    let Some(json) = json else { return Ok(None) };
    let value: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| Fail::Corrupt(format!("heartbeat of {device}: {e}")))?;
    // A heartbeat whose `system` this build cannot read says nothing of its system.
    Ok(value.get("system").cloned().and_then(|s| serde_json::from_value(s).ok()))
}
