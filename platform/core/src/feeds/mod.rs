//! Feeds the platform fetches on a schedule: a city's cultural agenda in iCalendar, news in
//! RSS or Atom. Each feed publishes through the publishing service as its own publisher
//! (role `feed`), scoped to buildings and areas like any other, so the rules, moderation,
//! manifests, hints and proof of play are the ones every item goes through.
//!
//! One fetch ([`sync::fetch_feed`]): a conditional GET ([`fetch`]: ETag, Last-Modified, a
//! timeout, a size cap), then the document read by a well-kept parser ([`ical`] over the
//! `icalendar` and `rrule` crates, [`news`] over `feed-rs`) into [`Entry`]s, each keyed by its
//! UID or GUID (and, for a recurring event, its occurrence), with HTML turned into plain text
//! ([`text`]); then [`plan`] compares them with what the feed published before (a
//! fingerprint per entry) and decides what to create, update and withdraw; pictures come
//! through the same checks as an upload. A document that cannot be read, is too large or
//! lists too many entries changes nothing and is reported; an entry that cannot be read is
//! reported and the item it published before, if any, is kept. [`runner`] fetches each feed
//! when it is due and backs off on errors.

pub mod fetch;
pub mod ical;
pub mod news;
pub mod plan;
pub mod runner;
pub mod sync;
pub mod text;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// What a feed's document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedFormat {
    Ical,
    Rss,
    Atom,
}

impl FeedFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Ical => "ical",
            FeedFormat::Rss => "rss",
            FeedFormat::Atom => "atom",
        }
    }

    pub fn parse(text: &str) -> Option<FeedFormat> {
        [FeedFormat::Ical, FeedFormat::Rss, FeedFormat::Atom].into_iter().find(|f| f.as_str() == text)
    }
}

/// What a feed's entries become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    Event,
    News,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Event => "event",
            FeedKind::News => "news",
        }
    }

    pub fn parse(text: &str) -> Option<FeedKind> {
        [FeedKind::Event, FeedKind::News].into_iter().find(|k| k.as_str() == text)
    }
}

/// The largest document fetched; past it the fetch stops and the feed reports it.
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;
/// The most entries a document may list; past it nothing is read (a runaway export).
pub const MAX_DOCUMENT_ENTRIES: usize = 2_000;
/// Events of the next weeks become items; later ones wait for a later fetch.
pub const EVENT_HORIZON: SignedDuration = SignedDuration::from_hours(24 * 28);
/// How long a news entry stays on screens after its date.
pub const NEWS_LIFETIME: SignedDuration = SignedDuration::from_hours(24 * 7);
/// The most items one feed keeps published: the soonest events, the newest news. A screen
/// also caps how many items of one origin it rotates (`max_per_origin`).
pub const MAX_FEED_ITEMS: usize = 200;
/// Most occurrences of one recurring event within the horizon.
pub const MAX_OCCURRENCES: u16 = 60;
/// Characters of an entry's description kept for the screen.
pub const MAX_FEED_BODY_CHARS: usize = 600;
/// How long an event without an end is taken to last.
pub const DEFAULT_EVENT_LENGTH: SignedDuration = SignedDuration::from_hours(2);

/// One entry of a feed, read and mapped, before its picture is fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The feed's identity for it: a UID (with the occurrence for a recurring event) or a GUID.
    pub key: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    /// The address of its picture, fetched only when the entry is new or changed.
    pub picture: Option<String>,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    pub details: EntryDetails,
}

/// What kind of item an entry becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EntryDetails {
    Event { starts_at: Timestamp, ends_at: Option<Timestamp>, place: Option<String> },
    News,
}

impl Entry {
    /// A digest of everything the entry says: equal fingerprints, nothing to publish.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).expect("entries serialize");
        palier_content::demo::sha256_hex(&json)
    }
}

/// An entry that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its key when it had one: the item it published before is kept.
    pub key: Option<String>,
    pub reason: String,
}

/// A document read into entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Read {
    pub entries: Vec<Entry>,
    pub skipped: Vec<Skipped>,
    /// How many entries the document listed, read or not.
    pub listed: usize,
    /// Entries left out because the feed keeps at most [`MAX_FEED_ITEMS`].
    pub capped: usize,
}

/// Why a document could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("{0}")]
    Unreadable(String),
    #[error(
        "the document lists {listed} entries, more than the {MAX_DOCUMENT_ENTRIES} a feed may; nothing was read"
    )]
    TooManyEntries { listed: usize },
}

/// Keeps the first [`MAX_FEED_ITEMS`] entries in the given order; notes how many were left.
fn cap(read: &mut Read) {
    if read.entries.len() > MAX_FEED_ITEMS {
        read.capped = read.entries.len() - MAX_FEED_ITEMS;
        read.entries.truncate(MAX_FEED_ITEMS);
    }
}

/// An http(s) address short enough for a QR code, or nothing.
fn web_address(text: &str) -> Option<String> {
    let text = text.trim();
    let web = text.starts_with("https://") || text.starts_with("http://");
    (web && text.len() <= palier_content::limits::MAX_LINK_CHARS && !text.chars().any(char::is_whitespace))
        .then(|| text.to_owned())
}

/// A chrono instant as the platform's.
fn timestamp<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> Option<Timestamp> {
    Timestamp::from_second(at.timestamp()).ok()
}
