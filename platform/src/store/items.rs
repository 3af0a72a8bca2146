//! The publishing side of the store: items and the buildings they go to, withdrawals, and
//! media descriptions.

use std::collections::BTreeSet;

use jiff::Timestamp;
use palier_content::{Item, MediaRef};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{ManifestLimits, Publisher, Store, StoreError, bump_buildings, millis, require_building};

/// Room left in a manifest for its envelope (device, building, instants) beside the items.
const ENVELOPE_ALLOWANCE: usize = 16 * 1024;

/// An item ready to store: checked, scoped, with its target buildings.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    /// The item as devices will receive it; its `version` is assigned by the store.
    pub item: Item,
    /// The version the publisher said it was writing, if any (checked, never trusted).
    pub expected_version: Option<u64>,
    pub buildings: Vec<String>,
    /// The neighbourhood app's id of the person behind the item; never sent to devices.
    pub person_id: Option<String>,
}

/// Create refuses an id that exists; update requires one owned by the same publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Create,
    Update,
}

/// What a publish or update stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub item: Item,
    pub buildings: Vec<String>,
    /// The new generation, and every building whose manifests moved to it (old and new
    /// targets of an update).
    pub generation: u64,
    pub touched: Vec<String>,
}

/// What a withdrawal removed. `generation` is `None` when nothing was live.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Withdrawal {
    pub items: Vec<String>,
    pub buildings: Vec<String>,
    pub generation: Option<u64>,
}

pub(super) struct Existing {
    version: u64,
    publisher_id: String,
}

pub(super) fn existing(tx: &Transaction<'_>, id: &str) -> Result<Option<Existing>, StoreError> {
    Ok(tx
        .query_row("SELECT version, publisher_id FROM items WHERE id = ?1", [id], |row| {
            Ok(Existing { version: row.get::<_, i64>(0)? as u64, publisher_id: row.get(1)? })
        })
        .optional()?)
}

fn item_buildings(tx: &Transaction<'_>, id: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        tx.prepare("SELECT building_id FROM item_buildings WHERE item_id = ?1 ORDER BY building_id")?;
    let rows = stmt.query_map([id], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn owned<'a>(
    found: Option<&'a Existing>,
    id: &str,
    publisher: &Publisher,
) -> Result<&'a Existing, StoreError> {
    let found = found.ok_or_else(|| StoreError::NotFound(format!("item {id} does not exist")))?;
    if found.publisher_id != publisher.id {
        return Err(StoreError::Forbidden(format!("item {id} belongs to another publisher")));
    }
    Ok(found)
}

/// Refuses a state where some building's manifest would break the protocol's limits.
fn check_manifest_limits(
    tx: &Transaction<'_>,
    buildings: &[String],
    limits: ManifestLimits,
) -> Result<(), StoreError> {
    let ManifestLimits { max_items, max_bytes } = limits;
    for building in buildings {
        let (count, bytes): (i64, i64) = tx.query_row(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(i.json AS BLOB))), 0)
             FROM item_buildings ib JOIN items i ON i.id = ib.item_id
             WHERE ib.building_id = ?1 AND i.withdrawn_ms IS NULL",
            [building],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let (count, bytes) = (count as usize, bytes as usize);
        if count > max_items {
            return Err(StoreError::ManifestFull(format!(
                "building {building} would hold {count} live items; a manifest holds at most {max_items}: withdraw some first"
            )));
        }
        if bytes + count + ENVELOPE_ALLOWANCE > max_bytes {
            return Err(StoreError::ManifestFull(format!(
                "building {building}'s manifest would be about {} bytes, over the {max_bytes}-byte limit: withdraw some items first",
                bytes + count + ENVELOPE_ALLOWANCE
            )));
        }
    }
    Ok(())
}

impl Store {
    /// Stores a new item or a new version of one, in one transaction, and moves the manifests
    /// of every building it leaves or reaches to a new generation.
    pub fn publish(
        &self,
        publisher: &Publisher,
        new: &NewItem,
        mode: WriteMode,
        now: Timestamp,
    ) -> Result<Published, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = new.item.id.as_str();
        let found = existing(&tx, id)?;
        let version = match mode {
            WriteMode::Create => {
                if found.is_some() {
                    return Err(StoreError::Conflict(format!(
                        "item {id} already exists; PUT /v1/publish/items/{id} publishes a new version"
                    )));
                }
                1
            }
            WriteMode::Update => owned(found.as_ref(), id, publisher)?.version + 1,
        };
        if let Some(expected) = new.expected_version
            && expected != version
        {
            return Err(StoreError::Conflict(format!(
                "item {id}: version {expected} is stale, the next version is {version}; send {version} or leave version out"
            )));
        }
        for building in &new.buildings {
            require_building(&tx, building)?;
            if !publisher.buildings.contains(building) {
                return Err(StoreError::Forbidden(format!(
                    "this publisher may not publish to building {building}; its buildings: {}",
                    publisher.buildings.join(", ")
                )));
            }
        }
        let mut item = new.item.clone();
        item.version = version;
        let json = serde_json::to_string(&item).expect("items serialize");
        let old_buildings = item_buildings(&tx, id)?;
        tx.execute(
            "INSERT INTO items (id, version, publisher_id, person_id, kind, valid_until_ms, json, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, person_id = excluded.person_id,
                 kind = excluded.kind, valid_until_ms = excluded.valid_until_ms, json = excluded.json,
                 updated_ms = excluded.updated_ms, withdrawn_ms = NULL, withdrawn_reason = NULL",
            params![
                id,
                version as i64,
                publisher.id,
                new.person_id,
                item.kind().as_str(),
                millis(item.valid_until),
                json,
                millis(now)
            ],
        )?;
        tx.execute("DELETE FROM item_buildings WHERE item_id = ?1", [id])?;
        for building in &new.buildings {
            tx.execute(
                "INSERT OR IGNORE INTO item_buildings (building_id, item_id) VALUES (?1, ?2)",
                params![building, id],
            )?;
        }
        check_manifest_limits(&tx, &new.buildings, self.limits)?;
        let touched: Vec<String> = old_buildings
            .iter()
            .chain(&new.buildings)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let reason = if mode == WriteMode::Create { "publish" } else { "update" };
        let generation = bump_buildings(&tx, &touched, reason)?;
        tx.commit()?;
        let mut buildings = new.buildings.clone();
        buildings.sort();
        buildings.dedup();
        Ok(Published { item, buildings, generation, touched })
    }

    /// Withdraws one item of this publisher from every manifest at once.
    pub fn withdraw_item(
        &self,
        publisher: &Publisher,
        id: &str,
        now: Timestamp,
    ) -> Result<Withdrawal, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        owned(existing(&tx, id)?.as_ref(), id, publisher)?;
        let live: Vec<String> = {
            let mut stmt = tx.prepare("SELECT id FROM items WHERE id = ?1 AND withdrawn_ms IS NULL")?;
            stmt.query_map([id], |row| row.get(0))?.collect::<Result<_, _>>()?
        };
        let withdrawal = withdraw(&tx, live, "withdrawn", now)?;
        tx.commit()?;
        Ok(withdrawal)
    }

    /// Withdraws every live item this publisher published for a person.
    pub fn withdraw_person(
        &self,
        publisher: &Publisher,
        person_id: &str,
        now: Timestamp,
    ) -> Result<Withdrawal, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let live: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT id FROM items WHERE publisher_id = ?1 AND person_id = ?2 AND withdrawn_ms IS NULL ORDER BY id",
            )?;
            stmt.query_map(params![publisher.id, person_id], |row| row.get(0))?.collect::<Result<_, _>>()?
        };
        let withdrawal = withdraw(&tx, live, "person withdrawn", now)?;
        tx.commit()?;
        Ok(withdrawal)
    }

    /// Housekeeping: takes items past their `valid_until` out of the manifests.
    pub fn expire_items(&self, now: Timestamp) -> Result<Withdrawal, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let live: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT id FROM items WHERE withdrawn_ms IS NULL AND valid_until_ms <= ?1 ORDER BY id",
            )?;
            stmt.query_map([millis(now)], |row| row.get(0))?.collect::<Result<_, _>>()?
        };
        let withdrawal = withdraw(&tx, live, "expired", now)?;
        tx.commit()?;
        Ok(withdrawal)
    }

    /// The stored description of a media file.
    pub fn media(&self, sha256: &str) -> Result<Option<MediaRef>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT sha256, bytes, mime, width, height FROM media WHERE sha256 = ?1",
                [sha256],
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

    /// Records a media file whose bytes are already in place; true if it was new.
    pub fn add_media(&self, media: &MediaRef, now: Timestamp) -> Result<bool, StoreError> {
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO media (sha256, bytes, mime, width, height, uploaded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![media.sha256, media.bytes as i64, media.mime, media.width, media.height, millis(now)],
        )?;
        Ok(inserted == 1)
    }
}

/// Marks these live items withdrawn and moves their buildings to a new generation.
fn withdraw(
    tx: &Transaction<'_>,
    ids: Vec<String>,
    reason: &str,
    now: Timestamp,
) -> Result<Withdrawal, StoreError> {
    if ids.is_empty() {
        return Ok(Withdrawal::default());
    }
    let mut buildings = BTreeSet::new();
    for id in &ids {
        tx.execute(
            "UPDATE items SET withdrawn_ms = ?2, withdrawn_reason = ?3 WHERE id = ?1",
            params![id, millis(now), reason],
        )?;
        buildings.extend(item_buildings(tx, id)?);
    }
    let buildings: Vec<String> = buildings.into_iter().collect();
    let generation = bump_buildings(tx, &buildings, "withdraw")?;
    Ok(Withdrawal { items: ids, buildings, generation: Some(generation) })
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;
    use palier_content::{Building, Details, Flash, Severity};

    use super::*;
    use crate::scope::Role;

    fn flash(id: &str, now: Timestamp) -> NewItem {
        let item = Item {
            id: id.to_owned(),
            version: 1,
            channel: palier_content::Channel::Building,
            valid_from: now,
            valid_until: now + SignedDuration::from_hours(24),
            schedule: None,
            weight: 1,
            duration_s: None,
            roles: Vec::new(),
            lang: "fr".to_owned(),
            title: "Coupure d’eau".to_owned(),
            body: String::new(),
            media: Vec::new(),
            link: None,
            details: Details::Flash(Flash { severity: Severity::Info, starts_at: None, ends_at: None }),
        };
        NewItem { item, expected_version: None, buildings: vec!["bld-a".to_owned()], person_id: None }
    }

    #[test]
    fn a_full_building_refuses_more_and_stores_nothing_partial() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("p.sqlite"))
            .unwrap()
            .with_manifest_limits(ManifestLimits { max_items: 2, max_bytes: 1 << 20 });
        let now = Timestamp::now();
        let building = Building {
            id: "bld-a".into(),
            name: "A".into(),
            address: String::new(),
            time_zone: "Europe/Paris".into(),
            locale: "fr-FR".into(),
        };
        store.add_building(&building, now).unwrap();
        let landlord = Publisher {
            id: "pub-1".into(),
            name: "x".into(),
            role: Role::Landlord,
            buildings: vec!["bld-a".into()],
        };
        store.add_publisher(&landlord, "hash", now).unwrap();
        store.publish(&landlord, &flash("f1", now), WriteMode::Create, now).unwrap();
        let second = store.publish(&landlord, &flash("f2", now), WriteMode::Create, now).unwrap();
        let err = store.publish(&landlord, &flash("f3", now), WriteMode::Create, now).unwrap_err();
        assert!(matches!(&err, StoreError::ManifestFull(m) if m.contains("3 live items")), "{err}");
        // Nothing of f3 stayed, and the generation did not move.
        let conn = store.conn();
        let f3: i64 = conn.query_row("SELECT COUNT(*) FROM items WHERE id = 'f3'", [], |r| r.get(0)).unwrap();
        let generation: i64 = conn.query_row("SELECT generation FROM meta", [], |r| r.get(0)).unwrap();
        drop(conn);
        assert_eq!((f3, generation as u64), (0, second.generation));
        // Withdrawing one makes room again; so does a tight byte limit refuse.
        store.withdraw_item(&landlord, "f1", now).unwrap();
        store.publish(&landlord, &flash("f3", now), WriteMode::Create, now).unwrap();
        let tight = store.with_manifest_limits(ManifestLimits { max_items: 10, max_bytes: 16_500 });
        let err = tight.publish(&landlord, &flash("f4", now), WriteMode::Create, now).unwrap_err();
        assert!(matches!(&err, StoreError::ManifestFull(m) if m.contains("16500-byte")), "{err}");
    }
}
