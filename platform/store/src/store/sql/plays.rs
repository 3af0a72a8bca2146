//! Plays in PostgreSQL: what devices upload (idempotent by device and record id) and the proof
//! of display read back per item.

use jiff::Timestamp;
use palier_content::wire::PlayRecord;

use super::{Outcome, Tx, execute, get, instant, millis, query};
use crate::ids::{BuildingId, DeviceId, ItemId};
use crate::store::{ItemPlays, PlayRow, ScreenPlays};

pub(super) async fn record(
    tx: &dyn Tx,
    device: &DeviceId,
    plays: &[PlayRecord],
    now: Timestamp,
) -> Outcome<()> {
    for play in plays {
        execute(
            tx,
            "INSERT INTO plays (device_id, id, item_id, item_version, screen, role, started_ms,
                                duration_ms, trigger, clock_trusted, received_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT DO NOTHING",
            &[
                &device.as_str(),
                &play.id,
                &play.item_id,
                &i64::try_from(play.item_version).unwrap_or(i64::MAX),
                &play.screen,
                &play.role,
                &millis(play.started_at),
                &i64::try_from(play.duration_ms).unwrap_or(i64::MAX),
                &play.trigger.as_str(),
                &i64::from(play.clock_trusted),
                &millis(now),
            ],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn of_item(tx: &dyn Tx, id: &ItemId, limit: usize) -> Outcome<ItemPlays> {
    let mut screens = Vec::new();
    {
        let rows = query(
            tx,
            "SELECT p.device_id, d.name, d.building_id, p.screen, COUNT(*), CAST(COALESCE(SUM(p.duration_ms), 0) AS BIGINT),
                    MIN(p.started_ms), MAX(p.started_ms)
             FROM plays p JOIN devices d ON d.id = p.device_id
             WHERE p.item_id = $1 GROUP BY p.device_id, d.name, d.building_id, p.screen
             ORDER BY p.device_id, p.screen",
            &[&id.as_str()],
        )
        .await?;
        for row in &rows {
            let (device_id, device_name, building_id, screen, count, duration, first, last) = (
                get::<String>(row, 0)?,
                get::<String>(row, 1)?,
                get::<String>(row, 2)?,
                get::<String>(row, 3)?,
                get::<i64>(row, 4)?,
                get::<i64>(row, 5)?,
                get::<i64>(row, 6)?,
                get::<i64>(row, 7)?,
            );
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
        let rows = query(
            tx,
            "SELECT device_id, id, item_version, screen, role, started_ms, duration_ms, trigger, clock_trusted
             FROM plays WHERE item_id = $1 ORDER BY started_ms, device_id, id LIMIT $2",
            &[&id.as_str(), &(limit as i64).saturating_add(1)],
        )
        .await?;
        for row in &rows {
            let (device_id, play_id, version, screen, role, started, duration, trigger, clock_trusted) = (
                get::<String>(row, 0)?,
                get::<String>(row, 1)?,
                get::<i64>(row, 2)?,
                get::<String>(row, 3)?,
                get::<String>(row, 4)?,
                get::<i64>(row, 5)?,
                get::<i64>(row, 6)?,
                get::<String>(row, 7)?,
                get::<i64>(row, 8)? != 0,
            );
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
