//! Areas in PostgreSQL: neighbourhoods and cities, the buildings in them, and what publishers
//! and items reach through them.
//!
//! An item's reach is kept in `item_buildings` (named buildings with `named = 1`, those
//! reached through an area with `named = 0`), so the poll path, the admission check, change
//! hints and proof of play read one table whatever the item targets. Putting a building in
//! an area adds the rows of the items already targeting that area (or an area it lies
//! within) and moves the building's manifests. A publisher's reach is read when the
//! publisher is, so a building added to its area later is in it at once.

use jiff::Timestamp;

use super::{
    Fail, Outcome, Row, Tx, bump_buildings, execute, get, millis, query, query_opt, require_building, texts,
};
use crate::ids::{AreaId, BuildingId};
use crate::store::{Area, AreaEntry, AreaKind, Change, Moved, StoreError};

/// The areas of the list parameter `$1` and every area within them, transitively, as SQL.
///
/// The seed has the columns' collation ([`super::Dialect::text_set`]): PostgreSQL refuses a
/// recursive query whose non-recursive term has another collation than the whole.
fn within_closure(tx: &dyn Tx) -> String {
    format!(
        "WITH RECURSIVE closure(id) AS (
             {}
             UNION SELECT a.id FROM areas a JOIN closure c ON a.within_id = c.id
         )",
        tx.dialect().text_set("$1")
    )
}

fn area_row(row: &Row) -> Outcome<(String, String, String, Option<String>)> {
    Ok((get(row, 0)?, get(row, 1)?, get(row, 2)?, get(row, 3)?))
}

fn area_from(row: (String, String, String, Option<String>)) -> Outcome<Area> {
    let (id, name, kind, within) = row;
    let kind = AreaKind::parse(&kind).ok_or_else(|| Fail::Corrupt(format!("area {id} has kind {kind:?}")))?;
    Ok(Area { id: AreaId::stored(id), name, kind, within: within.map(AreaId::stored) })
}

pub(super) async fn require_area(tx: &dyn Tx, id: &AreaId) -> Outcome<()> {
    let found = query_opt(tx, "SELECT 1 FROM areas WHERE id = $1", &[&id.as_str()]).await?;
    if found.is_some() { Ok(()) } else { Err(StoreError::not_found("area", id).into()) }
}

pub(super) async fn add(tx: &dyn Tx, area: &Area, now: Timestamp) -> Outcome<()> {
    if query_opt(tx, "SELECT 1 FROM areas WHERE id = $1", &[&area.id.as_str()]).await?.is_some() {
        return Err(StoreError::exists("area", &area.id).into());
    }
    if let Some(within) = &area.within {
        require_area(tx, within).await?;
    }
    execute(
        tx,
        "INSERT INTO areas (id, name, kind, within_id, created_ms) VALUES ($1, $2, $3, $4, $5)",
        &[
            &area.id.as_str(),
            &area.name,
            &area.kind.as_str(),
            &area.within.as_ref().map(AreaId::as_str),
            &millis(now),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn find(tx: &dyn Tx, id: &AreaId) -> Outcome<Option<Area>> {
    let row =
        query_opt(tx, "SELECT id, name, kind, within_id FROM areas WHERE id = $1", &[&id.as_str()]).await?;
    row.as_ref().map(area_row).transpose()?.map(area_from).transpose()
}

pub(super) async fn list(tx: &dyn Tx) -> Outcome<Vec<AreaEntry>> {
    let rows: Vec<_> = query(tx, "SELECT id, name, kind, within_id FROM areas ORDER BY id", &[])
        .await?
        .iter()
        .map(area_row)
        .collect::<Result<_, _>>()?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let area = area_from(row)?;
        let buildings = building_list(
            tx,
            "SELECT building_id FROM area_buildings WHERE area_id = $1 ORDER BY building_id",
            area.id.as_str(),
        )
        .await?;
        let reach = reach(tx, std::slice::from_ref(&area.id)).await?;
        entries.push(AreaEntry { area, buildings, reach });
    }
    Ok(entries)
}

fn building_ids(rows: &[Row]) -> Outcome<Vec<BuildingId>> {
    rows.iter().map(|row| get::<String>(row, 0).map(BuildingId::stored)).collect()
}

async fn building_list(tx: &dyn Tx, sql: &str, key: &str) -> Outcome<Vec<BuildingId>> {
    building_ids(&query(tx, sql, &[&key]).await?)
}

/// Every building these areas reach, sorted.
pub(super) async fn reach(tx: &dyn Tx, areas: &[AreaId]) -> Outcome<Vec<BuildingId>> {
    if areas.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{} SELECT DISTINCT building_id FROM area_buildings
         WHERE area_id IN (SELECT id FROM closure) ORDER BY building_id",
        within_closure(tx)
    );
    building_ids(&query(tx, &sql, &[&texts(areas)]).await?)
}

/// The areas a publisher was given, sorted.
pub(super) async fn of_publisher(tx: &dyn Tx, publisher: &str) -> Outcome<Vec<AreaId>> {
    area_list(tx, "SELECT area_id FROM publisher_areas WHERE publisher_id = $1 ORDER BY area_id", publisher)
        .await
}

/// The areas an item targets, sorted.
pub(super) async fn of_item(tx: &dyn Tx, item: &str) -> Outcome<Vec<AreaId>> {
    area_list(tx, "SELECT area_id FROM item_areas WHERE item_id = $1 ORDER BY area_id", item).await
}

async fn area_list(tx: &dyn Tx, sql: &str, key: &str) -> Outcome<Vec<AreaId>> {
    let rows = query(tx, sql, &[&key]).await?;
    rows.iter().map(|row| get::<String>(row, 0).map(AreaId::stored)).collect()
}

pub(super) async fn set_publisher_areas(tx: &dyn Tx, publisher: &str, areas: &[AreaId]) -> Outcome<()> {
    for area in areas {
        require_area(tx, area).await?;
        execute(
            tx,
            "INSERT INTO publisher_areas (publisher_id, area_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&publisher, &area.as_str()],
        )
        .await?;
    }
    Ok(())
}

/// Replaces an item's targets: its named buildings, its areas and the buildings they reach.
pub(super) async fn set_item_targets(
    tx: &dyn Tx,
    item: &str,
    buildings: &[BuildingId],
    areas: &[AreaId],
) -> Outcome<()> {
    execute(tx, "DELETE FROM item_buildings WHERE item_id = $1", &[&item]).await?;
    execute(tx, "DELETE FROM item_areas WHERE item_id = $1", &[&item]).await?;
    for building in buildings {
        execute(
            tx,
            "INSERT INTO item_buildings (building_id, item_id, named) VALUES ($1, $2, 1) ON CONFLICT DO NOTHING",
            &[&building.as_str(), &item],
        )
        .await?;
    }
    for area in areas {
        require_area(tx, area).await?;
        execute(
            tx,
            "INSERT INTO item_areas (item_id, area_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&item, &area.as_str()],
        )
        .await?;
    }
    for building in reach(tx, areas).await? {
        execute(
            tx,
            "INSERT INTO item_buildings (building_id, item_id, named) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
            &[&building.as_str(), &item],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn add_building(
    tx: &dyn Tx,
    area: &AreaId,
    building: &BuildingId,
    change: &Change,
) -> Outcome<Moved> {
    require_area(tx, area).await?;
    require_building(tx, building).await?;
    let added = execute(
        tx,
        "INSERT INTO area_buildings (area_id, building_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&area.as_str(), &building.as_str()],
    )
    .await?;
    if added == 0 {
        return Ok(Moved::default());
    }
    super::audit(tx, change, "area", None, &format!("building {building} joined area {area}")).await?;
    // The area and every area it lies within (the seed collated as in `within_closure`).
    let sql = format!(
        "WITH RECURSIVE up(id) AS (
             SELECT {}
             UNION SELECT a.within_id FROM areas a JOIN up ON a.id = up.id WHERE a.within_id IS NOT NULL
         )
         INSERT INTO item_buildings (building_id, item_id, named)
         SELECT CAST($2 AS TEXT), item_id, 0 FROM item_areas WHERE area_id IN (SELECT id FROM up)
         ON CONFLICT DO NOTHING",
        tx.dialect().text_seed("$1")
    );
    let reached = execute(tx, &sql, &[&area.as_str(), &building.as_str()]).await?;
    if reached == 0 {
        return Ok(Moved::default());
    }
    bump_buildings(tx, std::slice::from_ref(building), "area").await
}
