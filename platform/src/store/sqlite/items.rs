//! Items, the buildings they target, withdrawals and media descriptions, in SQLite.

use std::collections::BTreeSet;

use jiff::Timestamp;
use palier_content::MediaRef;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Fail, Outcome, areas, bump_buildings, instant, millis, require_building};
use crate::ids::{BuildingId, ItemId, MediaAddress, PersonId, PublisherId};
use crate::moderation::Moderation;
use crate::store::{
    Admission, BuildingLoad, Change, Conflict, ItemQuery, ItemRecord, ItemWrite, MAX_LISTED_ITEMS, Moved,
    StoreError, WithdrawReason, Withdrawal,
};

/// Every building the item reaches (named or through an area), sorted.
fn buildings_of(tx: &Transaction<'_>, id: &str) -> Outcome<Vec<BuildingId>> {
    building_list(tx, "SELECT building_id FROM item_buildings WHERE item_id = ?1 ORDER BY building_id", id)
}

/// The buildings the item names, sorted.
fn named_buildings_of(tx: &Transaction<'_>, id: &str) -> Outcome<Vec<BuildingId>> {
    building_list(
        tx,
        "SELECT building_id FROM item_buildings WHERE item_id = ?1 AND named = 1 ORDER BY building_id",
        id,
    )
}

fn building_list(tx: &Transaction<'_>, sql: &str, id: &str) -> Outcome<Vec<BuildingId>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map([id], |row| row.get::<_, String>(0))?;
    Ok(rows.map(|r| r.map(BuildingId::stored)).collect::<Result<_, _>>()?)
}

const RECORD_COLUMNS: &str = "id, version, publisher_id, person_id, withdrawn_ms, withdrawn_reason, \
     moderation, moderation_reason, json, created_ms, updated_ms";

struct RecordRow {
    id: String,
    version: i64,
    publisher_id: String,
    person_id: Option<String>,
    withdrawn_ms: Option<i64>,
    withdrawn_reason: Option<String>,
    moderation: String,
    moderation_reason: Option<String>,
    json: String,
    created_ms: i64,
    updated_ms: i64,
}

fn record_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        id: row.get(0)?,
        version: row.get(1)?,
        publisher_id: row.get(2)?,
        person_id: row.get(3)?,
        withdrawn_ms: row.get(4)?,
        withdrawn_reason: row.get(5)?,
        moderation: row.get(6)?,
        moderation_reason: row.get(7)?,
        json: row.get(8)?,
        created_ms: row.get(9)?,
        updated_ms: row.get(10)?,
    })
}

fn finish(tx: &Transaction<'_>, row: RecordRow) -> Outcome<ItemRecord> {
    let withdrawn = match row.withdrawn_ms {
        Some(ms) => Some((instant(ms)?, row.withdrawn_reason.unwrap_or_default())),
        None => None,
    };
    let item =
        serde_json::from_str(&row.json).map_err(|e| Fail::Corrupt(format!("stored item {}: {e}", row.id)))?;
    Ok(ItemRecord {
        buildings: named_buildings_of(tx, &row.id)?,
        areas: areas::of_item(tx, &row.id)?,
        reach: buildings_of(tx, &row.id)?,
        id: ItemId::stored(row.id),
        version: row.version as u64,
        publisher_id: PublisherId::stored(row.publisher_id),
        person_id: row.person_id.map(PersonId::stored),
        withdrawn,
        moderation: Moderation::from_stored(&row.moderation, row.moderation_reason).map_err(Fail::Corrupt)?,
        item,
        created_at: instant(row.created_ms)?,
        updated_at: instant(row.updated_ms)?,
    })
}

pub(super) fn record(tx: &Transaction<'_>, id: &ItemId) -> Outcome<Option<ItemRecord>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM items WHERE id = ?1");
    let row = tx.query_row(&sql, [id.as_str()], record_row).optional()?;
    row.map(|row| finish(tx, row)).transpose()
}

pub(super) fn list(tx: &Transaction<'_>, query: &ItemQuery) -> Outcome<Vec<ItemRecord>> {
    let limit = MAX_LISTED_ITEMS as i64;
    let rows: Vec<RecordRow> = match query {
        ItemQuery::Building(building) => {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM items WHERE id IN (SELECT item_id FROM item_buildings WHERE building_id = ?1)
                 ORDER BY updated_ms DESC, id LIMIT ?2"
            );
            let mut stmt = tx.prepare(&sql)?;
            stmt.query_map(params![building.as_str(), limit], record_row)?.collect::<Result<_, _>>()?
        }
        ItemQuery::Pending(None) => {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM items WHERE moderation = 'pending' AND withdrawn_ms IS NULL
                 ORDER BY updated_ms, id LIMIT ?1"
            );
            let mut stmt = tx.prepare(&sql)?;
            stmt.query_map([limit], record_row)?.collect::<Result<_, _>>()?
        }
        ItemQuery::Pending(Some(buildings)) => {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM items WHERE moderation = 'pending' AND withdrawn_ms IS NULL
                   AND id IN (SELECT item_id FROM item_buildings WHERE building_id IN (SELECT value FROM json_each(?1)))
                 ORDER BY updated_ms, id LIMIT ?2"
            );
            let ids: Vec<&str> = buildings.iter().map(BuildingId::as_str).collect();
            let ids = serde_json::to_string(&ids).expect("strings serialize");
            let mut stmt = tx.prepare(&sql)?;
            stmt.query_map(params![ids, limit], record_row)?.collect::<Result<_, _>>()?
        }
    };
    rows.into_iter().map(|row| finish(tx, row)).collect()
}

/// Appends one line to the audit log.
pub(super) fn audit(
    tx: &Transaction<'_>,
    change: &Change,
    action: &str,
    item: Option<&ItemId>,
    detail: &str,
) -> Outcome<()> {
    tx.execute(
        "INSERT INTO audit (at_ms, actor_id, actor_name, via, action, item_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            millis(change.at),
            change.actor.as_ref().map(PublisherId::as_str),
            change.actor_name,
            change.via.as_str(),
            action,
            item.map(ItemId::as_str),
            detail
        ],
    )?;
    Ok(())
}

fn load(tx: &Transaction<'_>, building: &BuildingId) -> Outcome<BuildingLoad> {
    let (count, bytes): (i64, i64) = tx.query_row(
        "SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(i.json AS BLOB))), 0)
         FROM item_buildings ib JOIN items i ON i.id = ib.item_id
         WHERE ib.building_id = ?1 AND i.withdrawn_ms IS NULL",
        [building.as_str()],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(BuildingLoad { building: building.clone(), items: count as usize, bytes: bytes as usize })
}

pub(super) fn write(tx: &Transaction<'_>, write: &ItemWrite, admit: &Admission) -> Outcome<Moved> {
    let id = write.item.id.as_str();
    let current = tx
        .query_row("SELECT version FROM items WHERE id = ?1", [id], |row| row.get::<_, i64>(0))
        .optional()?
        .map(|v| v as u64);
    match (write.replaces, current) {
        (None, None) => {}
        (None, Some(_)) => return Err(StoreError::exists("item", id).into()),
        (Some(_), None) => return Err(StoreError::not_found("item", id).into()),
        (Some(expected), Some(current)) if expected != current => {
            let id = ItemId::stored(id.to_owned());
            return Err(StoreError::Conflict(Conflict::VersionMoved { id, expected, current }).into());
        }
        (Some(_), Some(_)) => {}
    }
    for building in &write.buildings {
        require_building(tx, building)?;
    }
    let item = &write.item;
    let json = serde_json::to_string(item).expect("items serialize");
    let old_buildings = buildings_of(tx, id)?;
    tx.execute(
        "INSERT INTO items (id, version, publisher_id, person_id, kind, valid_until_ms, json, created_ms, updated_ms,
                            moderation, moderation_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, person_id = excluded.person_id,
             kind = excluded.kind, valid_until_ms = excluded.valid_until_ms, json = excluded.json,
             updated_ms = excluded.updated_ms, withdrawn_ms = NULL, withdrawn_reason = NULL,
             moderation = excluded.moderation, moderation_reason = excluded.moderation_reason",
        params![
            id,
            item.version as i64,
            write.publisher_id.as_str(),
            write.person_id.as_ref().map(PersonId::as_str),
            item.kind().as_str(),
            millis(item.valid_until),
            json,
            millis(write.change.at),
            write.moderation.as_str(),
            write.moderation.reason()
        ],
    )?;
    areas::set_item_targets(tx, id, &write.buildings, &write.areas)?;
    let reach = buildings_of(tx, id)?;
    for building in &reach {
        admit(&load(tx, building)?).map_err(|message| Fail::Store(StoreError::Refused(message)))?;
    }
    let touched: Vec<BuildingId> =
        old_buildings.into_iter().chain(reach).collect::<BTreeSet<_>>().into_iter().collect();
    let reason = if write.replaces.is_none() { "publish" } else { "update" };
    let detail = format!("version {}, {}", item.version, write.moderation.as_str());
    audit(tx, &write.change, reason, Some(&ItemId::stored(id.to_owned())), &detail)?;
    bump_buildings(tx, &touched, reason)
}

pub(super) fn moderate(
    tx: &Transaction<'_>,
    id: &ItemId,
    version: u64,
    moderation: &Moderation,
    change: &Change,
) -> Outcome<Moved> {
    let current = tx
        .query_row(
            "SELECT version, moderation, withdrawn_ms IS NULL FROM items WHERE id = ?1",
            [id.as_str()],
            |row| Ok((row.get::<_, i64>(0)? as u64, row.get::<_, String>(1)?, row.get::<_, bool>(2)?)),
        )
        .optional()?;
    let (stored, before, live) = current.ok_or_else(|| StoreError::not_found("item", id))?;
    if stored != version {
        return Err(StoreError::Conflict(Conflict::VersionMoved {
            id: id.clone(),
            expected: version,
            current: stored,
        })
        .into());
    }
    tx.execute(
        "UPDATE items SET moderation = ?2, moderation_reason = ?3 WHERE id = ?1",
        params![id.as_str(), moderation.as_str(), moderation.reason()],
    )?;
    let action = if moderation.is_shown() { "approve" } else { "reject" };
    audit(tx, change, action, Some(id), moderation.reason().unwrap_or(""))?;
    let shown_before = before == "approved";
    if live && shown_before != moderation.is_shown() {
        let buildings = buildings_of(tx, id.as_str())?;
        bump_buildings(tx, &buildings, if moderation.is_shown() { "publish" } else { "withdraw" })
    } else {
        Ok(Moved::default())
    }
}

pub(super) fn withdraw(
    tx: &Transaction<'_>,
    ids: &[ItemId],
    reason: WithdrawReason,
    change: &Change,
) -> Outcome<Withdrawal> {
    let mut items = Vec::new();
    let mut buildings = BTreeSet::new();
    for id in ids {
        let changed = tx.execute(
            "UPDATE items SET withdrawn_ms = ?2, withdrawn_reason = ?3 WHERE id = ?1 AND withdrawn_ms IS NULL",
            params![id.as_str(), millis(change.at), reason.as_str()],
        )?;
        if changed == 1 {
            items.push(id.clone());
            buildings.extend(buildings_of(tx, id.as_str())?);
            audit(tx, change, reason.action(), Some(id), "")?;
        }
    }
    let buildings: Vec<BuildingId> = buildings.into_iter().collect();
    let moved = bump_buildings(tx, &buildings, "withdraw")?;
    Ok(Withdrawal { items, moved })
}

fn ids(tx: &Transaction<'_>, sql: &str, params: impl rusqlite::Params) -> Outcome<Vec<ItemId>> {
    let mut stmt = tx.prepare(sql)?;
    let rows = stmt.query_map(params, |row| row.get::<_, String>(0))?;
    Ok(rows.map(|r| r.map(ItemId::stored)).collect::<Result<_, _>>()?)
}

pub(super) fn of_person(
    tx: &Transaction<'_>,
    publisher: &PublisherId,
    person: &PersonId,
) -> Outcome<Vec<ItemId>> {
    ids(
        tx,
        "SELECT id FROM items WHERE publisher_id = ?1 AND person_id = ?2 AND withdrawn_ms IS NULL ORDER BY id",
        params![publisher.as_str(), person.as_str()],
    )
}

pub(super) fn expired(tx: &Transaction<'_>, now: Timestamp) -> Outcome<Vec<ItemId>> {
    ids(
        tx,
        "SELECT id FROM items WHERE withdrawn_ms IS NULL AND valid_until_ms <= ?1 ORDER BY id",
        [millis(now)],
    )
}

pub(super) fn media(tx: &Transaction<'_>, address: &MediaAddress) -> Outcome<Option<MediaRef>> {
    Ok(tx
        .query_row(
            "SELECT sha256, bytes, mime, width, height FROM media WHERE sha256 = ?1",
            [address.as_str()],
            |row| {
                Ok(MediaRef {
                    sha256: row.get(0)?,
                    bytes: row.get::<_, i64>(1)? as u64,
                    mime: row.get(2)?,
                    width: row.get(3)?,
                    height: row.get(4)?,
                    credit: None,
                })
            },
        )
        .optional()?)
}

pub(super) fn add_media(tx: &Transaction<'_>, media: &MediaRef, now: Timestamp) -> Outcome<bool> {
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO media (sha256, bytes, mime, width, height, uploaded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![media.sha256, media.bytes as i64, media.mime, media.width, media.height, millis(now)],
    )?;
    Ok(inserted == 1)
}
