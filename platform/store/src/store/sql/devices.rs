//! Enrolment codes, devices, heartbeats and the manifest's reads, in SQL both engines run.

use jiff::Timestamp;
use palier_content::wire::Heartbeat;

use super::{
    Fail, Outcome, Row, Tx, building_from_row, execute, get, instant, millis, next_generation, query,
    query_opt, require_building, roles_from_json,
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

fn device_row(row: &Row) -> Outcome<DeviceRow> {
    Ok(DeviceRow {
        id: get(row, 0)?,
        name: get(row, 1)?,
        building_id: get(row, 2)?,
        roles_json: get(row, 3)?,
        generation: get(row, 4)?,
        software_version: get(row, 5)?,
        enrolled: get(row, 6)?,
        last_seen: get(row, 7)?,
        revoked: get(row, 8)?,
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

pub(super) async fn add_code(tx: &dyn Tx, code: &EnrolmentCode) -> Outcome<()> {
    require_building(tx, &code.building_id).await?;
    let roles_json = serde_json::to_string(&code.roles).expect("strings serialize");
    execute(
        tx,
        "INSERT INTO enrolment_codes (code_hash, building_id, roles_json, created_ms, expires_ms)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &code.code_hash,
            &code.building_id.as_str(),
            &roles_json,
            &millis(code.created),
            &millis(code.expires),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn enrol(
    tx: &dyn Tx,
    code_hash: &str,
    new: &NewDevice,
    now: Timestamp,
) -> Outcome<Option<Device>> {
    let code = query_opt(
        tx,
        "SELECT building_id, roles_json FROM enrolment_codes
         WHERE code_hash = $1 AND used_ms IS NULL AND expires_ms > $2",
        &[&code_hash, &millis(now)],
    )
    .await?;
    let Some(row) = code else { return Ok(None) };
    let (building_id, roles_json): (String, String) = (get(&row, 0)?, get(&row, 1)?);
    let generation = next_generation(tx).await?;
    execute(
        tx,
        "UPDATE enrolment_codes SET used_ms = $2, device_id = $3 WHERE code_hash = $1",
        &[&code_hash, &millis(now), &new.id.as_str()],
    )
    .await?;
    execute(
        tx,
        "INSERT INTO devices (id, name, building_id, roles_json, token_hash, software_version, generation,
                              enrolled_ms, last_seen_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        &[
            &new.id.as_str(),
            &new.name,
            &building_id,
            &roles_json,
            &new.token_hash,
            &new.software_version,
            &(generation as i64),
            &millis(now),
        ],
    )
    .await?;
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

pub(super) async fn by_token(tx: &dyn Tx, token_hash: &str) -> Outcome<Option<Device>> {
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = $1 AND revoked_ms IS NULL");
    let row = query_opt(tx, &sql, &[&token_hash]).await?;
    row.as_ref().map(device_row).transpose()?.map(device).transpose()
}

pub(super) async fn active(tx: &dyn Tx, id: &DeviceId) -> Outcome<bool> {
    let found =
        query_opt(tx, "SELECT 1 FROM devices WHERE id = $1 AND revoked_ms IS NULL", &[&id.as_str()]).await?;
    Ok(found.is_some())
}

pub(super) async fn reports(tx: &dyn Tx, building: Option<&BuildingId>) -> Outcome<Vec<DeviceReport>> {
    let sql = format!(
        "SELECT {DEVICE_COLUMNS}, h.received_ms, h.json FROM devices
         LEFT JOIN heartbeats h ON h.device_id = devices.id
         WHERE CAST($1 AS TEXT) IS NULL OR devices.building_id = CAST($1 AS TEXT) ORDER BY enrolled_ms, id"
    );
    let rows = query(tx, &sql, &[&building.map(BuildingId::as_str)]).await?;
    let mut reports = Vec::new();
    for row in &rows {
        let (raw, received, json) =
            (device_row(row)?, get::<Option<i64>>(row, 9)?, get::<Option<String>>(row, 10)?);
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

pub(super) async fn revoke(tx: &dyn Tx, id: &DeviceId, now: Timestamp) -> Outcome<bool> {
    let state = match query_opt(tx, "SELECT revoked_ms FROM devices WHERE id = $1", &[&id.as_str()]).await? {
        Some(row) => Some(get::<Option<i64>>(&row, 0)?),
        None => None,
    };
    match state {
        None => Err(StoreError::not_found("device", id).into()),
        Some(Some(_)) => Ok(false),
        Some(None) => {
            execute(tx, "UPDATE devices SET revoked_ms = $2 WHERE id = $1", &[&id.as_str(), &millis(now)])
                .await?;
            Ok(true)
        }
    }
}

pub(super) async fn generation(tx: &dyn Tx, building: &BuildingId) -> Outcome<Generation> {
    let row =
        query_opt(tx, "SELECT generation, change_reason FROM buildings WHERE id = $1", &[&building.as_str()])
            .await?;
    let found = match row {
        Some(row) => Some((get::<i64>(&row, 0)?, get::<String>(&row, 1)?)),
        None => None,
    };
    let (generation, reason) = found.ok_or_else(|| StoreError::not_found("building", building))?;
    Ok(Generation { generation: generation as u64, reason })
}

pub(super) async fn content(tx: &dyn Tx, building: &BuildingId) -> Outcome<BuildingContent> {
    let found = match query_opt(
        tx,
        "SELECT id, name, address, time_zone, locale, generation FROM buildings WHERE id = $1",
        &[&building.as_str()],
    )
    .await?
    {
        Some(row) => Some((building_from_row(&row)?, get::<i64>(&row, 5)? as u64)),
        None => None,
    };
    let (building_row, generation) = found.ok_or_else(|| StoreError::not_found("building", building))?;
    let rows = query(
        tx,
        "SELECT i.json FROM item_buildings ib JOIN items i ON i.id = ib.item_id
         WHERE ib.building_id = $1 AND i.withdrawn_ms IS NULL AND i.moderation = 'approved' ORDER BY i.id",
        &[&building.as_str()],
    )
    .await?;
    let mut items = Vec::new();
    for row in &rows {
        let json = get::<String>(row, 0)?;
        items.push(serde_json::from_str(&json).map_err(|e| Fail::Corrupt(format!("stored item: {e}")))?);
    }
    Ok(BuildingContent { building: building_row, generation, items })
}
