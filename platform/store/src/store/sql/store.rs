//! The one [`Store`] implementation: each operation is one transaction of the engine,
//! running the functions of [`super`]'s files, which hold what the operation means.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use palier_content::wire::{Heartbeat, PlayRecord};
use palier_content::{Building, MediaRef};

use super::{
    Engine, Mode, Outcome, Tx, add_publisher_scope, areas, audit, building_exists, building_from_row,
    devices, dump, execute, feeds, get, instant, items, millis, next_generation, people, plays, publisher,
    publisher_kind, query, query_opt, releases, scope,
};
use crate::ids::{AreaId, BuildingId, DeviceId, FeedId, ItemId, LiftId, MediaAddress, PersonId, PublisherId};
use crate::moderation::Moderation;
use crate::store::{
    Admission, Area, AreaEntry, AuditEntry, BuildingContent, Change, Device, DeviceReport, EnrolmentCode,
    Feed, FeedItem, FeedStatus, Generation, HintRelay, ItemPlays, ItemQuery, ItemRecord, ItemWrite, Lift,
    LiftStatus, Moved, NewDevice, Person, Publisher, PublisherEntry, PublisherKind, Store, StoreError,
    WithdrawReason, Withdrawal,
};

/// A store over one engine: [`SqlStore::sqlite`] or [`SqlStore::postgres`].
#[derive(Debug, Clone)]
pub struct SqlStore {
    engine: Arc<dyn Engine>,
}

impl SqlStore {
    pub(in crate::store) fn new(engine: Arc<dyn Engine>) -> SqlStore {
        SqlStore { engine }
    }

    async fn begin(
        &self,
        operation: &'static str,
        mode: Mode,
    ) -> Result<Box<dyn super::Transaction>, StoreError> {
        self.engine.begin(mode).await.map_err(|fail| fail.during(operation))
    }

    async fn finish<T>(
        operation: &'static str,
        transaction: Box<dyn super::Transaction>,
        outcome: Outcome<T>,
    ) -> Result<T, StoreError> {
        match outcome {
            Ok(value) => {
                transaction.commit().await.map_err(|fail| fail.during(operation))?;
                Ok(value)
            }
            Err(fail) => Err(fail.during(operation)),
        }
    }
}

/// `in_transaction!(store, mode, "operation", |tx| body)`: runs `body` (an expression that
/// may `.await` and `?`, of type `Outcome<T>`) in one transaction, committed when it is `Ok`
/// and rolled back otherwise.
macro_rules! in_transaction {
    ($store:expr, $mode:expr, $operation:expr, |$tx:ident| $body:expr) => {{
        let operation: &'static str = $operation;
        let transaction = $store.begin(operation, $mode).await?;
        let outcome: Outcome<_> = {
            let $tx: &dyn Tx = &*transaction;
            async { $body }.await
        };
        SqlStore::finish(operation, transaction, outcome).await
    }};
}

#[async_trait]
impl Store for SqlStore {
    fn describe(&self) -> String {
        self.engine.describe()
    }

    fn schema_version(&self) -> usize {
        self.engine.schema_version()
    }

    fn relay_hints(&self, hints: &crate::hints::Hints) -> Option<HintRelay> {
        self.engine.relay_hints(hints)
    }

    async fn export(&self) -> Result<crate::store::dump::Dump, StoreError> {
        let schema = self.engine.schema_version();
        in_transaction!(self, Mode::Read, "exporting the database", |tx| dump::export(tx, schema).await)
    }

    async fn import(&self, dump: &crate::store::dump::Dump) -> Result<(), StoreError> {
        let schema = self.engine.schema_version();
        in_transaction!(self, Mode::Write, "importing an export", |tx| dump::import(tx, dump, schema).await)
    }

    async fn add_building(&self, building: &Building, now: Timestamp) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a building", |tx| {
            if building_exists(tx, &building.id).await? {
                return Err(StoreError::exists("building", &building.id).into());
            }
            let generation = next_generation(tx).await? as i64;
            execute(
                tx,
                "INSERT INTO buildings (id, name, address, time_zone, locale, generation, change_reason, created_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, 'settings', $7)",
                &[&building.id, &building.name, &building.address, &building.time_zone, &building.locale, &generation, &millis(now)],
            )
            .await?;
            Ok(())
        })
    }

    async fn buildings(&self) -> Result<Vec<Building>, StoreError> {
        in_transaction!(self, Mode::Read, "listing buildings", |tx| {
            let rows =
                query(tx, "SELECT id, name, address, time_zone, locale FROM buildings ORDER BY id", &[])
                    .await?;
            rows.iter().map(building_from_row).collect()
        })
    }

    async fn building(&self, id: &BuildingId) -> Result<Option<Building>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a building", |tx| {
            let row = query_opt(
                tx,
                "SELECT id, name, address, time_zone, locale FROM buildings WHERE id = $1",
                &[&id.as_str()],
            )
            .await?;
            row.as_ref().map(building_from_row).transpose()
        })
    }

    async fn add_area(&self, area: &Area, now: Timestamp) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding an area", |tx| areas::add(tx, area, now).await)
    }

    async fn area(&self, id: &AreaId) -> Result<Option<Area>, StoreError> {
        in_transaction!(self, Mode::Read, "reading an area", |tx| areas::find(tx, id).await)
    }

    async fn areas(&self) -> Result<Vec<AreaEntry>, StoreError> {
        in_transaction!(self, Mode::Read, "listing areas", |tx| areas::list(tx).await)
    }

    async fn add_to_area(
        &self,
        area: &AreaId,
        building: &BuildingId,
        change: &Change,
    ) -> Result<Moved, StoreError> {
        in_transaction!(self, Mode::Write, "putting a building in an area", |tx| {
            areas::add_building(tx, area, building, change).await
        })
    }

    async fn area_reach(&self, ids: &[AreaId]) -> Result<Vec<BuildingId>, StoreError> {
        in_transaction!(self, Mode::Read, "reading an area's buildings", |tx| areas::reach(tx, ids).await)
    }

    async fn add_publisher(
        &self,
        publisher: &Publisher,
        token_hash: &str,
        change: &Change,
    ) -> Result<(), StoreError> {
        let now = change.at;
        in_transaction!(self, Mode::Write, "adding a publisher", |tx| {
            execute(
                tx,
                "INSERT INTO publishers (id, name, role, token_hash, created_ms) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &publisher.id.as_str(),
                    &publisher.name,
                    &publisher.role.as_str(),
                    &token_hash,
                    &millis(now),
                ],
            )
            .await?;
            add_publisher_scope(tx, publisher).await?;
            let detail = format!("{}: {}, {}", publisher.name, publisher.role, scope(publisher));
            audit(tx, change, "add publisher", None, &detail).await
        })
    }

    async fn publisher_by_token(&self, token_hash: &str) -> Result<Option<Publisher>, StoreError> {
        in_transaction!(self, Mode::Read, "authenticating a publisher", |tx| {
            let found = query_opt(
                tx,
                "SELECT id, name, role FROM publishers
                 WHERE token_hash = $1 AND revoked_ms IS NULL AND kind = 'token'",
                &[&token_hash],
            )
            .await?;
            let Some(row) = found else { return Ok(None) };
            let (id, name, role_name): (String, String, String) =
                (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
            Ok(Some(publisher(tx, id, name, &role_name, PublisherKind::Token).await?))
        })
    }

    async fn publishers(&self) -> Result<Vec<PublisherEntry>, StoreError> {
        in_transaction!(self, Mode::Read, "listing publishers", |tx| {
            let rows = query(
                tx,
                "SELECT id, name, role, revoked_ms, kind FROM publishers ORDER BY created_ms, id",
                &[],
            )
            .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in &rows {
                let (id, name, role_name): (String, String, String) =
                    (get(row, 0)?, get(row, 1)?, get(row, 2)?);
                let (revoked, kind): (Option<i64>, String) = (get(row, 3)?, get(row, 4)?);
                let publisher = publisher(tx, id, name, &role_name, publisher_kind(&kind)?).await?;
                entries.push(PublisherEntry { publisher, revoked_at: revoked.map(instant).transpose()? });
            }
            Ok(entries)
        })
    }

    async fn revoke_publisher(&self, id: &PublisherId, change: &Change) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "revoking a publisher", |tx| {
            let state =
                query_opt(tx, "SELECT revoked_ms, name FROM publishers WHERE id = $1", &[&id.as_str()])
                    .await?;
            match state {
                None => Err(StoreError::not_found("publisher", id).into()),
                Some(row) if get::<Option<i64>>(&row, 0)?.is_some() => Ok(false),
                Some(row) => {
                    execute(
                        tx,
                        "UPDATE publishers SET revoked_ms = $2 WHERE id = $1",
                        &[&id.as_str(), &millis(change.at)],
                    )
                    .await?;
                    let name: String = get(&row, 1)?;
                    audit(tx, change, "revoke publisher", None, &format!("{name} ({id})")).await?;
                    Ok(true)
                }
            }
        })
    }

    async fn item(&self, id: &ItemId) -> Result<Option<ItemRecord>, StoreError> {
        in_transaction!(self, Mode::Read, "reading an item", |tx| items::record(tx, id).await)
    }

    async fn items(&self, query: &ItemQuery) -> Result<Vec<ItemRecord>, StoreError> {
        in_transaction!(self, Mode::Read, "listing items", |tx| items::list(tx, query).await)
    }

    async fn write_item(&self, write: &ItemWrite, admit: Arc<Admission>) -> Result<Moved, StoreError> {
        in_transaction!(self, Mode::Write, "storing an item", |tx| items::write(tx, write, &*admit).await)
    }

    async fn withdraw_items(
        &self,
        ids: &[ItemId],
        reason: WithdrawReason,
        change: &Change,
    ) -> Result<Withdrawal, StoreError> {
        in_transaction!(self, Mode::Write, "withdrawing items", |tx| items::withdraw(tx, ids, reason, change)
            .await)
    }

    async fn moderate(
        &self,
        id: &ItemId,
        version: u64,
        moderation: &Moderation,
        change: &Change,
    ) -> Result<Moved, StoreError> {
        in_transaction!(self, Mode::Write, "moderating an item", |tx| items::moderate(
            tx, id, version, moderation, change
        )
        .await)
    }

    async fn audit(&self, limit: usize, before: Option<u64>) -> Result<Vec<AuditEntry>, StoreError> {
        in_transaction!(self, Mode::Read, "reading the audit log", |tx| people::audit_log(tx, limit, before)
            .await)
    }

    async fn moderated_kinds(&self, building: &BuildingId) -> Result<Vec<palier_content::Kind>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a building's moderation", |tx| people::moderated_kinds(
            tx, building
        )
        .await)
    }

    async fn set_moderated_kinds(
        &self,
        building: &BuildingId,
        kinds: &[palier_content::Kind],
        change: &Change,
    ) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "setting a building's moderation", |tx| {
            people::set_moderated_kinds(tx, building, kinds, change).await
        })
    }

    async fn add_lift(&self, lift: &Lift) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a lift", |tx| people::add_lift(tx, lift).await)
    }

    async fn lift(&self, id: &LiftId) -> Result<Option<Lift>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a lift", |tx| people::lift(tx, id).await)
    }

    async fn lifts(&self) -> Result<Vec<Lift>, StoreError> {
        in_transaction!(self, Mode::Read, "listing lifts", |tx| people::lifts(tx).await)
    }

    async fn set_lift_status(&self, id: &LiftId, status: &LiftStatus) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "recording a lift's status", |tx| people::set_lift_status(
            tx, id, status
        )
        .await)
    }

    async fn add_feed(&self, feed: &Feed) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a feed", |tx| feeds::add(tx, feed).await)
    }

    async fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        in_transaction!(self, Mode::Read, "listing feeds", |tx| feeds::list(tx, None).await)
    }

    async fn feed(&self, id: &FeedId) -> Result<Option<Feed>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a feed", |tx| Ok(feeds::list(tx, Some(id)).await?.pop()))
    }

    async fn set_feed_status(&self, id: &FeedId, status: &FeedStatus) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "recording a feed's fetch", |tx| feeds::set_status(tx, id, status)
            .await)
    }

    async fn feed_items(&self, id: &FeedId) -> Result<Vec<FeedItem>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a feed's entries", |tx| feeds::items(tx, id).await)
    }

    async fn set_feed_items(&self, id: &FeedId, items: &[FeedItem]) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "recording a feed's entries", |tx| feeds::set_items(tx, id, items)
            .await)
    }

    async fn remove_feed(&self, id: &FeedId, now: Timestamp) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "removing a feed", |tx| feeds::remove(tx, id, now).await)
    }

    async fn add_release(&self, release: &crate::releases::Release) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a release", |tx| releases::add(tx, release).await)
    }

    async fn releases(&self) -> Result<Vec<crate::releases::Release>, StoreError> {
        in_transaction!(self, Mode::Read, "listing releases", |tx| releases::list(tx).await)
    }

    async fn assign_release(&self, assignment: &crate::releases::Assignment) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "assigning a release", |tx| releases::assign(tx, assignment).await)
    }

    async fn unassign_release(&self, audience: &str) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "removing a release assignment", |tx| releases::unassign(
            tx, audience
        )
        .await)
    }

    async fn release_assignments(&self) -> Result<Vec<crate::releases::Assignment>, StoreError> {
        in_transaction!(self, Mode::Read, "listing release assignments", |tx| releases::assignments(tx).await)
    }

    async fn device_system(
        &self,
        device: &DeviceId,
    ) -> Result<Option<palier_content::system::SystemStatus>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a device's system", |tx| releases::device_system(
            tx, device
        )
        .await)
    }

    async fn add_person(&self, person: &Person, change: &Change) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a person", |tx| people::add(tx, person, change).await)
    }

    async fn person(&self, id: &PublisherId) -> Result<Option<Person>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a person", |tx| people::by_id(tx, id).await)
    }

    async fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError> {
        in_transaction!(self, Mode::Read, "finding a person by e-mail", |tx| people::by_email(tx, email)
            .await)
    }

    async fn people(&self) -> Result<Vec<Person>, StoreError> {
        in_transaction!(self, Mode::Read, "listing people", |tx| people::all(tx).await)
    }

    async fn disable_person(&self, id: &PublisherId, change: &Change) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "disabling a person", |tx| people::disable(tx, id, change).await)
    }

    async fn enable_person(&self, id: &PublisherId, change: &Change) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "enabling a person", |tx| people::enable(tx, id, change).await)
    }

    async fn change_person(&self, person: &Publisher, change: &Change) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "changing a person's role", |tx| people::change(
            tx, person, change
        )
        .await)
    }

    async fn add_password_link(
        &self,
        token_hash: &str,
        person: &PublisherId,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding a password link", |tx| people::add_link(
            tx, token_hash, person, expires
        )
        .await)
    }

    async fn password_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PublisherId>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a password link", |tx| people::link(tx, token_hash, now)
            .await)
    }

    async fn use_password_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PublisherId>, StoreError> {
        in_transaction!(self, Mode::Write, "setting a password", |tx| people::use_link(
            tx,
            token_hash,
            password_hash,
            now
        )
        .await)
    }

    async fn session(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a session", |tx| people::session(tx, id, now).await)
    }

    async fn save_session(&self, id: &str, record: &str, expires: Timestamp) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Own, "saving a session", |tx| people::save_session(
            tx, id, record, expires
        )
        .await)
    }

    async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Own, "deleting a session", |tx| {
            execute(tx, "DELETE FROM sessions WHERE id = $1", &[&id]).await?;
            Ok(())
        })
    }

    async fn forget_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        in_transaction!(self, Mode::Own, "forgetting expired sessions", |tx| people::forget_expired(tx, now)
            .await)
    }

    async fn live_items_of_person(
        &self,
        publisher: &PublisherId,
        person: &PersonId,
    ) -> Result<Vec<ItemId>, StoreError> {
        in_transaction!(self, Mode::Read, "listing a person's items", |tx| items::of_person(
            tx, publisher, person
        )
        .await)
    }

    async fn expired_items(&self, now: Timestamp) -> Result<Vec<ItemId>, StoreError> {
        in_transaction!(self, Mode::Read, "listing expired items", |tx| items::expired(tx, now).await)
    }

    async fn media(&self, address: &MediaAddress) -> Result<Option<MediaRef>, StoreError> {
        in_transaction!(self, Mode::Read, "reading a media description", |tx| items::media(tx, address).await)
    }

    async fn add_media(&self, media: &MediaRef, now: Timestamp) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "recording a media file", |tx| items::add_media(tx, media, now)
            .await)
    }

    async fn add_enrolment_code(&self, code: &EnrolmentCode) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Write, "adding an enrolment code", |tx| devices::add_code(tx, code).await)
    }

    async fn enrol(
        &self,
        code_hash: &str,
        new: &NewDevice,
        now: Timestamp,
    ) -> Result<Option<Device>, StoreError> {
        in_transaction!(self, Mode::Write, "enrolling a device", |tx| devices::enrol(tx, code_hash, new, now)
            .await)
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError> {
        in_transaction!(self, Mode::Read, "authenticating a device", |tx| devices::by_token(tx, token_hash)
            .await)
    }

    async fn device_active(&self, id: &DeviceId) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Read, "checking a device", |tx| devices::active(tx, id).await)
    }

    async fn touch_device(&self, id: &DeviceId, now: Timestamp) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Own, "recording a device's contact", |tx| {
            execute(tx, "UPDATE devices SET last_seen_ms = $2 WHERE id = $1", &[&id.as_str(), &millis(now)])
                .await?;
            Ok(())
        })
    }

    async fn device_reports(&self, building: Option<&BuildingId>) -> Result<Vec<DeviceReport>, StoreError> {
        in_transaction!(self, Mode::Read, "listing devices", |tx| devices::reports(tx, building).await)
    }

    async fn revoke_device(&self, id: &DeviceId, now: Timestamp) -> Result<bool, StoreError> {
        in_transaction!(self, Mode::Write, "revoking a device", |tx| devices::revoke(tx, id, now).await)
    }

    async fn record_heartbeat(
        &self,
        id: &DeviceId,
        heartbeat: &Heartbeat,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(heartbeat).expect("heartbeats serialize");
        in_transaction!(self, Mode::Own, "recording a heartbeat", |tx| {
            execute(
                tx,
                "INSERT INTO heartbeats (device_id, received_ms, json) VALUES ($1, $2, $3)
                 ON CONFLICT (device_id) DO UPDATE SET received_ms = excluded.received_ms, json = excluded.json",
                &[&id.as_str(), &millis(now), &json],
            )
            .await?;
            Ok(())
        })
    }

    async fn building_generation(&self, building: &BuildingId) -> Result<Generation, StoreError> {
        in_transaction!(self, Mode::Read, "reading a building's generation", |tx| devices::generation(
            tx, building
        )
        .await)
    }

    async fn building_items(&self, building: &BuildingId) -> Result<BuildingContent, StoreError> {
        in_transaction!(self, Mode::Read, "reading a building's items", |tx| devices::content(tx, building)
            .await)
    }

    async fn record_plays(
        &self,
        device: &DeviceId,
        plays: &[PlayRecord],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, Mode::Own, "recording plays", |tx| plays::record(tx, device, plays, now).await)
    }

    async fn item_plays(&self, id: &ItemId, limit: usize) -> Result<ItemPlays, StoreError> {
        in_transaction!(self, Mode::Read, "reading an item's plays", |tx| plays::of_item(tx, id, limit).await)
    }
}
