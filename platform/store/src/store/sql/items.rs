//! Items, the buildings they target, withdrawals and media descriptions, in SQL both engines run.

use std::collections::BTreeSet;

use jiff::Timestamp;
use palier_content::MediaRef;

use super::{
    Fail, Outcome, Param, Row, Tx, areas, audit, bump_buildings, execute, get, instant, millis, query,
    query_one, query_opt, require_building, texts,
};
use crate::ids::{BuildingId, ItemId, MediaAddress, PersonId, PublisherId};
use crate::moderation::Moderation;
use crate::store::{
    Admission, BuildingLoad, Change, Conflict, ItemQuery, ItemRecord, ItemWrite, MAX_LISTED_ITEMS, Moved,
    StoreError, WithdrawReason, Withdrawal,
};

/// Every building the item reaches (named or through an area), sorted.
async fn buildings_of(tx: &dyn Tx, id: &str) -> Outcome<Vec<BuildingId>> {
    building_list(tx, "SELECT building_id FROM item_buildings WHERE item_id = $1 ORDER BY building_id", id)
        .await
}

/// The buildings the item names, sorted.
async fn named_buildings_of(tx: &dyn Tx, id: &str) -> Outcome<Vec<BuildingId>> {
    building_list(
        tx,
        "SELECT building_id FROM item_buildings WHERE item_id = $1 AND named = 1 ORDER BY building_id",
        id,
    )
    .await
}

async fn building_list(tx: &dyn Tx, sql: &str, id: &str) -> Outcome<Vec<BuildingId>> {
    let rows = query(tx, sql, &[&id]).await?;
    rows.iter().map(|row| get::<String>(row, 0).map(BuildingId::stored)).collect()
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

fn record_row(row: &Row) -> Outcome<RecordRow> {
    Ok(RecordRow {
        id: get(row, 0)?,
        version: get(row, 1)?,
        publisher_id: get(row, 2)?,
        person_id: get(row, 3)?,
        withdrawn_ms: get(row, 4)?,
        withdrawn_reason: get(row, 5)?,
        moderation: get(row, 6)?,
        moderation_reason: get(row, 7)?,
        json: get(row, 8)?,
        created_ms: get(row, 9)?,
        updated_ms: get(row, 10)?,
    })
}

async fn finish(tx: &dyn Tx, row: RecordRow) -> Outcome<ItemRecord> {
    let withdrawn = match row.withdrawn_ms {
        Some(ms) => Some((instant(ms)?, row.withdrawn_reason.unwrap_or_default())),
        None => None,
    };
    let item =
        serde_json::from_str(&row.json).map_err(|e| Fail::Corrupt(format!("stored item {}: {e}", row.id)))?;
    Ok(ItemRecord {
        buildings: named_buildings_of(tx, &row.id).await?,
        areas: areas::of_item(tx, &row.id).await?,
        reach: buildings_of(tx, &row.id).await?,
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

pub(super) async fn record(tx: &dyn Tx, id: &ItemId) -> Outcome<Option<ItemRecord>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM items WHERE id = $1");
    let row = match query_opt(tx, &sql, &[&id.as_str()]).await? {
        Some(row) => record_row(&row)?,
        None => return Ok(None),
    };
    Ok(Some(finish(tx, row).await?))
}

pub(super) async fn list(tx: &dyn Tx, query: &ItemQuery) -> Outcome<Vec<ItemRecord>> {
    let limit = MAX_LISTED_ITEMS as i64;
    let rows: Vec<Row> = match query {
        ItemQuery::Building(building) => {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM items WHERE id IN (SELECT item_id FROM item_buildings WHERE building_id = $1)
                 ORDER BY updated_ms DESC, id LIMIT $2"
            );
            self::query(tx, &sql, &[&building.as_str(), &limit]).await?
        }
        ItemQuery::Pending(None) => {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM items WHERE moderation = 'pending' AND withdrawn_ms IS NULL
                 ORDER BY updated_ms, id LIMIT $1"
            );
            self::query(tx, &sql, &[&limit]).await?
        }
        ItemQuery::Pending(Some(buildings)) => {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM items WHERE moderation = 'pending' AND withdrawn_ms IS NULL
                   AND id IN (SELECT item_id FROM item_buildings WHERE building_id IN ({}))
                 ORDER BY updated_ms, id LIMIT $2",
                tx.dialect().text_set("$1")
            );
            let ids = texts(buildings);
            self::query(tx, &sql, &[&ids, &limit]).await?
        }
    };
    let rows: Vec<RecordRow> = rows.iter().map(record_row).collect::<Result<_, _>>()?;
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        records.push(finish(tx, row).await?);
    }
    Ok(records)
}

async fn load(tx: &dyn Tx, building: &BuildingId) -> Outcome<BuildingLoad> {
    let row = query_one(
        tx,
        "SELECT COUNT(*), CAST(COALESCE(SUM(octet_length(i.json)), 0) AS BIGINT)
         FROM item_buildings ib JOIN items i ON i.id = ib.item_id
         WHERE ib.building_id = $1 AND i.withdrawn_ms IS NULL",
        &[&building.as_str()],
    )
    .await?;
    let (count, bytes): (i64, i64) = (get(&row, 0)?, get(&row, 1)?);
    Ok(BuildingLoad { building: building.clone(), items: count as usize, bytes: bytes as usize })
}

pub(super) async fn write(tx: &dyn Tx, write: &ItemWrite, admit: &Admission) -> Outcome<Moved> {
    let id = write.item.id.as_str();
    let current = match query_opt(tx, "SELECT version FROM items WHERE id = $1", &[&id]).await? {
        Some(row) => Some(get::<i64>(&row, 0)? as u64),
        None => None,
    };
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
        require_building(tx, building).await?;
    }
    let item = &write.item;
    let json = serde_json::to_string(item).expect("items serialize");
    let old_buildings = buildings_of(tx, id).await?;
    execute(
        tx,
        "INSERT INTO items (id, version, publisher_id, person_id, kind, valid_until_ms, json, created_ms, updated_ms,
                            moderation, moderation_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, person_id = excluded.person_id,
             kind = excluded.kind, valid_until_ms = excluded.valid_until_ms, json = excluded.json,
             updated_ms = excluded.updated_ms, withdrawn_ms = NULL, withdrawn_reason = NULL,
             moderation = excluded.moderation, moderation_reason = excluded.moderation_reason",
        &[
            &id,
            &(item.version as i64),
            &write.publisher_id.as_str(),
            &write.person_id.as_ref().map(PersonId::as_str),
            &item.kind().as_str(),
            &millis(item.valid_until),
            &json,
            &millis(write.change.at),
            &write.moderation.as_str(),
            &write.moderation.reason(),
        ],
    )
    .await?;
    areas::set_item_targets(tx, id, &write.buildings, &write.areas).await?;
    let reach = buildings_of(tx, id).await?;
    for building in &reach {
        admit(&load(tx, building).await?).map_err(|message| Fail::Store(StoreError::Refused(message)))?;
    }
    let touched: Vec<BuildingId> =
        old_buildings.into_iter().chain(reach).collect::<BTreeSet<_>>().into_iter().collect();
    let reason = if write.replaces.is_none() { "publish" } else { "update" };
    let detail = format!("version {}, {}", item.version, write.moderation.as_str());
    audit(tx, &write.change, reason, Some(&ItemId::stored(id.to_owned())), &detail).await?;
    bump_buildings(tx, &touched, reason).await
}

pub(super) async fn moderate(
    tx: &dyn Tx,
    id: &ItemId,
    version: u64,
    moderation: &Moderation,
    change: &Change,
) -> Outcome<Moved> {
    let current = match query_opt(
        tx,
        "SELECT version, moderation, withdrawn_ms IS NULL FROM items WHERE id = $1",
        &[&id.as_str()],
    )
    .await?
    {
        Some(row) => Some((get::<i64>(&row, 0)? as u64, get::<String>(&row, 1)?, get::<bool>(&row, 2)?)),
        None => None,
    };
    let (stored, before, live) = current.ok_or_else(|| StoreError::not_found("item", id))?;
    if stored != version {
        return Err(StoreError::Conflict(Conflict::VersionMoved {
            id: id.clone(),
            expected: version,
            current: stored,
        })
        .into());
    }
    execute(
        tx,
        "UPDATE items SET moderation = $2, moderation_reason = $3 WHERE id = $1",
        &[&id.as_str(), &moderation.as_str(), &moderation.reason()],
    )
    .await?;
    let action = if moderation.is_shown() { "approve" } else { "reject" };
    audit(tx, change, action, Some(id), moderation.reason().unwrap_or("")).await?;
    let shown_before = before == "approved";
    if live && shown_before != moderation.is_shown() {
        let buildings = buildings_of(tx, id.as_str()).await?;
        bump_buildings(tx, &buildings, if moderation.is_shown() { "publish" } else { "withdraw" }).await
    } else {
        Ok(Moved::default())
    }
}

pub(super) async fn withdraw(
    tx: &dyn Tx,
    ids: &[ItemId],
    reason: WithdrawReason,
    change: &Change,
) -> Outcome<Withdrawal> {
    let mut items = Vec::new();
    let mut buildings = BTreeSet::new();
    for id in ids {
        let changed = execute(
            tx,
            "UPDATE items SET withdrawn_ms = $2, withdrawn_reason = $3 WHERE id = $1 AND withdrawn_ms IS NULL",
            &[&id.as_str(), &millis(change.at), &reason.as_str()],
        )
        .await?;
        if changed == 1 {
            items.push(id.clone());
            buildings.extend(buildings_of(tx, id.as_str()).await?);
            audit(tx, change, reason.action(), Some(id), "").await?;
        }
    }
    let buildings: Vec<BuildingId> = buildings.into_iter().collect();
    let moved = bump_buildings(tx, &buildings, "withdraw").await?;
    Ok(Withdrawal { items, moved })
}

async fn ids(tx: &dyn Tx, sql: &str, params: &[Param<'_>]) -> Outcome<Vec<ItemId>> {
    let rows = query(tx, sql, params).await?;
    rows.iter().map(|row| get::<String>(row, 0).map(ItemId::stored)).collect()
}

pub(super) async fn of_person(
    tx: &dyn Tx,
    publisher: &PublisherId,
    person: &PersonId,
) -> Outcome<Vec<ItemId>> {
    ids(
        tx,
        "SELECT id FROM items WHERE publisher_id = $1 AND person_id = $2 AND withdrawn_ms IS NULL ORDER BY id",
        &[&publisher.as_str(), &person.as_str()],
    )
    .await
}

pub(super) async fn expired(tx: &dyn Tx, now: Timestamp) -> Outcome<Vec<ItemId>> {
    ids(
        tx,
        "SELECT id FROM items WHERE withdrawn_ms IS NULL AND valid_until_ms <= $1 ORDER BY id",
        &[&millis(now)],
    )
    .await
}

/// A stored width or height, which was a `u32` when written.
fn dimension(value: i64, what: &str, address: &MediaAddress) -> Outcome<u32> {
    u32::try_from(value).map_err(|_| Fail::Corrupt(format!("media {address}: {what} {value}")))
}

pub(super) async fn media(tx: &dyn Tx, address: &MediaAddress) -> Outcome<Option<MediaRef>> {
    let Some(row) = query_opt(
        tx,
        "SELECT sha256, bytes, mime, width, height FROM media WHERE sha256 = $1",
        &[&address.as_str()],
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(MediaRef {
        sha256: get(&row, 0)?,
        bytes: get::<i64>(&row, 1)? as u64,
        mime: get(&row, 2)?,
        width: dimension(get(&row, 3)?, "width", address)?,
        height: dimension(get(&row, 4)?, "height", address)?,
        credit: None,
    }))
}

pub(super) async fn add_media(tx: &dyn Tx, media: &MediaRef, now: Timestamp) -> Outcome<bool> {
    let inserted = execute(
        tx,
        "INSERT INTO media (sha256, bytes, mime, width, height, uploaded_ms) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING",
        &[
            &media.sha256,
            &(media.bytes as i64),
            &media.mime,
            &i64::from(media.width),
            &i64::from(media.height),
            &millis(now),
        ],
    )
    .await?;
    Ok(inserted == 1)
}
