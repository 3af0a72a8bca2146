//! Areas in SQLite: neighbourhoods and cities, the buildings in them, and what publishers
//! and items reach through them.
//!
//! An item's reach is kept in `item_buildings` (named buildings with `named = 1`, those
//! reached through an area with `named = 0`), so the poll path, the admission check, change
//! hints and proof of play read one table whatever the item targets. Putting a building in
//! an area adds the rows of the items already targeting that area (or an area it lies
//! within) and moves the building's manifests. A publisher's reach is read when the
//! publisher is, so a building added to its area later is in it at once.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Fail, Outcome, bump_buildings, millis, require_building};
use crate::ids::{AreaId, BuildingId};
use crate::store::{Area, AreaEntry, AreaKind, Change, Moved, StoreError};

/// The areas given and every area within them, transitively, as SQL over `json_each(?1)`.
const WITHIN_CLOSURE: &str = "WITH RECURSIVE closure(id) AS (
         SELECT value FROM json_each(?1)
         UNION SELECT a.id FROM areas a JOIN closure c ON a.within_id = c.id
     )";

fn json_ids<T: AsRef<str>>(ids: &[T]) -> String {
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&ids).expect("strings serialize")
}

fn area_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, Option<String>)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn area_from(row: (String, String, String, Option<String>)) -> Outcome<Area> {
    let (id, name, kind, within) = row;
    let kind = AreaKind::parse(&kind).ok_or_else(|| Fail::Corrupt(format!("area {id} has kind {kind:?}")))?;
    Ok(Area { id: AreaId::stored(id), name, kind, within: within.map(AreaId::stored) })
}

pub(super) fn require_area(tx: &Transaction<'_>, id: &AreaId) -> Outcome<()> {
    let found = tx.query_row("SELECT 1 FROM areas WHERE id = ?1", [id.as_str()], |_| Ok(())).optional()?;
    if found.is_some() { Ok(()) } else { Err(StoreError::not_found("area", id).into()) }
}

pub(super) fn add(tx: &Transaction<'_>, area: &Area, now: Timestamp) -> Outcome<()> {
    if tx.query_row("SELECT 1 FROM areas WHERE id = ?1", [area.id.as_str()], |_| Ok(())).optional()?.is_some()
    {
        return Err(StoreError::exists("area", &area.id).into());
    }
    if let Some(within) = &area.within {
        require_area(tx, within)?;
    }
    tx.execute(
        "INSERT INTO areas (id, name, kind, within_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            area.id.as_str(),
            area.name,
            area.kind.as_str(),
            area.within.as_ref().map(AreaId::as_str),
            millis(now)
        ],
    )?;
    Ok(())
}

pub(super) fn find(tx: &Transaction<'_>, id: &AreaId) -> Outcome<Option<Area>> {
    let row = tx
        .query_row("SELECT id, name, kind, within_id FROM areas WHERE id = ?1", [id.as_str()], area_row)
        .optional()?;
    row.map(area_from).transpose()
}

pub(super) fn list(tx: &Transaction<'_>) -> Outcome<Vec<AreaEntry>> {
    let rows: Vec<_> = {
        let mut stmt = tx.prepare("SELECT id, name, kind, within_id FROM areas ORDER BY id")?;
        stmt.query_map([], area_row)?.collect::<Result<_, _>>()?
    };
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let area = area_from(row)?;
        let buildings = building_list(
            tx,
            "SELECT building_id FROM area_buildings WHERE area_id = ?1 ORDER BY building_id",
            area.id.as_str(),
        )?;
        let reach = reach(tx, std::slice::from_ref(&area.id))?;
        entries.push(AreaEntry { area, buildings, reach });
    }
    Ok(entries)
}

fn building_list(tx: &Transaction<'_>, sql: &str, key: &str) -> Outcome<Vec<BuildingId>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map([key], |row| row.get::<_, String>(0))?;
    Ok(rows.map(|r| r.map(BuildingId::stored)).collect::<Result<_, _>>()?)
}

/// Every building these areas reach, sorted.
pub(super) fn reach(tx: &Transaction<'_>, areas: &[AreaId]) -> Outcome<Vec<BuildingId>> {
    if areas.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{WITHIN_CLOSURE} SELECT DISTINCT building_id FROM area_buildings
         WHERE area_id IN (SELECT id FROM closure) ORDER BY building_id"
    );
    building_list(tx, &sql, &json_ids(areas))
}

/// The areas a publisher was given, sorted.
pub(super) fn of_publisher(tx: &Transaction<'_>, publisher: &str) -> Outcome<Vec<AreaId>> {
    area_list(tx, "SELECT area_id FROM publisher_areas WHERE publisher_id = ?1 ORDER BY area_id", publisher)
}

/// The areas an item targets, sorted.
pub(super) fn of_item(tx: &Transaction<'_>, item: &str) -> Outcome<Vec<AreaId>> {
    area_list(tx, "SELECT area_id FROM item_areas WHERE item_id = ?1 ORDER BY area_id", item)
}

fn area_list(tx: &Transaction<'_>, sql: &str, key: &str) -> Outcome<Vec<AreaId>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map([key], |row| row.get::<_, String>(0))?;
    Ok(rows.map(|r| r.map(AreaId::stored)).collect::<Result<_, _>>()?)
}

pub(super) fn set_publisher_areas(tx: &Transaction<'_>, publisher: &str, areas: &[AreaId]) -> Outcome<()> {
    for area in areas {
        require_area(tx, area)?;
        tx.execute(
            "INSERT OR IGNORE INTO publisher_areas (publisher_id, area_id) VALUES (?1, ?2)",
            params![publisher, area.as_str()],
        )?;
    }
    Ok(())
}

/// Replaces an item's targets: its named buildings, its areas and the buildings they reach.
pub(super) fn set_item_targets(
    tx: &Transaction<'_>,
    item: &str,
    buildings: &[BuildingId],
    areas: &[AreaId],
) -> Outcome<()> {
    tx.execute("DELETE FROM item_buildings WHERE item_id = ?1", [item])?;
    tx.execute("DELETE FROM item_areas WHERE item_id = ?1", [item])?;
    for building in buildings {
        tx.execute(
            "INSERT OR IGNORE INTO item_buildings (building_id, item_id, named) VALUES (?1, ?2, 1)",
            params![building.as_str(), item],
        )?;
    }
    for area in areas {
        require_area(tx, area)?;
        tx.execute(
            "INSERT OR IGNORE INTO item_areas (item_id, area_id) VALUES (?1, ?2)",
            params![item, area.as_str()],
        )?;
    }
    for building in reach(tx, areas)? {
        tx.execute(
            "INSERT OR IGNORE INTO item_buildings (building_id, item_id, named) VALUES (?1, ?2, 0)",
            params![building.as_str(), item],
        )?;
    }
    Ok(())
}

pub(super) fn add_building(
    tx: &Transaction<'_>,
    area: &AreaId,
    building: &BuildingId,
    change: &Change,
) -> Outcome<Moved> {
    require_area(tx, area)?;
    require_building(tx, building)?;
    let added = tx.execute(
        "INSERT OR IGNORE INTO area_buildings (area_id, building_id) VALUES (?1, ?2)",
        params![area.as_str(), building.as_str()],
    )?;
    if added == 0 {
        return Ok(Moved::default());
    }
    super::items::audit(tx, change, "area", None, &format!("building {building} joined area {area}"))?;
    // The area and every area it lies within.
    let reached = tx.execute(
        "WITH RECURSIVE up(id) AS (
             SELECT ?1
             UNION SELECT a.within_id FROM areas a JOIN up ON a.id = up.id WHERE a.within_id IS NOT NULL
         )
         INSERT OR IGNORE INTO item_buildings (building_id, item_id, named)
         SELECT ?2, item_id, 0 FROM item_areas WHERE area_id IN (SELECT id FROM up)",
        params![area.as_str(), building.as_str()],
    )?;
    if reached == 0 {
        return Ok(Moved::default());
    }
    bump_buildings(tx, std::slice::from_ref(building), "area")
}
