//! The publishing service: the one path every change to published content takes, whichever
//! interface it came through (the publishing API, the admin command line, the console).
//!
//! A publication is read and checked ([`draft`]), authorized ([`crate::rules`]), versioned
//! (a new item is version 1, each change the next version; a version the publisher names
//! must be that one), admitted against the protocol's manifest limits, stored in one
//! transaction ([`crate::store::Store::write_item`]), and followed by a change hint to every
//! building whose manifests moved. Withdrawals, a resident's erasure, expiry and proof of
//! play go through here too. Outcomes and errors are typed; the interfaces only map them.

pub mod draft;

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use palier_content::{Item, MediaRef};
use serde_json::Value;

use crate::hints::Hints;
use crate::ids::{BuildingId, ItemId, MediaAddress, PersonId};
use crate::media::{MediaFiles, UploadError, inspect_upload};
use crate::rules::{self, Forbidden};
use crate::store::{
    Admission, BuildingLoad, Conflict, ItemPlays, ItemRecord, ItemWrite, MAX_LISTED_PLAYS, Moved, Publisher,
    Store, StoreError, WithdrawReason, Withdrawal,
};

pub use draft::Draft;

#[cfg(test)]
mod tests;

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

impl From<StoreError> for PublishingError {
    fn from(e: StoreError) -> PublishingError {
        match e {
            StoreError::NotFound { what: "building", id } => PublishingError::NotFound(format!(
                "building {id} does not exist; `palier-platform building list` shows them"
            )),
            StoreError::NotFound { .. } => PublishingError::NotFound(e.to_string()),
            StoreError::Refused(message) => PublishingError::ManifestFull(message),
            StoreError::Conflict(Conflict::Exists { what: "item", id }) => PublishingError::Conflict {
                message: format!(
                    "item {id} already exists; PUT /v1/publish/items/{id} publishes a new version"
                ),
                current: None,
            },
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
    /// Its buildings, sorted.
    pub buildings: Vec<BuildingId>,
    /// The generation the manifests of its old and new buildings moved to.
    pub generation: u64,
}

/// An uploaded picture and whether it was new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub media: MediaRef,
    pub created: bool,
}

/// The publishing service.
#[derive(Clone)]
pub struct Publishing {
    store: Arc<dyn Store>,
    media: MediaFiles,
    hints: Hints,
    clock: Clock,
    limits: ManifestLimits,
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
    pub fn new(store: Arc<dyn Store>, media: MediaFiles, hints: Hints, clock: Clock) -> Publishing {
        Publishing { store, media, hints, clock, limits: ManifestLimits::default() }
    }

    /// Lower manifest limits, for tests that fill a building.
    pub fn with_manifest_limits(mut self, limits: ManifestLimits) -> Publishing {
        self.limits = limits;
        self
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Publishes a new item or a new version of one, from a body as the publishing API takes it.
    pub async fn publish(
        &self,
        actor: &Publisher,
        body: Value,
        target: Target,
    ) -> Result<Published, PublishingError> {
        let now = self.now();
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
        let path_id = match &target {
            Target::Create => None,
            Target::Update(id) => Some(id),
        };
        let draft = draft::read(body, actor, path_id, now, &media)?;
        self.store_draft(actor, draft, target, now).await
    }

    /// Versions, authorizes and stores a checked draft; hints the buildings it moved.
    pub async fn store_draft(
        &self,
        actor: &Publisher,
        draft: Draft,
        target: Target,
        now: Timestamp,
    ) -> Result<Published, PublishingError> {
        let id = ItemId::parse(&draft.item.id).map_err(PublishingError::Invalid)?;
        let existing = self.store.item(&id).await?;
        let replaces = match (&target, &existing) {
            (Target::Create, Some(_)) => return Err(StoreError::exists("item", &id).into()),
            (Target::Create, None) => None,
            (Target::Update(_), None) => return Err(StoreError::not_found("item", &id).into()),
            (Target::Update(_), Some(record)) => {
                rules::may_change(actor, record)?;
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
        let mut buildings = draft.buildings.unwrap_or_else(|| actor.buildings.clone());
        buildings.sort();
        buildings.dedup();
        for building in &buildings {
            if self.store.building(building).await?.is_none() {
                return Err(StoreError::not_found("building", building).into());
            }
        }
        rules::may_reach(actor, &buildings)?;
        let mut item = draft.item;
        item.version = version;
        let write = ItemWrite {
            item,
            publisher_id: actor.id.clone(),
            person_id: draft.person_id,
            buildings,
            replaces,
            at: now,
        };
        let moved = self.store.write_item(&write, self.limits.admission()).await?;
        let reason = if replaces.is_none() { "publish" } else { "update" };
        self.hint(&moved, reason);
        tracing::info!(item = %id, version, generation = ?moved.generation, "{reason}");
        Ok(Published {
            item: write.item,
            buildings: write.buildings,
            generation: moved.generation.unwrap_or_default(),
        })
    }

    /// The publisher's own item, or why not.
    async fn own_item(&self, actor: &Publisher, id: &ItemId) -> Result<ItemRecord, PublishingError> {
        let record = self.store.item(id).await?.ok_or_else(|| StoreError::not_found("item", id))?;
        rules::may_change(actor, &record)?;
        Ok(record)
    }

    /// Takes one of the publisher's items out of every manifest at once; harmless to repeat.
    pub async fn withdraw(&self, actor: &Publisher, id: &ItemId) -> Result<Withdrawal, PublishingError> {
        self.own_item(actor, id).await?;
        let withdrawal = self
            .store
            .withdraw_items(std::slice::from_ref(id), WithdrawReason::Withdrawn, self.now())
            .await?;
        self.hint(&withdrawal.moved, "withdraw");
        Ok(withdrawal)
    }

    /// A resident left: every live item published for them goes, at once.
    pub async fn erase_person(
        &self,
        actor: &Publisher,
        person: &PersonId,
    ) -> Result<Withdrawal, PublishingError> {
        rules::may_speak_for_people(actor)?;
        let ids = self.store.live_items_of_person(&actor.id, person).await?;
        let withdrawal = self.store.withdraw_items(&ids, WithdrawReason::PersonErased, self.now()).await?;
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
        let withdrawal = self.store.withdraw_items(&ids, WithdrawReason::Expired, now).await?;
        self.hint(&withdrawal.moved, "withdraw");
        if !withdrawal.items.is_empty() {
            tracing::info!(items = ?withdrawal.items, generation = ?withdrawal.moved.generation, "expired items withdrawn");
        }
        Ok(withdrawal)
    }

    /// Where and when one of the publisher's items was shown, from the plays boards uploaded.
    pub async fn item_plays(&self, actor: &Publisher, id: &ItemId) -> Result<ItemPlays, PublishingError> {
        self.own_item(actor, id).await?;
        Ok(self.store.item_plays(id, MAX_LISTED_PLAYS).await?)
    }

    /// Checks a picture from its bytes, stores it under its address and records it.
    pub async fn upload_media(&self, actor: &Publisher, bytes: Vec<u8>) -> Result<Uploaded, PublishingError> {
        let files = self.media.clone();
        let media = tokio::task::spawn_blocking(move || -> Result<MediaRef, PublishingError> {
            let media = inspect_upload(&bytes)?;
            files.put(&media.sha256, &bytes).map_err(|e| PublishingError::MediaFiles {
                address: MediaAddress::stored(media.sha256.clone()),
                detail: e.to_string(),
            })?;
            Ok(media)
        })
        .await
        .map_err(|e| {
            PublishingError::Store(StoreError::Backend { operation: "storing media", detail: e.to_string() })
        })??;
        let created = self.store.add_media(&media, self.now()).await?;
        if created {
            tracing::info!(publisher = %actor.id, sha256 = %media.sha256, bytes = media.bytes, "media uploaded");
        }
        Ok(Uploaded { media, created })
    }

    fn hint(&self, moved: &Moved, reason: &str) {
        if let Some(generation) = moved.generation {
            self.hints.notify(&moved.buildings, generation, reason);
        }
    }
}
