//! Enrolment codes, devices, heartbeats and the manifest's reads, in SQLite.

use jiff::Timestamp;
use palier_content::wire::Heartbeat;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{
    Fail, Outcome, building_from_row, instant, millis, next_generation, require_building, roles_from_json,
};
use crate::ids::{BuildingId, DeviceId};
use crate::store::{BuildingContent, Device, DeviceReport, EnrolmentCode, Generation, NewDevice, StoreError};

const DEVICE_COLUMNS: &str =
    "id, name, building_id, roles_json, generation, software_version, enrolled_ms, last_seen_ms, revoked_ms";

struct DeviceRow {
    id: String,
    name: String,
    building_id: String,
    roles_json: String,
    generation: i64,
    software_version: String,
    enrolled: i64,
    last_seen: Option<i64>,
    revoked: Option<i64>,
}

fn device_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: row.get(0)?,
        name: row.get(1)?,
        building_id: row.get(2)?,
        roles_json: row.get(3)?,
        generation: row.get(4)?,
        software_version: row.get(5)?,
        enrolled: row.get(6)?,
        last_seen: row.get(7)?,
        revoked: row.get(8)?,
    })
}

fn device(row: DeviceRow) -> Outcome<Device> {
    Ok(Device {
        id: DeviceId::stored(row.id),
        name: row.name,
        building_id: BuildingId::stored(row.building_id),
        roles: roles_from_json(&row.roles_json)?,
        generation: row.generation as u64,
        software_version: row.software_version,
        enrolled_at: instant(row.enrolled)?,
        last_seen: row.last_seen.map(instant).transpose()?,
        revoked_at: row.revoked.map(instant).transpose()?,
    })
}

pub(super) fn add_code(tx: &Transaction<'_>, code: &EnrolmentCode) -> Outcome<()> {
    require_building(tx, &code.building_id)?;
    tx.execute(
        "INSERT INTO enrolment_codes (code_hash, building_id, roles_json, created_ms, expires_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            code.code_hash,
            code.building_id.as_str(),
            serde_json::to_string(&code.roles).expect("strings serialize"),
            millis(code.created),
            millis(code.expires)
        ],
    )?;
    Ok(())
}

pub(super) fn enrol(
    tx: &Transaction<'_>,
    code_hash: &str,
    new: &NewDevice,
    now: Timestamp,
) -> Outcome<Option<Device>> {
    let code = tx
        .query_row(
            "SELECT building_id, roles_json FROM enrolment_codes
             WHERE code_hash = ?1 AND used_ms IS NULL AND expires_ms > ?2",
            params![code_hash, millis(now)],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?;
    let Some((building_id, roles_json)) = code else { return Ok(None) };
    let generation = next_generation(tx)?;
    tx.execute(
        "UPDATE enrolment_codes SET used_ms = ?2, device_id = ?3 WHERE code_hash = ?1",
        params![code_hash, millis(now), new.id.as_str()],
    )?;
    tx.execute(
        "INSERT INTO devices (id, name, building_id, roles_json, token_hash, software_version, generation,
                              enrolled_ms, last_seen_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            new.id.as_str(),
            new.name,
            building_id,
            roles_json,
            new.token_hash,
            new.software_version,
            generation as i64,
            millis(now)
        ],
    )?;
    Ok(Some(Device {
        id: new.id.clone(),
        name: new.name.clone(),
        building_id: BuildingId::stored(building_id),
        roles: roles_from_json(&roles_json)?,
        generation,
        software_version: new.software_version.clone(),
        enrolled_at: instant(millis(now))?,
        last_seen: Some(instant(millis(now))?),
        revoked_at: None,
    }))
}

pub(super) fn by_token(tx: &Transaction<'_>, token_hash: &str) -> Outcome<Option<Device>> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?1 AND revoked_ms IS NULL");
    tx.query_row(&sql, [token_hash], device_row).optional()?.map(device).transpose()
}

pub(super) fn active(tx: &Transaction<'_>, id: &DeviceId) -> Outcome<bool> {
    let found = tx
        .query_row("SELECT 1 FROM devices WHERE id = ?1 AND revoked_ms IS NULL", [id.as_str()], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

pub(super) fn reports(tx: &Transaction<'_>, building: Option<&BuildingId>) -> Outcome<Vec<DeviceReport>> {
    let sql = format!(
        "SELECT {DEVICE_COLUMNS}, h.received_ms, h.json FROM devices
         LEFT JOIN heartbeats h ON h.device_id = devices.id
         WHERE ?1 IS NULL OR devices.building_id = ?1 ORDER BY enrolled_ms, id"
    );
    let mut stmt = tx.prepare(&sql)?;
    let rows = stmt.query_map([building.map(BuildingId::as_str)], |row| {
        Ok((device_row(row)?, row.get::<_, Option<i64>>(9)?, row.get::<_, Option<String>>(10)?))
    })?;
    let mut reports = Vec::new();
    for row in rows {
        let (raw, received, json) = row?;
        let heartbeat = match (received, json) {
            (Some(ms), Some(json)) => {
                let beat: Heartbeat = serde_json::from_str(&json)
                    .map_err(|e| Fail::Corrupt(format!("stored heartbeat: {e}")))?;
                Some((instant(ms)?, beat))
            }
            _ => None,
        };
        reports.push(DeviceReport { device: device(raw)?, heartbeat });
    }
    Ok(reports)
}

pub(super) fn revoke(tx: &Transaction<'_>, id: &DeviceId, now: Timestamp) -> Outcome<bool> {
    let state = tx
        .query_row("SELECT revoked_ms FROM devices WHERE id = ?1", [id.as_str()], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .optional()?;
    match state {
        None => Err(StoreError::not_found("device", id).into()),
        Some(Some(_)) => Ok(false),
        Some(None) => {
            tx.execute(
                "UPDATE devices SET revoked_ms = ?2 WHERE id = ?1",
                params![id.as_str(), millis(now)],
            )?;
            Ok(true)
        }
    }
}

pub(super) fn generation(tx: &Transaction<'_>, building: &BuildingId) -> Outcome<Generation> {
    let found = tx
        .query_row(
            "SELECT generation, change_reason FROM buildings WHERE id = ?1",
            [building.as_str()],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?;
    let (generation, reason) = found.ok_or_else(|| StoreError::not_found("building", building))?;
    Ok(Generation { generation: generation as u64, reason })
}

pub(super) fn content(tx: &Transaction<'_>, building: &BuildingId) -> Outcome<BuildingContent> {
    let found = tx
        .query_row(
            "SELECT id, name, address, time_zone, locale, generation FROM buildings WHERE id = ?1",
            [building.as_str()],
            |row| Ok((building_from_row(row)?, row.get::<_, i64>(5)? as u64)),
        )
        .optional()?;
    let (building_row, generation) = found.ok_or_else(|| StoreError::not_found("building", building))?;
    let mut stmt = tx.prepare_cached(
        "SELECT i.json FROM item_buildings ib JOIN items i ON i.id = ib.item_id
         WHERE ib.building_id = ?1 AND i.withdrawn_ms IS NULL AND i.moderation = 'approved' ORDER BY i.id",
    )?;
    let mut items = Vec::new();
    for json in stmt.query_map([building.as_str()], |row| row.get::<_, String>(0))? {
        let json = json?;
        items.push(serde_json::from_str(&json).map_err(|e| Fail::Corrupt(format!("stored item: {e}")))?);
    }
    Ok(BuildingContent { building: building_row, generation, items })
}
