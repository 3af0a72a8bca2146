//! Feeds in SQLite: their settings, the publisher they publish as, their fetch status and
//! the entries they published.

use jiff::{SignedDuration, Timestamp};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Fail, Outcome, add_publisher_scope, instant, millis, publisher};
use crate::feeds::{FeedFormat, FeedKind};
use crate::ids::{FeedId, ItemId};
use crate::store::{Feed, FeedItem, FeedStatus, PublisherKind, StoreError};

const COLUMNS: &str = "f.id, f.name, f.url, f.format, f.kind, f.moderated, f.every_s, f.created_ms, f.removed_ms, \
     f.last_fetch_ms, f.last_ok_ms, f.last_error, f.failures, f.next_fetch_ms, f.etag, f.last_modified, f.report, \
     p.id, p.name, p.role, \
     (SELECT COUNT(*) FROM feed_items fi JOIN items i ON i.id = fi.item_id
      WHERE fi.feed_id = f.id AND i.withdrawn_ms IS NULL)";

type Row = (
    (String, String, String, String, String, bool, i64, i64, Option<i64>),
    (Option<i64>, Option<i64>, Option<String>, i64, Option<i64>, Option<String>, Option<String>, String),
    (String, String, String, i64),
);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?),
        (r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?, r.get(16)?),
        (r.get(17)?, r.get(18)?, r.get(19)?, r.get(20)?),
    ))
}

fn feed_from(tx: &Transaction<'_>, row: Row) -> Outcome<Feed> {
    let (
        (id, name, url, format, kind, moderated, every_s, created, removed),
        status,
        (pub_id, pub_name, role, live),
    ) = row;
    let (last_fetch, last_ok, last_error, failures, next_fetch, etag, last_modified, report) = status;
    let corrupt = |what: &str| Fail::Corrupt(format!("feed {id} has {what}"));
    let optional = |ms: Option<i64>| ms.map(instant).transpose();
    Ok(Feed {
        format: FeedFormat::parse(&format).ok_or_else(|| corrupt("an unknown format"))?,
        kind: FeedKind::parse(&kind).ok_or_else(|| corrupt("an unknown kind"))?,
        id: FeedId::stored(id),
        name,
        url,
        moderated,
        every: SignedDuration::from_secs(every_s),
        publisher: publisher(tx, pub_id, pub_name, &role, PublisherKind::Feed)?,
        created_at: instant(created)?,
        removed_at: optional(removed)?,
        status: FeedStatus {
            last_fetch_at: optional(last_fetch)?,
            last_ok_at: optional(last_ok)?,
            last_error,
            failures: failures.max(0) as u32,
            next_fetch_at: optional(next_fetch)?,
            etag,
            last_modified,
            report,
        },
        live_items: live.max(0) as usize,
    })
}

pub(super) fn add(tx: &Transaction<'_>, feed: &Feed) -> Outcome<()> {
    let exists =
        tx.query_row("SELECT 1 FROM feeds WHERE id = ?1", [feed.id.as_str()], |_| Ok(())).optional()?;
    if exists.is_some() {
        return Err(StoreError::exists("feed", &feed.id).into());
    }
    let publisher = &feed.publisher;
    // A feed's publisher row has no usable token: the hash of nothing anyone holds.
    tx.execute(
        "INSERT INTO publishers (id, name, role, token_hash, created_ms, kind) VALUES (?1, ?2, ?3, ?4, ?5, 'feed')",
        params![
            publisher.id.as_str(),
            publisher.name,
            publisher.role.as_str(),
            format!("feed:{}", feed.id),
            millis(feed.created_at)
        ],
    )?;
    add_publisher_scope(tx, publisher)?;
    tx.execute(
        "INSERT INTO feeds (id, name, url, format, kind, moderated, every_s, publisher_id, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            feed.id.as_str(),
            feed.name,
            feed.url,
            feed.format.as_str(),
            feed.kind.as_str(),
            feed.moderated,
            feed.every.as_secs(),
            publisher.id.as_str(),
            millis(feed.created_at)
        ],
    )?;
    Ok(())
}

pub(super) fn list(tx: &Transaction<'_>, id: Option<&FeedId>) -> Outcome<Vec<Feed>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM feeds f JOIN publishers p ON p.id = f.publisher_id
         WHERE ?1 IS NULL OR f.id = ?1 ORDER BY f.created_ms, f.id"
    );
    let rows: Vec<Row> = {
        let mut stmt = tx.prepare(&sql)?;
        stmt.query_map([id.map(FeedId::as_str)], row)?.collect::<Result<_, _>>()?
    };
    rows.into_iter().map(|r| feed_from(tx, r)).collect()
}

pub(super) fn set_status(tx: &Transaction<'_>, id: &FeedId, status: &FeedStatus) -> Outcome<()> {
    let changed = tx.execute(
        "UPDATE feeds SET last_fetch_ms = ?2, last_ok_ms = ?3, last_error = ?4, failures = ?5, next_fetch_ms = ?6,
                          etag = ?7, last_modified = ?8, report = ?9
         WHERE id = ?1",
        params![
            id.as_str(),
            status.last_fetch_at.map(millis),
            status.last_ok_at.map(millis),
            status.last_error,
            status.failures,
            status.next_fetch_at.map(millis),
            status.etag,
            status.last_modified,
            status.report
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::not_found("feed", id).into());
    }
    Ok(())
}

pub(super) fn items(tx: &Transaction<'_>, id: &FeedId) -> Outcome<Vec<FeedItem>> {
    let mut stmt = tx.prepare(
        "SELECT key, item_id, fingerprint, first_seen_ms FROM feed_items WHERE feed_id = ?1 ORDER BY key",
    )?;
    let rows: Vec<(String, String, String, i64)> = stmt
        .query_map([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(key, item_id, fingerprint, first_seen)| {
            Ok(FeedItem {
                key,
                item_id: ItemId::stored(item_id),
                fingerprint,
                first_seen: instant(first_seen)?,
            })
        })
        .collect()
}

pub(super) fn set_items(tx: &Transaction<'_>, id: &FeedId, items: &[FeedItem]) -> Outcome<()> {
    tx.execute("DELETE FROM feed_items WHERE feed_id = ?1", [id.as_str()])?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO feed_items (feed_id, key, item_id, fingerprint, first_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for item in items {
        stmt.execute(params![
            id.as_str(),
            item.key,
            item.item_id.as_str(),
            item.fingerprint,
            millis(item.first_seen)
        ])?;
    }
    Ok(())
}

pub(super) fn remove(tx: &Transaction<'_>, id: &FeedId, now: Timestamp) -> Outcome<bool> {
    let state = tx
        .query_row("SELECT removed_ms, publisher_id FROM feeds WHERE id = ?1", [id.as_str()], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    match state {
        None => Err(StoreError::not_found("feed", id).into()),
        Some((Some(_), _)) => Ok(false),
        Some((None, publisher)) => {
            tx.execute(
                "UPDATE feeds SET removed_ms = ?2, next_fetch_ms = NULL WHERE id = ?1",
                params![id.as_str(), millis(now)],
            )?;
            tx.execute(
                "UPDATE publishers SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
                params![publisher, millis(now)],
            )?;
            Ok(true)
        }
    }
}
