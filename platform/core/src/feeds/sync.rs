//! One fetch of one feed, from the request to what the screens receive, and the record of
//! what it did.
//!
//! The publishing service does the publishing, as the feed's publisher through
//! [`Via::Platform`]: each new or changed entry is a publication (its picture first through
//! the upload checks), each entry gone a withdrawal, so rules, moderation, admission, audit
//! and change hints are the ones every item goes through. An entry the service refuses is
//! reported and tried again at the next fetch; the others go on.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use palier_content::{Channel, Details, Item, MediaRef};

use super::fetch::{FetchError, Fetched, Fetcher};
use super::plan::{Current, Known, plan};
use super::{Entry, EntryDetails, FeedError, FeedFormat, MAX_DOCUMENT_BYTES, Read, ical, news};
use crate::ids::ItemId;
use crate::media::MAX_UPLOAD_BYTES;
use crate::publishing::{Actor, Draft, Publishing, PublishingError, Target};
use crate::store::{Feed, FeedItem, Targets, Via};

/// The longest wait between two fetches of a failing feed.
pub const MAX_BACKOFF: SignedDuration = SignedDuration::from_hours(6);

/// What one fetch did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchOutcome {
    pub created: Vec<ItemId>,
    pub updated: Vec<ItemId>,
    pub withdrawn: Vec<ItemId>,
    pub unchanged: usize,
    /// The server said the document had not changed.
    pub not_modified: bool,
    /// Entries skipped or refused, each with its reason.
    pub problems: Vec<String>,
    /// Why the fetch changed nothing, when it failed.
    pub error: Option<String>,
}

impl FetchOutcome {
    /// « 2 new, 1 updated, 1 withdrawn, 12 unchanged; 1 entry skipped: … ».
    pub fn report(&self) -> String {
        if self.not_modified {
            return "not modified since the last fetch".to_owned();
        }
        let mut out = format!(
            "{} new, {} updated, {} withdrawn, {} unchanged",
            self.created.len(),
            self.updated.len(),
            self.withdrawn.len(),
            self.unchanged
        );
        if !self.problems.is_empty() {
            let _ = write!(
                out,
                "; {} problem(s): {}",
                self.problems.len(),
                self.problems.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
            );
            if self.problems.len() > 5 {
                out.push_str("; …");
            }
        }
        out
    }
}

/// When a feed is fetched again: its period when all goes well, then twice as long after
/// each failure in a row, up to [`MAX_BACKOFF`] (or its period, if longer).
pub fn next_fetch_after(every: SignedDuration, failures: u32) -> SignedDuration {
    if failures == 0 {
        return every;
    }
    let factor = 1_i64 << failures.min(16);
    let backoff = SignedDuration::from_secs(every.as_secs().saturating_mul(factor));
    backoff.min(MAX_BACKOFF.max(every))
}

/// The id of the item an entry publishes: the feed's id and a digest of the entry's key.
pub fn item_id(feed: &Feed, key: &str) -> ItemId {
    let digest = palier_content::demo::sha256_hex(key.as_bytes());
    ItemId::parse(&format!("{}-{}", feed.id, &digest[..12]))
        .unwrap_or_else(|_| ItemId::stored(digest[..40].to_owned()))
}

/// Fetches a feed now, publishes what changed, and records the outcome in the feed's status.
pub async fn fetch_feed(publishing: &Publishing, fetcher: &Fetcher, feed: &Feed) -> FetchOutcome {
    let now = publishing.now();
    let mut status = feed.status.clone();
    let outcome = match fetch_and_apply(publishing, fetcher, feed, now).await {
        Ok((outcome, validators)) => {
            // The validators are kept only once what the document said is published.
            if let Some((etag, last_modified)) = validators {
                (status.etag, status.last_modified) = (etag, last_modified);
            }
            outcome
        }
        Err(error) => FetchOutcome { error: Some(error), ..FetchOutcome::default() },
    };
    status.last_fetch_at = Some(now);
    match &outcome.error {
        None => {
            status.last_ok_at = Some(now);
            status.last_error = None;
            status.failures = 0;
            status.report = outcome.report();
            tracing::info!(feed = %feed.id, report = %status.report, "feed fetched");
        }
        Some(error) => {
            status.last_error = Some(error.clone());
            status.failures = status.failures.saturating_add(1);
            tracing::warn!(feed = %feed.id, failures = status.failures, "feed not fetched: {error}");
        }
    }
    status.next_fetch_at = Some(now + next_fetch_after(feed.every, status.failures));
    if let Err(e) = publishing.store().set_feed_status(&feed.id, &status).await {
        tracing::warn!(feed = %feed.id, "recording the fetch failed: {e}");
    }
    outcome
}

async fn fetch_and_apply(
    publishing: &Publishing,
    fetcher: &Fetcher,
    feed: &Feed,
    now: Timestamp,
) -> Result<(FetchOutcome, Option<Validators>), String> {
    let store = publishing.store();
    let fetched = fetcher
        .document(
            &feed.url,
            feed.status.etag.as_deref(),
            feed.status.last_modified.as_deref(),
            MAX_DOCUMENT_BYTES,
        )
        .await
        .map_err(|e| format!("{}: {e}", feed.url))?;
    let (bytes, etag, last_modified) = match fetched {
        Fetched::NotModified => {
            return Ok((FetchOutcome { not_modified: true, ..FetchOutcome::default() }, None));
        }
        Fetched::Document { bytes, etag, last_modified } => (bytes, etag, last_modified),
    };
    let known = store.feed_items(&feed.id).await.map_err(|e| e.to_string())?;
    let first_seen: HashMap<&str, Timestamp> = known.iter().map(|k| (k.key.as_str(), k.first_seen)).collect();
    let read = read_document(publishing, feed, &bytes, now, &first_seen).await.map_err(|e| e.to_string())?;

    let prints: Vec<String> = read.entries.iter().map(Entry::fingerprint).collect();
    let current: Vec<Current<'_>> = read
        .entries
        .iter()
        .zip(&prints)
        .map(|(entry, fingerprint)| Current { key: &entry.key, fingerprint })
        .collect();
    let before: Vec<Known> =
        known.iter().map(|k| Known { key: k.key.clone(), fingerprint: k.fingerprint.clone() }).collect();
    let unreadable: HashSet<String> = read.skipped.iter().filter_map(|s| s.key.clone()).collect();
    let plan = plan(&current, &before, read.listed, &unreadable).map_err(|e| e.to_string())?;

    let actor = Actor::new(feed.publisher.clone(), Via::Platform);
    let mut outcome = FetchOutcome { unchanged: plan.unchanged, ..FetchOutcome::default() };
    outcome.problems.extend(read.skipped.iter().map(|s| s.reason.clone()));
    if read.capped > 0 {
        outcome.problems.push(format!(
            "{} entries left out: a feed keeps at most {} items",
            read.capped,
            super::MAX_FEED_ITEMS
        ));
    }
    let by_key: HashMap<&str, (&Entry, &String)> =
        read.entries.iter().zip(&prints).map(|(e, p)| (e.key.as_str(), (e, p))).collect();
    let mut remembered: HashMap<String, FeedItem> =
        known.iter().map(|k| (k.key.clone(), k.clone())).collect();

    for key in plan.create.iter().chain(&plan.update) {
        let (entry, fingerprint) = by_key[key.as_str()];
        let id = item_id(feed, key);
        match publish_entry(publishing, fetcher, &actor, feed, entry, &id).await {
            Ok((created, picture_problem)) => {
                if created {
                    outcome.created.push(id.clone())
                } else {
                    outcome.updated.push(id.clone())
                }
                outcome.problems.extend(picture_problem);
                let first_seen = remembered.get(key).map_or(now, |k| k.first_seen);
                remembered.insert(
                    key.clone(),
                    FeedItem { key: key.clone(), item_id: id, fingerprint: fingerprint.clone(), first_seen },
                );
            }
            Err(e) => outcome.problems.push(format!("entry {key}: {e}")),
        }
    }
    for key in &plan.withdraw {
        let Some(known) = remembered.remove(key) else { continue };
        match publishing.withdraw(&actor, &known.item_id).await {
            Ok(withdrawal) if !withdrawal.items.is_empty() => outcome.withdrawn.push(known.item_id),
            Ok(_) => {}
            Err(PublishingError::NotFound(_)) => {}
            Err(e) => {
                outcome.problems.push(format!("withdrawing {}: {e}", known.item_id));
                remembered.insert(key.clone(), known);
            }
        }
    }
    let mut items: Vec<FeedItem> = remembered.into_values().collect();
    items.sort_by(|a, b| a.key.cmp(&b.key));
    store.set_feed_items(&feed.id, &items).await.map_err(|e| e.to_string())?;
    Ok((outcome, Some((etag, last_modified))))
}

/// A document's ETag and Last-Modified, for the next conditional request.
type Validators = (Option<String>, Option<String>);

/// Reads the document with the parser its format needs.
async fn read_document(
    publishing: &Publishing,
    feed: &Feed,
    bytes: &[u8],
    now: Timestamp,
    first_seen: &HashMap<&str, Timestamp>,
) -> Result<Read, FeedError> {
    match feed.format {
        FeedFormat::Ical => {
            let zone = feed_zone(publishing, feed).await;
            ical::read(&String::from_utf8_lossy(bytes), &zone, now)
        }
        FeedFormat::Rss | FeedFormat::Atom => {
            news::read(bytes, &feed.url, now, &|key| first_seen.get(key).copied())
        }
    }
}

/// The zone of the feed's first building: where times that name no zone are read.
async fn feed_zone(publishing: &Publishing, feed: &Feed) -> jiff::tz::TimeZone {
    for building in &feed.publisher.reach {
        if let Ok(Some(found)) = publishing.store().building(building).await
            && let Ok(tz) = found.tz()
        {
            return tz;
        }
    }
    jiff::tz::TimeZone::UTC
}

/// Publishes an entry as a new item or a new version; returns whether it was new, and a
/// problem with its picture if it has to go without.
async fn publish_entry(
    publishing: &Publishing,
    fetcher: &Fetcher,
    actor: &Actor,
    feed: &Feed,
    entry: &Entry,
    id: &ItemId,
) -> Result<(bool, Option<String>), PublishingError> {
    let (media, picture_problem) = match &entry.picture {
        None => (Vec::new(), None),
        Some(address) => match picture(publishing, fetcher, actor, address).await {
            Ok(media) => (vec![media], None),
            Err(problem) => (
                Vec::new(),
                Some(format!("entry {}: picture {address}: {problem}; published without it", entry.key)),
            ),
        },
    };
    let details = match &entry.details {
        EntryDetails::Event { starts_at, ends_at, place } => Details::Event(palier_content::Event {
            starts_at: *starts_at,
            ends_at: *ends_at,
            place: place.clone(),
        }),
        EntryDetails::News => Details::News(palier_content::News { source: Some(feed.name.clone()) }),
    };
    let item = Item {
        id: id.to_string(),
        version: 1,
        channel: Channel::Neighbourhood,
        valid_from: entry.valid_from,
        valid_until: entry.valid_until,
        schedule: None,
        weight: 1,
        duration_s: None,
        roles: Vec::new(),
        lang: "fr".to_owned(),
        title: entry.title.clone(),
        body: entry.body.clone(),
        media,
        link: entry.link.clone(),
        origin: Some(feed.name.clone()),
        details,
    };
    palier_content::validate::validate_item(&item).map_err(PublishingError::Invalid)?;
    let exists = publishing.store().item(id).await?.is_some();
    let target = if exists { Target::Update(id.clone()) } else { Target::Create };
    let draft = Draft {
        item,
        expected_version: None,
        targets: Some(Targets {
            buildings: feed.publisher.buildings.clone(),
            areas: feed.publisher.areas.clone(),
        }),
        person_id: None,
        review: Some(feed.moderated),
    };
    publishing.store_draft(actor, draft, target, publishing.now()).await?;
    Ok((!exists, picture_problem))
}

/// Fetches a picture and brings it through the upload checks.
async fn picture(
    publishing: &Publishing,
    fetcher: &Fetcher,
    actor: &Actor,
    address: &str,
) -> Result<MediaRef, String> {
    let bytes = fetcher.picture(address, MAX_UPLOAD_BYTES).await.map_err(|e: FetchError| e.to_string())?;
    publishing.upload_media(actor, bytes).await.map(|uploaded| uploaded.media).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_feeds_back_off_up_to_six_hours() {
        let every = SignedDuration::from_mins(15);
        let cases = [(0, 15), (1, 30), (2, 60), (3, 120), (4, 240), (5, 360), (30, 360)];
        for (failures, minutes) in cases {
            assert_eq!(next_fetch_after(every, failures), SignedDuration::from_mins(minutes), "{failures}");
        }
        let daily = SignedDuration::from_hours(24);
        assert_eq!(next_fetch_after(daily, 3), daily, "never sooner than the feed's own period");
    }
}
