//! The platform's storage interface: what the publishing service, the device API and the
//! admin commands need to keep and read, in domain types, with no rule inside.
//!
//! [`Store`] is the interface; its one implementation, `SqlStore` in the platform's store
//! crate, writes each operation once over an engine: SQLite (one file in WAL mode, the
//! default) or, for installations past one machine, PostgreSQL. Rules live above it: who may publish what in
//! [`crate::rules`], how a publication is checked and versioned in [`crate::publishing`]; a
//! store only stores and queries. Every write runs in one transaction, so nothing partial is
//! ever stored, and every write that changes what a building's boards must show moves that
//! building's manifests to a new generation drawn from one platform-wide sequence.
//!
//! The poll path ([`Store::building_generation`], [`Store::building_items`]) only reads.
//! Errors name the operation and the thing it was about, never a database library's type.

pub mod dump;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use palier_content::wire::{Heartbeat, PlayRecord};
use palier_content::{Building, MediaRef};

pub use crate::domain::*;
use crate::ids::{AreaId, BuildingId, DeviceId, FeedId, ItemId, LiftId, MediaAddress, PersonId, PublisherId};
use crate::moderation::Moderation;
use crate::releases::{Assignment, Release};
use palier_content::system::SystemStatus;

/// Relays change hints from a database other processes write too, while it is held
/// ([`Store::relay_hints`]); the relay stops when it is dropped.
pub struct HintRelay(#[allow(dead_code)] Box<dyn std::any::Any + Send + Sync>);

impl HintRelay {
    pub fn new(listener: impl std::any::Any + Send + Sync) -> HintRelay {
        HintRelay(Box::new(listener))
    }
}

impl fmt::Debug for HintRelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HintRelay")
    }
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A named thing does not exist.
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    /// The write contradicts what is stored now.
    #[error("{0}")]
    Conflict(Conflict),
    /// The admission check of [`Store::write_item`] refused the building's new load.
    #[error("{0}")]
    Refused(String),
    /// The database could not be opened, migrated or reached.
    #[error("{operation}: {detail}")]
    Unavailable { operation: &'static str, detail: String },
    /// The database failed while doing `operation`.
    #[error("{operation}: {detail}")]
    Backend { operation: &'static str, detail: String },
    /// The database holds something this build cannot read.
    #[error("{operation}: unreadable data: {detail}")]
    Corrupt { operation: &'static str, detail: String },
}

/// A write that lost against what is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("{what} {id} already exists")]
    Exists { what: &'static str, id: String },
    /// The item moved on since it was read: `current` is its version now.
    #[error("item {id} is at version {current} now, not {expected}")]
    VersionMoved { id: ItemId, expected: u64, current: u64 },
}

impl StoreError {
    pub fn not_found(what: &'static str, id: impl fmt::Display) -> StoreError {
        StoreError::NotFound { what, id: id.to_string() }
    }

    pub fn exists(what: &'static str, id: impl fmt::Display) -> StoreError {
        StoreError::Conflict(Conflict::Exists { what, id: id.to_string() })
    }
}

/// Everything the platform keeps.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Where the data lives, for logs and errors (`sqlite:/var/lib/…`).
    fn describe(&self) -> String;
    /// How many schema migrations the database has run (all this build knows, once open).
    fn schema_version(&self) -> usize;
    /// Starts handing `hints` the change hints other processes' writes send, for a store
    /// several platform processes share; `None` (the default) for one only this process
    /// writes. Hints stop when the returned listener is dropped.
    fn relay_hints(&self, _hints: &crate::hints::Hints) -> Option<HintRelay> {
        None
    }

    /// Every row of every table ([`dump::TABLES`]) and the generation sequence, read in one
    /// snapshot (`palier-platform export`).
    async fn export(&self) -> Result<dump::Dump, StoreError>;
    /// Writes an export into this store, which must hold nothing yet; all or nothing
    /// (`palier-platform import`).
    async fn import(&self, dump: &dump::Dump) -> Result<(), StoreError>;

    // Buildings.

    /// Adds a building (its manifests start at a new generation); its id must be new.
    async fn add_building(&self, building: &Building, now: Timestamp) -> Result<(), StoreError>;
    async fn buildings(&self) -> Result<Vec<Building>, StoreError>;
    async fn building(&self, id: &BuildingId) -> Result<Option<Building>, StoreError>;

    // Areas.

    /// Adds an area; its id must be new, the area it lies within must exist.
    async fn add_area(&self, area: &Area, now: Timestamp) -> Result<(), StoreError>;
    async fn area(&self, id: &AreaId) -> Result<Option<Area>, StoreError>;
    async fn areas(&self) -> Result<Vec<AreaEntry>, StoreError>;
    /// Puts a building in an area: items targeting the area, or an area it lies within, reach
    /// the building from now on and its manifests move. Nothing moves if it already was there.
    async fn add_to_area(
        &self,
        area: &AreaId,
        building: &BuildingId,
        change: &Change,
    ) -> Result<Moved, StoreError>;
    /// Every building these areas reach now, sorted.
    async fn area_reach(&self, areas: &[AreaId]) -> Result<Vec<BuildingId>, StoreError>;

    // Publishers.

    /// Adds a publisher scoped to existing buildings and areas, with an audit line; only its
    /// token's hash is kept.
    async fn add_publisher(
        &self,
        publisher: &Publisher,
        token_hash: &str,
        change: &Change,
    ) -> Result<(), StoreError>;
    /// The publisher holding this token, unless unknown or revoked.
    async fn publisher_by_token(&self, token_hash: &str) -> Result<Option<Publisher>, StoreError>;
    /// Every publisher, oldest first.
    async fn publishers(&self) -> Result<Vec<PublisherEntry>, StoreError>;
    /// Revokes a publisher at once, with an audit line. False if it was already revoked.
    async fn revoke_publisher(&self, id: &PublisherId, change: &Change) -> Result<bool, StoreError>;

    // Items and media.

    async fn item(&self, id: &ItemId) -> Result<Option<ItemRecord>, StoreError>;
    /// Items of a building, or waiting for moderation; at most [`MAX_LISTED_ITEMS`].
    async fn items(&self, query: &ItemQuery) -> Result<Vec<ItemRecord>, StoreError>;
    /// Stores an item or a new version of it (see [`ItemWrite::replaces`]); asks `admit`
    /// about each target building's new load before committing; moves every building it
    /// leaves or reaches to a new generation.
    async fn write_item(&self, write: &ItemWrite, admit: Arc<Admission>) -> Result<Moved, StoreError>;
    /// Takes those of these items that are live out of the manifests, with an audit line each.
    async fn withdraw_items(
        &self,
        ids: &[ItemId],
        reason: WithdrawReason,
        change: &Change,
    ) -> Result<Withdrawal, StoreError>;
    /// Sets an item's moderation state if it is still at `version`; an item entering or
    /// leaving the manifests moves its buildings to a new generation.
    async fn moderate(
        &self,
        id: &ItemId,
        version: u64,
        moderation: &Moderation,
        change: &Change,
    ) -> Result<Moved, StoreError>;
    /// The audit log, newest first, at most `limit` lines older than `before` (a `seq`).
    async fn audit(&self, limit: usize, before: Option<u64>) -> Result<Vec<AuditEntry>, StoreError>;
    /// Live items a publisher published for a person.
    async fn live_items_of_person(
        &self,
        publisher: &PublisherId,
        person: &PersonId,
    ) -> Result<Vec<ItemId>, StoreError>;
    /// Live items whose `valid_until` is at or before `now`.
    async fn expired_items(&self, now: Timestamp) -> Result<Vec<ItemId>, StoreError>;
    async fn media(&self, address: &MediaAddress) -> Result<Option<MediaRef>, StoreError>;
    /// Records a media file whose bytes are already in place; true if it was new.
    async fn add_media(&self, media: &MediaRef, now: Timestamp) -> Result<bool, StoreError>;

    // Buildings' settings.

    /// The kinds from the neighbourhood app that wait for a moderator in this building.
    async fn moderated_kinds(&self, building: &BuildingId) -> Result<Vec<palier_content::Kind>, StoreError>;
    /// Sets them, with an audit line.
    async fn set_moderated_kinds(
        &self,
        building: &BuildingId,
        kinds: &[palier_content::Kind],
        change: &Change,
    ) -> Result<(), StoreError>;

    // Lifts.

    /// Registers a lift of an existing building; its id must be new.
    async fn add_lift(&self, lift: &Lift) -> Result<(), StoreError>;
    async fn lift(&self, id: &LiftId) -> Result<Option<Lift>, StoreError>;
    async fn lifts(&self) -> Result<Vec<Lift>, StoreError>;
    async fn set_lift_status(&self, id: &LiftId, status: &LiftStatus) -> Result<(), StoreError>;

    // Feeds.

    /// Adds a feed and the publisher it publishes as (its buildings and areas must exist).
    async fn add_feed(&self, feed: &Feed) -> Result<(), StoreError>;
    /// Every feed, removed ones included, oldest first.
    async fn feeds(&self) -> Result<Vec<Feed>, StoreError>;
    async fn feed(&self, id: &FeedId) -> Result<Option<Feed>, StoreError>;
    async fn set_feed_status(&self, id: &FeedId, status: &FeedStatus) -> Result<(), StoreError>;
    /// The entries the feed published, by key.
    async fn feed_items(&self, id: &FeedId) -> Result<Vec<FeedItem>, StoreError>;
    /// Replaces the entries remembered for a feed.
    async fn set_feed_items(&self, id: &FeedId, items: &[FeedItem]) -> Result<(), StoreError>;
    /// Marks a feed removed and revokes its publisher. False if it already was.
    async fn remove_feed(&self, id: &FeedId, now: Timestamp) -> Result<bool, StoreError>;

    // System releases.

    /// Records a stored bundle; a version of a system is stored once.
    async fn add_release(&self, release: &Release) -> Result<(), StoreError>;
    /// Every release, newest first.
    async fn releases(&self) -> Result<Vec<Release>, StoreError>;
    /// Sets the version an audience should run, replacing its earlier assignment.
    async fn assign_release(&self, assignment: &Assignment) -> Result<(), StoreError>;
    /// Removes an audience's assignment (by [`crate::releases::Audience::key`]). False if
    /// there was none.
    async fn unassign_release(&self, audience: &str) -> Result<bool, StoreError>;
    async fn release_assignments(&self) -> Result<Vec<Assignment>, StoreError>;
    /// What the device last said of its system in a heartbeat.
    async fn device_system(&self, device: &DeviceId) -> Result<Option<SystemStatus>, StoreError>;

    // People and their sessions.

    /// Adds a person's account (and the publisher it acts as), with an audit line; the e-mail
    /// must be new.
    async fn add_person(&self, person: &Person, change: &Change) -> Result<(), StoreError>;
    async fn person(&self, id: &PublisherId) -> Result<Option<Person>, StoreError>;
    async fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError>;
    async fn people(&self) -> Result<Vec<Person>, StoreError>;
    /// Disables an account at once (its publisher is revoked), with an audit line. False if
    /// it already was.
    async fn disable_person(&self, id: &PublisherId, change: &Change) -> Result<bool, StoreError>;
    /// Gives a disabled account back its access, with an audit line. False if it was not
    /// disabled.
    async fn enable_person(&self, id: &PublisherId, change: &Change) -> Result<bool, StoreError>;
    /// Replaces a person's role, buildings and areas with `person`'s, with an audit line that
    /// says what they were. False if nothing changed.
    async fn change_person(&self, person: &Publisher, change: &Change) -> Result<bool, StoreError>;
    /// Keeps a one-time link (its hash) to set a person's password.
    async fn add_password_link(
        &self,
        token_hash: &str,
        person: &PublisherId,
        expires: Timestamp,
    ) -> Result<(), StoreError>;
    /// The person an unused, unexpired link is for.
    async fn password_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PublisherId>, StoreError>;
    /// Uses a link: sets the password hash and marks the link used, in one transaction.
    /// `None` when the link is unknown, used or expired.
    async fn use_password_link(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PublisherId>, StoreError>;
    /// A console session's record (JSON), unless it expired.
    async fn session(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError>;
    async fn save_session(&self, id: &str, record: &str, expires: Timestamp) -> Result<(), StoreError>;
    async fn delete_session(&self, id: &str) -> Result<(), StoreError>;
    /// Housekeeping: forgets expired sessions and links.
    async fn forget_expired_sessions(&self, now: Timestamp) -> Result<u64, StoreError>;

    // Devices.

    async fn add_enrolment_code(&self, code: &EnrolmentCode) -> Result<(), StoreError>;
    /// Turns an unused, unexpired code into a new device, which draws its first generation.
    /// `None` when the code is unknown, used or expired (the caller cannot tell which).
    async fn enrol(
        &self,
        code_hash: &str,
        new: &NewDevice,
        now: Timestamp,
    ) -> Result<Option<Device>, StoreError>;
    /// The device holding this token, unless unknown or revoked.
    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>, StoreError>;
    /// Whether the device may still talk to the platform.
    async fn device_active(&self, id: &DeviceId) -> Result<bool, StoreError>;
    /// Records that the device was seen at `now`.
    async fn touch_device(&self, id: &DeviceId, now: Timestamp) -> Result<(), StoreError>;
    /// Every device (of one building when given), oldest enrolment first, with its latest
    /// heartbeat.
    async fn device_reports(&self, building: Option<&BuildingId>) -> Result<Vec<DeviceReport>, StoreError>;
    /// Revokes a device: its token stops working at once. False if it was already revoked.
    async fn revoke_device(&self, id: &DeviceId, now: Timestamp) -> Result<bool, StoreError>;
    /// Keeps the device's latest heartbeat.
    async fn record_heartbeat(
        &self,
        id: &DeviceId,
        heartbeat: &Heartbeat,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    // The poll path: reads only.

    async fn building_generation(&self, building: &BuildingId) -> Result<Generation, StoreError>;
    /// The building's live items and its generation, read in one transaction.
    async fn building_items(&self, building: &BuildingId) -> Result<BuildingContent, StoreError>;

    // Plays.

    /// Stores play records; a record already stored for this device is kept as it was.
    async fn record_plays(
        &self,
        device: &DeviceId,
        plays: &[PlayRecord],
        now: Timestamp,
    ) -> Result<(), StoreError>;
    /// Where and when an item was shown, listing at most `limit` records.
    async fn item_plays(&self, id: &ItemId, limit: usize) -> Result<ItemPlays, StoreError>;
}
