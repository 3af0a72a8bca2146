//! Plays in SQLite: what devices upload (idempotent by device and record id) and the proof of
//! display read back per item.

use jiff::Timestamp;
use palier_content::wire::PlayRecord;
use rusqlite::{Transaction, params};

use super::{Outcome, instant, millis};
use crate::ids::{BuildingId, DeviceId, ItemId};
use crate::store::{ItemPlays, PlayRow, ScreenPlays};

pub(super) fn record(
    tx: &Transaction<'_>,
    device: &DeviceId,
    plays: &[PlayRecord],
    now: Timestamp,
) -> Outcome<()> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO plays (device_id, id, item_id, item_version, screen, role, started_ms,
                                      duration_ms, trigger, clock_trusted, received_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for play in plays {
        insert.execute(params![
            device.as_str(),
            play.id,
            play.item_id,
            i64::try_from(play.item_version).unwrap_or(i64::MAX),
            play.screen,
            play.role,
            millis(play.started_at),
            i64::try_from(play.duration_ms).unwrap_or(i64::MAX),
            play.trigger.as_str(),
            play.clock_trusted,
            millis(now)
        ])?;
    }
    Ok(())
}

pub(super) fn of_item(tx: &Transaction<'_>, id: &ItemId, limit: usize) -> Outcome<ItemPlays> {
    let mut screens = Vec::new();
    {
        let mut stmt = tx.prepare(
            "SELECT p.device_id, d.name, d.building_id, p.screen, COUNT(*), SUM(p.duration_ms),
                    MIN(p.started_ms), MAX(p.started_ms)
             FROM plays p JOIN devices d ON d.id = p.device_id
             WHERE p.item_id = ?1 GROUP BY p.device_id, d.name, d.building_id, p.screen
             ORDER BY p.device_id, p.screen",
        )?;
        let rows = stmt.query_map([id.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, i64>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, i64>(7)?,
            ))
        })?;
        for row in rows {
            let (device_id, device_name, building_id, screen, count, duration, first, last) = row?;
            screens.push(ScreenPlays {
                device_id: DeviceId::stored(device_id),
                device_name,
                building_id: BuildingId::stored(building_id),
                screen,
                count: count as u64,
                total_duration_ms: duration as u64,
                first_shown: instant(first)?,
                last_shown: instant(last)?,
            });
        }
    }
    let mut plays = Vec::new();
    {
        let mut stmt = tx.prepare(
            "SELECT device_id, id, item_version, screen, role, started_ms, duration_ms, trigger, clock_trusted
             FROM plays WHERE item_id = ?1 ORDER BY started_ms, device_id, id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![id.as_str(), (limit as i64).saturating_add(1)], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, bool>(8)?,
            ))
        })?;
        for row in rows {
            let (device_id, play_id, version, screen, role, started, duration, trigger, clock_trusted) = row?;
            plays.push(PlayRow {
                device_id: DeviceId::stored(device_id),
                id: play_id,
                item_version: version as u64,
                screen,
                role,
                started_at: instant(started)?,
                duration_ms: duration as u64,
                trigger,
                clock_trusted,
            });
        }
    }
    let truncated = plays.len() > limit;
    plays.truncate(limit);
    let total = screens.iter().map(|s| s.count).sum();
    Ok(ItemPlays { item_id: id.clone(), total, screens, plays, truncated })
}
