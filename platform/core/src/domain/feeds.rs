//! Feeds the platform fetches, what their fetches did, and the entries they published.

use jiff::{SignedDuration, Timestamp};

use super::Publisher;
use crate::feeds::{FeedFormat, FeedKind};
use crate::ids::{FeedId, ItemId};

/// A feed the platform fetches, the publisher it publishes as (its scope), and what its
/// last fetch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub id: FeedId,
    /// What screens name as the items' origin: « Ville de Lyon — agenda ».
    pub name: String,
    pub url: String,
    pub format: FeedFormat,
    pub kind: FeedKind,
    /// Its items wait for a moderator before reaching any screen.
    pub moderated: bool,
    /// How often it is fetched when all goes well.
    pub every: SignedDuration,
    pub publisher: Publisher,
    pub created_at: Timestamp,
    pub removed_at: Option<Timestamp>,
    pub status: FeedStatus,
    /// Its items still in the manifests.
    pub live_items: usize,
}

/// What a feed's fetches did, kept between them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedStatus {
    pub last_fetch_at: Option<Timestamp>,
    pub last_ok_at: Option<Timestamp>,
    /// Why the last fetch changed nothing, when it failed.
    pub last_error: Option<String>,
    /// Failed fetches in a row (the backoff grows with them).
    pub failures: u32,
    pub next_fetch_at: Option<Timestamp>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// What the last successful fetch did, in a sentence.
    pub report: String,
}

/// An entry a feed published, remembered between fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    pub key: String,
    pub item_id: ItemId,
    pub fingerprint: String,
    pub first_seen: Timestamp,
}
