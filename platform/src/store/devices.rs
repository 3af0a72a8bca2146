//! The device side of the store: enrolment codes, devices, manifests and heartbeats.

use jiff::Timestamp;
use palier_content::wire::Heartbeat;
use rusqlite::{OptionalExtension, params};

use super::{
    Device, DeviceReport, ManifestContent, NewDevice, Store, StoreError, building_from_row, instant, millis,
    next_generation, require_building, roles_from_json,
};

const DEVICE_COLUMNS: &str =
    "id, name, building_id, roles_json, generation, software_version, enrolled_ms, last_seen_ms, revoked_ms";

fn device_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Device, String, Option<i64>, Option<i64>)> {
    let roles_json: String = row.get(3)?;
    let last_seen: Option<i64> = row.get(7)?;
    let revoked: Option<i64> = row.get(8)?;
    let enrolled: i64 = row.get(6)?;
    let device = Device {
        id: row.get(0)?,
        name: row.get(1)?,
        building_id: row.get(2)?,
        roles: Vec::new(),
        generation: row.get::<_, i64>(4)? as u64,
        software_version: row.get(5)?,
        enrolled_at: Timestamp::from_millisecond(enrolled).unwrap_or_default(),
        last_seen: None,
        revoked_at: None,
    };
    Ok((device, roles_json, last_seen, revoked))
}

fn finish_device(raw: (Device, String, Option<i64>, Option<i64>)) -> Result<Device, StoreError> {
    let (mut device, roles_json, last_seen, revoked) = raw;
    device.roles = roles_from_json(&roles_json)?;
    device.last_seen = last_seen.map(instant).transpose()?;
    device.revoked_at = revoked.map(instant).transpose()?;
    Ok(device)
}

impl Store {
    /// Stores a one-time enrolment code (its hash) for a building and screen roles.
    pub fn add_enrolment_code(
        &self,
        code_hash: &str,
        building_id: &str,
        roles: &[String],
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        require_building(&tx, building_id)?;
        tx.execute(
            "INSERT INTO enrolment_codes (code_hash, building_id, roles_json, created_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                code_hash,
                building_id,
                serde_json::to_string(roles).expect("strings serialize"),
                millis(created),
                millis(expires)
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Turns an unused, unexpired code into a new device, which draws its first generation.
    /// `None` when the code is unknown, used or expired (the caller cannot tell which).
    pub fn enrol(
        &self,
        code_hash: &str,
        new: &NewDevice,
        now: Timestamp,
    ) -> Result<Option<Device>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let code = tx
            .query_row(
                "SELECT building_id, roles_json FROM enrolment_codes
                 WHERE code_hash = ?1 AND used_ms IS NULL AND expires_ms > ?2",
                params![code_hash, millis(now)],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
            )
            .optional()?;
        let Some((building_id, roles_json)) = code else { return Ok(None) };
        let generation = next_generation(&tx)?;
        tx.execute(
            "UPDATE enrolment_codes SET used_ms = ?2, device_id = ?3 WHERE code_hash = ?1",
            params![code_hash, millis(now), new.id],
        )?;
        tx.execute(
            "INSERT INTO devices (id, name, building_id, roles_json, token_hash, software_version, generation,
                                  enrolled_ms, last_seen_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            params![
                new.id,
                new.name,
                building_id,
                roles_json,
                new.token_hash,
                new.software_version,
                generation as i64,
                millis(now)
            ],
        )?;
        tx.commit()?;
        Ok(Some(Device {
            id: new.id.clone(),
            name: new.name.clone(),
            building_id,
            roles: roles_from_json(&roles_json)?,
            generation,
            software_version: new.software_version.clone(),
            enrolled_at: now,
            last_seen: Some(now),
            revoked_at: None,
        }))
    }

    /// The device holding this token, unless unknown or revoked.
    pub fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        let conn = self.conn();
        let sql =
            format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?1 AND revoked_ms IS NULL");
        let raw = conn.query_row(&sql, [token_hash], device_from_row).optional()?;
        raw.map(finish_device).transpose()
    }

    /// Whether the device may still talk to the platform (an open stream checks this).
    pub fn device_active(&self, device_id: &str) -> Result<bool, StoreError> {
        let conn = self.conn();
        let found = conn
            .query_row("SELECT 1 FROM devices WHERE id = ?1 AND revoked_ms IS NULL", [device_id], |_| Ok(()))
            .optional()?;
        Ok(found.is_some())
    }

    /// Records that the device was seen at `now`.
    pub fn touch_device(&self, device_id: &str, now: Timestamp) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute("UPDATE devices SET last_seen_ms = ?2 WHERE id = ?1", params![device_id, millis(now)])?;
        Ok(())
    }

    /// Every device, oldest enrolment first, with its latest heartbeat.
    pub fn device_reports(&self) -> Result<Vec<DeviceReport>, StoreError> {
        let conn = self.conn();
        let sql = format!(
            "SELECT {DEVICE_COLUMNS}, h.received_ms, h.json FROM devices
             LEFT JOIN heartbeats h ON h.device_id = devices.id ORDER BY enrolled_ms, id"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], |row| {
            Ok((device_from_row(row)?, row.get::<_, Option<i64>>(9)?, row.get::<_, Option<String>>(10)?))
        })?;
        let mut reports = Vec::new();
        for row in rows {
            let (raw, received, json) = row?;
            let heartbeat = match (received, json) {
                (Some(ms), Some(json)) => {
                    let beat: Heartbeat = serde_json::from_str(&json)
                        .map_err(|e| StoreError::Corrupt(format!("stored heartbeat: {e}")))?;
                    Some((instant(ms)?, beat))
                }
                _ => None,
            };
            reports.push(DeviceReport { device: finish_device(raw)?, heartbeat });
        }
        Ok(reports)
    }

    /// Revokes a device: its token stops working at once. False if it was already revoked.
    pub fn revoke_device(&self, device_id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let state = tx
            .query_row("SELECT revoked_ms FROM devices WHERE id = ?1", [device_id], |row| {
                row.get::<_, Option<i64>>(0)
            })
            .optional()?;
        let changed = match state {
            None => return Err(StoreError::NotFound(format!("device {device_id} does not exist"))),
            Some(Some(_)) => false,
            Some(None) => {
                tx.execute(
                    "UPDATE devices SET revoked_ms = ?2 WHERE id = ?1",
                    params![device_id, millis(now)],
                )?;
                true
            }
        };
        tx.commit()?;
        Ok(changed)
    }

    /// The device's manifest generation and the reason of its last change.
    pub fn manifest_generation(&self, device: &Device) -> Result<(u64, String), StoreError> {
        let conn = self.conn();
        let (generation, reason): (i64, String) = conn.query_row(
            "SELECT generation, change_reason FROM buildings WHERE id = ?1",
            [&device.building_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let building_generation = generation as u64;
        if device.generation > building_generation {
            Ok((device.generation, "settings".to_owned()))
        } else {
            Ok((building_generation, reason))
        }
    }

    /// Everything the device's manifest lists now: the building's live items whose roles are
    /// empty or meet the device's roles.
    pub fn manifest_content(&self, device: &Device) -> Result<ManifestContent, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let (building, generation) = tx.query_row(
            "SELECT id, name, address, time_zone, locale, generation FROM buildings WHERE id = ?1",
            [&device.building_id],
            |row| Ok((building_from_row(row)?, row.get::<_, i64>(5)? as u64)),
        )?;
        let mut stmt = tx.prepare(
            "SELECT i.json FROM item_buildings ib JOIN items i ON i.id = ib.item_id
             WHERE ib.building_id = ?1 AND i.withdrawn_ms IS NULL ORDER BY i.id",
        )?;
        let mut items = Vec::new();
        for json in stmt.query_map([&device.building_id], |row| row.get::<_, String>(0))? {
            let json = json?;
            let item: serde_json::Value =
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("stored item: {e}")))?;
            let roles = item.get("roles").and_then(|r| r.as_array());
            let shown = match roles {
                None => true,
                Some(roles) if roles.is_empty() => true,
                Some(roles) => {
                    roles.iter().filter_map(|r| r.as_str()).any(|r| device.roles.iter().any(|d| d == r))
                }
            };
            if shown {
                items.push(item);
            }
        }
        Ok(ManifestContent { generation: generation.max(device.generation), building, items })
    }

    /// Keeps the device's latest heartbeat.
    pub fn record_heartbeat(
        &self,
        device_id: &str,
        heartbeat: &Heartbeat,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        let json = serde_json::to_string(heartbeat).expect("heartbeats serialize");
        conn.execute(
            "INSERT INTO heartbeats (device_id, received_ms, json) VALUES (?1, ?2, ?3)
             ON CONFLICT (device_id) DO UPDATE SET received_ms = excluded.received_ms, json = excluded.json",
            params![device_id, millis(now), json],
        )?;
        Ok(())
    }
}
