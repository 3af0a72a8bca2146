//! Plays in the store: what devices upload (idempotent by device and record id) and what a
//! publisher reads back as proof that an item was shown, where and when.

use jiff::Timestamp;
use palier_content::wire::PlayRecord;
use rusqlite::params;
use serde::Serialize;

use super::items::{existing, owned};
use super::{Publisher, Store, StoreError, instant, millis};

/// Plays of one item: totals per device and screen, and the records themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemPlays {
    pub item_id: String,
    pub total: u64,
    pub screens: Vec<ScreenPlays>,
    pub plays: Vec<PlayRow>,
    /// True when `plays` stops at the listing limit (the totals still count everything).
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScreenPlays {
    pub device_id: String,
    pub device_name: String,
    pub building_id: String,
    pub screen: String,
    pub count: u64,
    pub total_duration_ms: u64,
    pub first_shown: Timestamp,
    pub last_shown: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlayRow {
    pub device_id: String,
    pub id: String,
    pub item_version: u64,
    pub screen: String,
    pub role: String,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub trigger: String,
    pub clock_trusted: bool,
}

/// Most play records listed in one answer.
pub const MAX_LISTED_PLAYS: usize = 10_000;

impl Store {
    /// Stores play records; a record already stored for this device is kept as it was.
    pub fn record_plays(
        &self,
        device_id: &str,
        plays: &[PlayRecord],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO plays (device_id, id, item_id, item_version, screen, role, started_ms,
                                              duration_ms, trigger, clock_trusted, received_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for play in plays {
                insert.execute(params![
                    device_id,
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
        }
        tx.commit()?;
        Ok(())
    }

    /// Where and when this publisher's item was shown, from the plays devices uploaded.
    pub fn item_plays(&self, publisher: &Publisher, id: &str) -> Result<ItemPlays, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        owned(existing(&tx, id)?.as_ref(), id, publisher)?;
        let mut screens = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT p.device_id, d.name, d.building_id, p.screen, COUNT(*), SUM(p.duration_ms),
                        MIN(p.started_ms), MAX(p.started_ms)
                 FROM plays p JOIN devices d ON d.id = p.device_id
                 WHERE p.item_id = ?1 GROUP BY p.device_id, p.screen ORDER BY p.device_id, p.screen",
            )?;
            let rows = stmt.query_map([id], |row| {
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
                    device_id,
                    device_name,
                    building_id,
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
            let rows = stmt.query_map(params![id, (MAX_LISTED_PLAYS + 1) as i64], |row| {
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
                let (device_id, play_id, version, screen, role, started, duration, trigger, clock_trusted) =
                    row?;
                plays.push(PlayRow {
                    device_id,
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
        let truncated = plays.len() > MAX_LISTED_PLAYS;
        plays.truncate(MAX_LISTED_PLAYS);
        let total = screens.iter().map(|s| s.count).sum();
        Ok(ItemPlays { item_id: id.to_owned(), total, screens, plays, truncated })
    }
}
