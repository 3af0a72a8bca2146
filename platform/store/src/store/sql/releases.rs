//! System releases in PostgreSQL: stored bundles, and the version each audience should run.

use super::{Fail, Outcome, Tx, execute, get, instant, millis, query, query_opt};
use crate::ids::{BuildingId, DeviceId};
use crate::releases::{Assignment, Audience, Release};
use crate::store::StoreError;
use palier_content::system::SystemStatus;

pub(super) async fn add(tx: &dyn Tx, release: &Release) -> Outcome<()> {
    let exists = query_opt(
        tx,
        "SELECT 1 FROM releases WHERE compatible = $1 AND version = $2",
        &[&release.compatible, &release.version],
    )
    .await?;
    if exists.is_some() {
        return Err(
            StoreError::exists("release", format!("{} for {}", release.version, release.compatible)).into()
        );
    }
    execute(
        tx,
        "INSERT INTO releases (compatible, version, sha256, bytes, created_ms) VALUES ($1, $2, $3, $4, $5)",
        &[
            &release.compatible,
            &release.version,
            &release.sha256,
            &(release.bytes as i64),
            &millis(release.created_at),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn list(tx: &dyn Tx) -> Outcome<Vec<Release>> {
    let rows = query(
        tx,
        "SELECT compatible, version, sha256, bytes, created_ms FROM releases ORDER BY created_ms DESC, compatible",
        &[],
    )
    .await?;
    rows.iter()
        .map(|row| {
            let (compatible, version, sha256, bytes, created): (String, String, String, i64, i64) =
                (get(row, 0)?, get(row, 1)?, get(row, 2)?, get(row, 3)?, get(row, 4)?);
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

pub(super) async fn assign(tx: &dyn Tx, assignment: &Assignment) -> Outcome<()> {
    let percent = match &assignment.audience {
        Audience::Fleet { percent } => Some(i64::from(*percent)),
        _ => None,
    };
    execute(
        tx,
        "INSERT INTO release_assignments (audience, version, percent, allow_downgrade, assigned_ms)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (audience) DO UPDATE SET version = excluded.version, percent = excluded.percent,
             allow_downgrade = excluded.allow_downgrade, assigned_ms = excluded.assigned_ms",
        &[
            &assignment.audience.key(),
            &assignment.version,
            &percent,
            &i64::from(assignment.allow_downgrade),
            &millis(assignment.assigned_at),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn unassign(tx: &dyn Tx, audience: &str) -> Outcome<bool> {
    Ok(execute(tx, "DELETE FROM release_assignments WHERE audience = $1", &[&audience]).await? == 1)
}

pub(super) async fn assignments(tx: &dyn Tx) -> Outcome<Vec<Assignment>> {
    let rows = query(
        tx,
        "SELECT audience, version, percent, allow_downgrade, assigned_ms FROM release_assignments ORDER BY audience",
        &[],
    )
    .await?;
    rows.iter()
        .map(|row| {
            let (audience, version, percent, allow_downgrade, assigned): (
                String,
                String,
                Option<i64>,
                i64,
                i64,
            ) = (get(row, 0)?, get(row, 1)?, get(row, 2)?, get(row, 3)?, get(row, 4)?);
            let allow_downgrade = allow_downgrade != 0;
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

pub(super) async fn device_system(tx: &dyn Tx, device: &DeviceId) -> Outcome<Option<SystemStatus>> {
    let json: Option<String> =
        match query_opt(tx, "SELECT json FROM heartbeats WHERE device_id = $1", &[&device.as_str()]).await? {
            Some(row) => Some(get(&row, 0)?),
            None => None,
        };
    let Some(json) = json else { return Ok(None) };
    let value: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| Fail::Corrupt(format!("heartbeat of {device}: {e}")))?;
    // A heartbeat whose `system` this build cannot read says nothing of its system.
    Ok(value.get("system").cloned().and_then(|s| serde_json::from_value(s).ok()))
}
