//! Items, the buildings they target, withdrawals and media descriptions, in SQLite.

use std::collections::BTreeSet;

use jiff::Timestamp;
use palier_content::MediaRef;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Fail, Outcome, bump_buildings, millis, require_building};
use crate::ids::{BuildingId, ItemId, MediaAddress, PersonId, PublisherId};
use crate::store::{
    Admission, BuildingLoad, Conflict, ItemRecord, ItemWrite, Moved, StoreError, WithdrawReason, Withdrawal,
};

fn buildings_of(tx: &Transaction<'_>, id: &str) -> Outcome<Vec<BuildingId>> {
    let mut stmt =
        tx.prepare_cached("SELECT building_id FROM item_buildings WHERE item_id = ?1 ORDER BY building_id")?;
    let rows = stmt.query_map([id], |row| row.get::<_, String>(0))?;
    Ok(rows.map(|r| r.map(BuildingId::stored)).collect::<Result<_, _>>()?)
}

pub(super) fn record(tx: &Transaction<'_>, id: &ItemId) -> Outcome<Option<ItemRecord>> {
    let row = tx
        .query_row(
            "SELECT version, publisher_id, person_id, withdrawn_ms IS NOT NULL FROM items WHERE id = ?1",
            [id.as_str()],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, bool>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((version, publisher_id, person_id, withdrawn)) = row else { return Ok(None) };
    Ok(Some(ItemRecord {
        id: id.clone(),
        version: version as u64,
        publisher_id: PublisherId::stored(publisher_id),
        person_id: person_id.map(PersonId::stored),
        withdrawn,
        buildings: buildings_of(tx, id.as_str())?,
    }))
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
        "INSERT INTO items (id, version, publisher_id, person_id, kind, valid_until_ms, json, created_ms, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, person_id = excluded.person_id,
             kind = excluded.kind, valid_until_ms = excluded.valid_until_ms, json = excluded.json,
             updated_ms = excluded.updated_ms, withdrawn_ms = NULL, withdrawn_reason = NULL",
        params![
            id,
            item.version as i64,
            write.publisher_id.as_str(),
            write.person_id.as_ref().map(PersonId::as_str),
            item.kind().as_str(),
            millis(item.valid_until),
            json,
            millis(write.at)
        ],
    )?;
    tx.execute("DELETE FROM item_buildings WHERE item_id = ?1", [id])?;
    for building in &write.buildings {
        tx.execute(
            "INSERT OR IGNORE INTO item_buildings (building_id, item_id) VALUES (?1, ?2)",
            params![building.as_str(), id],
        )?;
    }
    for building in &write.buildings {
        admit(&load(tx, building)?).map_err(|message| Fail::Store(StoreError::Refused(message)))?;
    }
    let touched: Vec<BuildingId> = old_buildings
        .into_iter()
        .chain(write.buildings.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let reason = if write.replaces.is_none() { "publish" } else { "update" };
    bump_buildings(tx, &touched, reason)
}

pub(super) fn withdraw(
    tx: &Transaction<'_>,
    ids: &[ItemId],
    reason: WithdrawReason,
    now: Timestamp,
) -> Outcome<Withdrawal> {
    let mut items = Vec::new();
    let mut buildings = BTreeSet::new();
    for id in ids {
        let changed = tx.execute(
            "UPDATE items SET withdrawn_ms = ?2, withdrawn_reason = ?3 WHERE id = ?1 AND withdrawn_ms IS NULL",
            params![id.as_str(), millis(now), reason.as_str()],
        )?;
        if changed == 1 {
            items.push(id.clone());
            buildings.extend(buildings_of(tx, id.as_str())?);
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
