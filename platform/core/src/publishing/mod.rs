//! The publishing service: the one path every change to published content takes, whichever
//! interface it came through (the publishing API, the admin command line, the console).
//!
//! A publication is read and checked ([`draft`]), authorized ([`crate::rules`]), versioned
//! (a new item is version 1, each change the next version; a version the publisher names
//! must be that one), sent to moderation when its building wants residents' posts reviewed
//! ([`crate::moderation`]), admitted against the protocol's manifest limits, stored in one
//! transaction with its audit line ([`crate::store::Store::write_item`]), and followed by a
//! change hint to every building whose manifests moved. Withdrawals, a resident's erasure,
//! expiry, moderation decisions, listings and proof of play go through here too. Outcomes
//! and errors are typed; the interfaces only map them.

pub mod draft;
pub mod lift;
pub mod places;
pub mod proof;

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use palier_content::{Item, MediaRef};
use serde_json::Value;

use crate::hints::Hints;
use crate::ids::{AreaId, BuildingId, ItemId, MediaAddress, PersonId};
use crate::media::{MediaStore, UploadError, media_ref, normalize};
use crate::moderation::{self, Moderation, ModerationError};
use crate::rules::{self, Forbidden};
use crate::store::{
    Admission, BuildingLoad, Change, Conflict, ItemPlays, ItemQuery, ItemRecord, ItemWrite, MAX_LISTED_PLAYS,
    Moved, Publisher, Store, StoreError, Targets, Via, WithdrawReason, Withdrawal,
};

pub use draft::Draft;

/// Reads the platform's clock; tests substitute their own.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Room left in a manifest for its envelope (device, building, instants) beside the items.
const ENVELOPE_ALLOWANCE: usize = 16 * 1024;

/// The most a building's manifest may hold; publications past it are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestLimits {
    pub max_items: usize,
    pub max_bytes: usize,
}

impl Default for ManifestLimits {
    /// The protocol's limits (§10).
    fn default() -> ManifestLimits {
        ManifestLimits {
            max_items: palier_content::limits::MAX_ITEMS,
            max_bytes: palier_content::limits::MAX_MANIFEST_BYTES,
        }
    }
}

impl ManifestLimits {
    /// The admission check a write runs against each target building's new load.
    fn admission(self) -> Arc<Admission> {
        let ManifestLimits { max_items, max_bytes } = self;
        Arc::new(move |load: &BuildingLoad| {
            let BuildingLoad { building, items, bytes } = load;
            if *items > max_items {
                return Err(format!(
                    "building {building} would hold {items} live items; a manifest holds at most {max_items}: \
                     withdraw some first"
                ));
            }
            let size = bytes + items + ENVELOPE_ALLOWANCE;
            if size > max_bytes {
                return Err(format!(
                    "building {building}'s manifest would be about {size} bytes, over the {max_bytes}-byte limit: \
                     withdraw some items first"
                ));
            }
            Ok(())
        })
    }
}

/// Why the service refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishingError {
    /// The request is malformed or breaks a limit.
    #[error("{0}")]
    Invalid(String),
    /// A named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A rule forbids it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// It contradicts what is stored: an id taken, a stale version (`current` is the stored one).
    #[error("{message}")]
    Conflict { message: String, current: Option<u64> },
    /// A building's manifest would break the protocol's limits.
    #[error("{0}")]
    ManifestFull(String),
    /// A picture that cannot be published.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// The store failed; not the caller's fault.
    #[error(transparent)]
    Store(StoreError),
    /// Media files could not be written.
    #[error("storing media {address}: {detail}")]
    MediaFiles { address: MediaAddress, detail: String },
}

impl From<ModerationError> for PublishingError {
    fn from(e: ModerationError) -> PublishingError {
        PublishingError::Invalid(e.to_string())
    }
}

impl From<StoreError> for PublishingError {
    fn from(e: StoreError) -> PublishingError {
        match e {
            StoreError::NotFound { what: "building", id } => {
                PublishingError::NotFound(format!("building {id} does not exist"))
            }
            StoreError::NotFound { .. } => PublishingError::NotFound(e.to_string()),
            StoreError::Refused(message) => PublishingError::ManifestFull(message),
            StoreError::Conflict(Conflict::Exists { what: "item", id }) => {
                PublishingError::Conflict { message: format!("item {id} already exists"), current: None }
            }
            StoreError::Conflict(Conflict::VersionMoved { id, current, .. }) => PublishingError::Conflict {
                message: format!(
                    "item {id} changed while this version was written (it is at version {current} now); \
                     read it again and send version {}",
                    current + 1
                ),
                current: Some(current),
            },
            StoreError::Conflict(conflict) => {
                PublishingError::Conflict { message: conflict.to_string(), current: None }
            }
            other => PublishingError::Store(other),
        }
    }
}

/// Who asks, and through which interface: every service call takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub publisher: Publisher,
    pub via: Via,
}

impl Actor {
    pub fn new(publisher: Publisher, via: Via) -> Actor {
        Actor { publisher, via }
    }

    /// What the audit log records of this actor's change at `at`.
    pub fn change(&self, at: Timestamp) -> Change {
        Change {
            actor: Some(self.publisher.id.clone()),
            actor_name: self.publisher.name.clone(),
            via: self.via,
            at,
        }
    }
}

/// Whether a publication creates an item or writes a new version of the named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Create,
    Update(ItemId),
}

/// What a publication stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The item as boards receive it.
    pub item: Item,
    /// The buildings it names, sorted.
    pub buildings: Vec<BuildingId>,
    /// The areas it names, sorted.
    pub areas: Vec<AreaId>,
    /// Every building it reaches now, sorted.
    pub reach: Vec<BuildingId>,
    /// The generation the manifests of its old and new buildings moved to.
    pub generation: u64,
    /// `Pending` when it waits for a moderator before reaching any board.
    pub moderation: Moderation,
}

/// An uploaded picture and whether it was new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub media: MediaRef,
    pub created: bool,
}

/// How many uploaded pictures are decoded at once: each may take a hundred megabytes for a
/// second or two, so more would only queue on two cores and grow the memory.
pub const PARALLEL_DECODES: usize = 2;

/// The publishing service.
#[derive(Clone)]
pub struct Publishing {
    store: Arc<dyn Store>,
    media: Arc<dyn MediaStore>,
    hints: Hints,
    clock: Clock,
    limits: ManifestLimits,
    decodes: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Publishing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publishing")
            .field("store", &self.store)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Publishing {
    pub fn new(store: Arc<dyn Store>, media: Arc<dyn MediaStore>, hints: Hints, clock: Clock) -> Publishing {
        let decodes = Arc::new(tokio::sync::Semaphore::new(PARALLEL_DECODES));
        Publishing { store, media, hints, clock, limits: ManifestLimits::default(), decodes }
    }

    /// Lower manifest limits, for tests that fill a building.
    /// The same service reading another clock (tests move time on).
    pub fn with_clock(mut self, clock: Clock) -> Publishing {
        self.clock = clock;
        self
    }

    pub fn with_manifest_limits(mut self, limits: ManifestLimits) -> Publishing {
        self.limits = limits;
        self
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// The change hints the service sends after each write that moves manifests.
    pub fn hints(&self) -> &Hints {
        &self.hints
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Publishes a new item or a new version of one, from a body as the publishing API takes it.
    pub async fn publish(
        &self,
        actor: &Actor,
        body: Value,
        target: Target,
    ) -> Result<Published, PublishingError> {
        let now = self.now();
        let draft = self.read_draft(actor, body, &target, now).await?;
        self.store_draft(actor, draft, target, now).await
    }

    /// Reads and checks a body without storing anything (the console's preview uses it).
    pub async fn read_draft(
        &self,
        actor: &Actor,
        body: Value,
        target: &Target,
        now: Timestamp,
    ) -> Result<Draft, PublishingError> {
        let mut media = HashMap::new();
        for address in draft::media_addresses(&body) {
            let found = match MediaAddress::parse(&address) {
                Ok(parsed) => self.store.media(&parsed).await?,
                Err(_) => None,
            };
            if let Some(found) = found {
                media.insert(address, found);
            }
        }
        let path_id = match target {
            Target::Create => None,
            Target::Update(id) => Some(id),
        };
        draft::read(body, &actor.publisher, path_id, now, &media)
    }

    /// Versions, authorizes, moderates and stores a checked draft; hints the buildings it moved.
    pub async fn store_draft(
        &self,
        actor: &Actor,
        draft: Draft,
        target: Target,
        now: Timestamp,
    ) -> Result<Published, PublishingError> {
        let publisher = &actor.publisher;
        let id = ItemId::parse(&draft.item.id).map_err(PublishingError::Invalid)?;
        let existing = self.store.item(&id).await?;
        let replaces = match (&target, &existing) {
            (Target::Create, Some(_)) => return Err(StoreError::exists("item", &id).into()),
            (Target::Create, None) => None,
            (Target::Update(_), None) => return Err(StoreError::not_found("item", &id).into()),
            (Target::Update(_), Some(record)) => {
                rules::may_change(publisher, record)?;
                Some(record.version)
            }
        };
        let version = replaces.map_or(1, |v| v + 1);
        if let Some(expected) = draft.expected_version
            && expected != version
        {
            return Err(PublishingError::Conflict {
                message: format!(
                    "item {id}: version {expected} is stale, the next version is {version}; send {version} or leave \
                     version out"
                ),
                current: replaces,
            });
        }
        let Targets { buildings, areas } = match draft.targets {
            Some(targets) => targets,
            // An update that names no target keeps the item where it is; a new item goes
            // everywhere its publisher reaches.
            None => match &existing {
                Some(record) => Targets { buildings: record.buildings.clone(), areas: record.areas.clone() },
                None => Targets { buildings: publisher.buildings.clone(), areas: publisher.areas.clone() },
            },
        };
        if buildings.is_empty() && areas.is_empty() {
            return Err(PublishingError::Invalid(
                "name at least one building or area to publish to".to_owned(),
            ));
        }
        for building in &buildings {
            if self.store.building(building).await?.is_none() {
                return Err(StoreError::not_found("building", building).into());
            }
        }
        rules::may_reach(publisher, &buildings)?;
        for area in &areas {
            let within = self.areas_around(area).await?;
            rules::may_reach_area(publisher, area, &within)?;
        }
        let mut reach = self.store.area_reach(&areas).await?;
        reach.extend(buildings.iter().cloned());
        reach.sort();
        reach.dedup();
        let mut item = draft.item;
        item.version = version;
        let reviewed = match draft.review {
            Some(decided) => decided,
            None => self.reviewed(&item, &reach).await?,
        };
        let event = match &existing {
            None => moderation::Event::Submitted { reviewed },
            Some(record) => moderation::Event::Edited {
                reviewed,
                content_changed: moderation::content_changed(&record.item, &item),
            },
        };
        let moderation = moderation::next(existing.as_ref().map(|r| &r.moderation), event)?;
        let write = ItemWrite {
            item,
            publisher_id: publisher.id.clone(),
            person_id: draft.person_id,
            buildings,
            areas,
            replaces,
            moderation,
            change: actor.change(now),
        };
        let moved = self.store.write_item(&write, self.limits.admission()).await?;
        let reason = if replaces.is_none() { "publish" } else { "update" };
        self.hint(&moved, reason);
        tracing::info!(item = %id, version, moderation = write.moderation.as_str(), generation = ?moved.generation, "{reason}");
        Ok(Published {
            item: write.item,
            buildings: write.buildings,
            areas: write.areas,
            reach,
            generation: moved.generation.unwrap_or_default(),
            moderation: write.moderation,
        })
    }

    /// The areas an area lies within, itself first; a missing one is named.
    async fn areas_around(&self, area: &AreaId) -> Result<Vec<AreaId>, PublishingError> {
        let mut chain = Vec::new();
        let mut next = Some(area.clone());
        while let Some(id) = next {
            if chain.contains(&id) || chain.len() > 16 {
                break;
            }
            let found = self
                .store
                .area(&id)
                .await?
                .ok_or_else(|| PublishingError::NotFound(format!("area {id} does not exist")))?;
            next = found.within;
            chain.push(id);
        }
        Ok(chain)
    }

    /// Whether a resident's post waits for a moderator: its kind is moderated in one of its
    /// buildings.
    async fn reviewed(&self, item: &Item, buildings: &[BuildingId]) -> Result<bool, PublishingError> {
        if item.channel != palier_content::Channel::Neighbourhood {
            return Ok(false);
        }
        for building in buildings {
            if self.store.moderated_kinds(building).await?.contains(&item.kind()) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// An item the actor may see.
    pub async fn item(&self, actor: &Actor, id: &ItemId) -> Result<ItemRecord, PublishingError> {
        let record = self.store.item(id).await?.ok_or_else(|| StoreError::not_found("item", id))?;
        rules::may_see(&actor.publisher, &record)?;
        Ok(record)
    }

    /// An item the actor may change.
    async fn changeable_item(&self, actor: &Actor, id: &ItemId) -> Result<ItemRecord, PublishingError> {
        let record = self.store.item(id).await?.ok_or_else(|| StoreError::not_found("item", id))?;
        rules::may_change(&actor.publisher, &record)?;
        Ok(record)
    }

    /// The items of a building that the actor may see, newest change first.
    pub async fn items_of(
        &self,
        actor: &Actor,
        building: &BuildingId,
    ) -> Result<Vec<ItemRecord>, PublishingError> {
        rules::may_see_building(&actor.publisher, building)?;
        let items = self.store.items(&ItemQuery::Building(building.clone())).await?;
        Ok(items.into_iter().filter(|record| rules::may_see(&actor.publisher, record).is_ok()).collect())
    }

    /// Residents' posts waiting for this moderator, oldest first.
    pub async fn moderation_queue(&self, actor: &Actor) -> Result<Vec<ItemRecord>, PublishingError> {
        let publisher = &actor.publisher;
        if !rules::moderates(publisher) {
            return Err(Forbidden {
                rule: rules::Rule::Moderation,
                message: format!("a {} does not moderate; moderators and admins do", publisher.role),
            }
            .into());
        }
        let scope = (publisher.role != rules::Role::Admin).then(|| publisher.reach.clone());
        let pending = self.store.items(&ItemQuery::Pending(scope)).await?;
        Ok(pending.into_iter().filter(|record| rules::may_moderate(publisher, record).is_ok()).collect())
    }

    /// Approves a resident's post (it reaches the boards) or rejects it with a reason (which
    /// the publishing API returns to the app). `version` is the version the moderator read.
    pub async fn moderate(
        &self,
        actor: &Actor,
        id: &ItemId,
        version: u64,
        decision: moderation::Event,
    ) -> Result<Moderation, PublishingError> {
        let record = self.store.item(id).await?.ok_or_else(|| StoreError::not_found("item", id))?;
        rules::may_moderate(&actor.publisher, &record)?;
        if record.is_withdrawn() {
            return Err(PublishingError::Conflict {
                message: format!("item {id} was withdrawn; there is nothing left to moderate"),
                current: Some(record.version),
            });
        }
        let decided = moderation::next(Some(&record.moderation), decision)?;
        let moved = self.store.moderate(id, version, &decided, &actor.change(self.now())).await?;
        self.hint(&moved, if decided.is_shown() { "publish" } else { "withdraw" });
        tracing::info!(item = %id, version, moderation = decided.as_str(), "moderated");
        Ok(decided)
    }

    /// Takes an item out of every manifest at once; harmless to repeat.
    pub async fn withdraw(&self, actor: &Actor, id: &ItemId) -> Result<Withdrawal, PublishingError> {
        self.changeable_item(actor, id).await?;
        let change = actor.change(self.now());
        let withdrawal =
            self.store.withdraw_items(std::slice::from_ref(id), WithdrawReason::Withdrawn, &change).await?;
        self.hint(&withdrawal.moved, "withdraw");
        Ok(withdrawal)
    }

    /// A resident left: every live item published for them goes, at once.
    pub async fn erase_person(
        &self,
        actor: &Actor,
        person: &PersonId,
    ) -> Result<Withdrawal, PublishingError> {
        rules::may_speak_for_people(&actor.publisher)?;
        let ids = self.store.live_items_of_person(&actor.publisher.id, person).await?;
        let change = actor.change(self.now());
        let withdrawal = self.store.withdraw_items(&ids, WithdrawReason::PersonErased, &change).await?;
        self.hint(&withdrawal.moved, "withdraw");
        if !withdrawal.items.is_empty() {
            tracing::info!(items = ?withdrawal.items, "person withdrawn");
        }
        Ok(withdrawal)
    }

    /// Housekeeping: items past their `valid_until` leave the manifests.
    pub async fn expire(&self) -> Result<Withdrawal, PublishingError> {
        let now = self.now();
        let ids = self.store.expired_items(now).await?;
        let withdrawal =
            self.store.withdraw_items(&ids, WithdrawReason::Expired, &Change::platform(now)).await?;
        self.hint(&withdrawal.moved, "withdraw");
        if !withdrawal.items.is_empty() {
            tracing::info!(items = ?withdrawal.items, generation = ?withdrawal.moved.generation, "expired items withdrawn");
        }
        Ok(withdrawal)
    }

    /// Where and when an item was shown, from the plays boards uploaded.
    pub async fn item_plays(&self, actor: &Actor, id: &ItemId) -> Result<ItemPlays, PublishingError> {
        self.item(actor, id).await?;
        Ok(self.store.item_plays(id, MAX_LISTED_PLAYS).await?)
    }

    /// The whole proof of play of an item: per screen of its buildings, shown or why not.
    pub async fn proof_of_play(
        &self,
        actor: &Actor,
        id: &ItemId,
    ) -> Result<proof::ProofOfPlay, PublishingError> {
        let record = self.item(actor, id).await?;
        let plays = self.store.item_plays(id, MAX_LISTED_PLAYS).await?;
        let mut devices = Vec::new();
        for building in &record.reach {
            let current = self.store.building_generation(building).await?;
            let tz = self
                .store
                .building(building)
                .await?
                .and_then(|b| b.tz().ok())
                .unwrap_or(jiff::tz::TimeZone::UTC);
            for report in self.store.device_reports(Some(building)).await? {
                if report.device.revoked_at.is_none() {
                    devices.push(proof::DeviceView {
                        report,
                        current_generation: current.generation,
                        tz: tz.clone(),
                    });
                }
            }
        }
        Ok(proof::prove(&record, &plays, &devices, self.now()))
    }

    /// Checks a picture from its bytes, normalises it ([`crate::media::normalize`]: upright,
    /// without metadata, scaled for the largest screen), stores that under its address and
    /// records it. At most [`PARALLEL_DECODES`] uploads are decoded at once; the others wait.
    pub async fn upload_media(&self, actor: &Actor, bytes: Vec<u8>) -> Result<Uploaded, PublishingError> {
        let failed = |e: &dyn std::fmt::Display| {
            PublishingError::Store(StoreError::Backend { operation: "storing media", detail: e.to_string() })
        };
        let permit = self.decodes.acquire().await.map_err(|e| failed(&e))?;
        let original = bytes.len();
        let (media, normalized) = tokio::task::spawn_blocking(move || -> Result<_, PublishingError> {
            let normalized = normalize(&bytes)?;
            drop(bytes);
            Ok((media_ref(&normalized), normalized.bytes))
        })
        .await
        .map_err(|e| failed(&e))??;
        drop(permit);
        self.media.put(&media.sha256, normalized).await.map_err(|e| PublishingError::MediaFiles {
            address: MediaAddress::stored(media.sha256.clone()),
            detail: e.to_string(),
        })?;
        let created = self.store.add_media(&media, self.now()).await?;
        if created {
            tracing::info!(
                publisher = %actor.publisher.id, sha256 = %media.sha256, original, stored = media.bytes,
                width = media.width, height = media.height, "media uploaded"
            );
        }
        Ok(Uploaded { media, created })
    }

    fn hint(&self, moved: &Moved, reason: &str) {
        if let Some(generation) = moved.generation {
            self.hints.notify(&moved.buildings, generation, reason);
        }
    }
}
