//! Items as the platform keeps them: a record around what boards receive, a write of a new
//! version, what a write or withdrawal moved, and where an item was shown.

use jiff::Timestamp;
use palier_content::Item;
use serde::Serialize;

use super::Change;
use crate::ids::{AreaId, BuildingId, DeviceId, ItemId, PersonId, PublisherId};
use crate::moderation::Moderation;

/// An item as stored: its content and what the platform knows around it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRecord {
    pub id: ItemId,
    pub version: u64,
    pub publisher_id: PublisherId,
    pub person_id: Option<PersonId>,
    /// When and why it left the manifests, if it did.
    pub withdrawn: Option<(Timestamp, String)>,
    /// The buildings it targets by name, sorted.
    pub buildings: Vec<BuildingId>,
    /// The areas it targets, sorted.
    pub areas: Vec<AreaId>,
    /// Every building whose boards receive it: `buildings` and those its areas reach now,
    /// sorted.
    pub reach: Vec<BuildingId>,
    pub moderation: Moderation,
    /// The content boards receive.
    pub item: Item,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ItemRecord {
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn.is_some()
    }
}

/// A new item or a new version of one, checked and versioned by the publishing service.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemWrite {
    /// The item as boards will receive it, `version` included.
    pub item: Item,
    pub publisher_id: PublisherId,
    pub person_id: Option<PersonId>,
    /// Buildings named, sorted, without duplicates.
    pub buildings: Vec<BuildingId>,
    /// Areas named, sorted, without duplicates: the item reaches their buildings, including
    /// buildings added to them later.
    pub areas: Vec<AreaId>,
    /// The version this write replaces: `None` creates the item (refused if the id exists),
    /// `Some(v)` is refused unless the stored version is still `v`.
    pub replaces: Option<u64>,
    pub moderation: Moderation,
    pub change: Change,
}

/// A building's live content after a write, for the admission check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildingLoad {
    pub building: BuildingId,
    pub items: usize,
    /// Bytes of the items' stored JSON.
    pub bytes: usize,
}

/// Decides, inside the write's transaction, whether a building may hold its new load; the
/// message of a refusal becomes [`StoreError::Refused`].
pub type Admission = dyn Fn(&BuildingLoad) -> Result<(), String> + Send + Sync;

/// What a write or withdrawal moved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Moved {
    /// The new generation; `None` when nothing changed.
    pub generation: Option<u64>,
    /// Every building whose manifests moved to it, sorted.
    pub buildings: Vec<BuildingId>,
}

/// What a withdrawal took out of the manifests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Withdrawal {
    /// The items that were live and are not any more.
    pub items: Vec<ItemId>,
    pub moved: Moved,
}

/// Why items left the manifests, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawReason {
    Withdrawn,
    PersonErased,
    Expired,
}

impl WithdrawReason {
    /// What the audit log calls it.
    pub fn action(self) -> &'static str {
        match self {
            WithdrawReason::Withdrawn => "withdraw",
            WithdrawReason::PersonErased => "erase person",
            WithdrawReason::Expired => "expire",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WithdrawReason::Withdrawn => "withdrawn",
            WithdrawReason::PersonErased => "person withdrawn",
            WithdrawReason::Expired => "expired",
        }
    }
}

/// Plays of one item: totals per device and screen, and the records themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemPlays {
    pub item_id: ItemId,
    pub total: u64,
    pub screens: Vec<ScreenPlays>,
    pub plays: Vec<PlayRow>,
    /// True when `plays` stops at the listing limit (the totals still count everything).
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScreenPlays {
    pub device_id: DeviceId,
    pub device_name: String,
    pub building_id: BuildingId,
    pub screen: String,
    pub count: u64,
    pub total_duration_ms: u64,
    pub first_shown: Timestamp,
    pub last_shown: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlayRow {
    pub device_id: DeviceId,
    pub id: String,
    pub item_version: u64,
    pub screen: String,
    pub role: String,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    pub trigger: String,
    pub clock_trusted: bool,
}

/// Most play records listed in one answer.
pub const MAX_LISTED_PLAYS: usize = 10_000;

/// Which items a listing returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemQuery {
    /// Items targeting this building, newest change first.
    Building(BuildingId),
    /// Items waiting for a moderator in any of these buildings (every building when `None`),
    /// oldest first.
    Pending(Option<Vec<BuildingId>>),
}

/// The most items one listing returns.
pub const MAX_LISTED_ITEMS: usize = 1_000;
