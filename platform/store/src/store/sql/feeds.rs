//! Feeds in PostgreSQL: their settings, the publisher they publish as, their fetch status and
//! the entries they published.

use jiff::{SignedDuration, Timestamp};

use super::{
    Fail, Outcome, Row, Tx, add_publisher_scope, execute, get, instant, millis, publisher, query, query_opt,
};
use crate::feeds::{FeedFormat, FeedKind};
use crate::ids::{FeedId, ItemId};
use crate::store::{Feed, FeedItem, FeedStatus, PublisherKind, StoreError};

const COLUMNS: &str = "f.id, f.name, f.url, f.format, f.kind, f.moderated, f.every_s, f.created_ms, f.removed_ms, \
     f.last_fetch_ms, f.last_ok_ms, f.last_error, f.failures, f.next_fetch_ms, f.etag, f.last_modified, f.report, \
     p.id, p.name, p.role, \
     (SELECT COUNT(*) FROM feed_items fi JOIN items i ON i.id = fi.item_id
      WHERE fi.feed_id = f.id AND i.withdrawn_ms IS NULL)";

type FeedRow = (
    (String, String, String, String, String, bool, i64, i64, Option<i64>),
    (Option<i64>, Option<i64>, Option<String>, i64, Option<i64>, Option<String>, Option<String>, String),
    (String, String, String, i64),
);

fn row(r: &Row) -> Outcome<FeedRow> {
    Ok((
        (
            get(r, 0)?,
            get(r, 1)?,
            get(r, 2)?,
            get(r, 3)?,
            get(r, 4)?,
            // Stored 0 or 1, as in SQLite.
            get::<i64>(r, 5)? != 0,
            get(r, 6)?,
            get(r, 7)?,
            get(r, 8)?,
        ),
        (
            get(r, 9)?,
            get(r, 10)?,
            get(r, 11)?,
            get(r, 12)?,
            get(r, 13)?,
            get(r, 14)?,
            get(r, 15)?,
            get(r, 16)?,
        ),
        (get(r, 17)?, get(r, 18)?, get(r, 19)?, get(r, 20)?),
    ))
}

async fn feed_from(tx: &dyn Tx, row: FeedRow) -> Outcome<Feed> {
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
        publisher: publisher(tx, pub_id, pub_name, &role, PublisherKind::Feed).await?,
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

pub(super) async fn add(tx: &dyn Tx, feed: &Feed) -> Outcome<()> {
    let exists = query_opt(tx, "SELECT 1 FROM feeds WHERE id = $1", &[&feed.id.as_str()]).await?;
    if exists.is_some() {
        return Err(StoreError::exists("feed", &feed.id).into());
    }
    let publisher = &feed.publisher;
    // A feed's publisher row has no usable token: the hash of nothing anyone holds.
    let token_hash = format!("feed:{}", feed.id);
    execute(
        tx,
        "INSERT INTO publishers (id, name, role, token_hash, created_ms, kind) VALUES ($1, $2, $3, $4, $5, 'feed')",
        &[&publisher.id.as_str(), &publisher.name, &publisher.role.as_str(), &token_hash, &millis(feed.created_at)],
    )
    .await?;
    add_publisher_scope(tx, publisher).await?;
    execute(
        tx,
        "INSERT INTO feeds (id, name, url, format, kind, moderated, every_s, publisher_id, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &feed.id.as_str(),
            &feed.name,
            &feed.url,
            &feed.format.as_str(),
            &feed.kind.as_str(),
            &(feed.moderated as i64),
            &feed.every.as_secs(),
            &publisher.id.as_str(),
            &millis(feed.created_at),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn list(tx: &dyn Tx, id: Option<&FeedId>) -> Outcome<Vec<Feed>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM feeds f JOIN publishers p ON p.id = f.publisher_id
         WHERE CAST($1 AS TEXT) IS NULL OR f.id = CAST($1 AS TEXT) ORDER BY f.created_ms, f.id"
    );
    let rows: Vec<FeedRow> =
        query(tx, &sql, &[&id.map(FeedId::as_str)]).await?.iter().map(row).collect::<Result<_, _>>()?;
    let mut feeds = Vec::with_capacity(rows.len());
    for r in rows {
        feeds.push(feed_from(tx, r).await?);
    }
    Ok(feeds)
}

pub(super) async fn set_status(tx: &dyn Tx, id: &FeedId, status: &FeedStatus) -> Outcome<()> {
    let changed = execute(
        tx,
        "UPDATE feeds SET last_fetch_ms = $2, last_ok_ms = $3, last_error = $4, failures = $5, next_fetch_ms = $6,
                          etag = $7, last_modified = $8, report = $9
         WHERE id = $1",
        &[
            &id.as_str(),
            &status.last_fetch_at.map(millis),
            &status.last_ok_at.map(millis),
            &status.last_error,
            &i64::from(status.failures),
            &status.next_fetch_at.map(millis),
            &status.etag,
            &status.last_modified,
            &status.report,
        ],
    )
    .await?;
    if changed == 0 {
        return Err(StoreError::not_found("feed", id).into());
    }
    Ok(())
}

pub(super) async fn items(tx: &dyn Tx, id: &FeedId) -> Outcome<Vec<FeedItem>> {
    let rows = query(
        tx,
        "SELECT key, item_id, fingerprint, first_seen_ms FROM feed_items WHERE feed_id = $1 ORDER BY key",
        &[&id.as_str()],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FeedItem {
                key: get(r, 0)?,
                item_id: ItemId::stored(get(r, 1)?),
                fingerprint: get(r, 2)?,
                first_seen: instant(get(r, 3)?)?,
            })
        })
        .collect()
}

pub(super) async fn set_items(tx: &dyn Tx, id: &FeedId, items: &[FeedItem]) -> Outcome<()> {
    execute(tx, "DELETE FROM feed_items WHERE feed_id = $1", &[&id.as_str()]).await?;
    for item in items {
        execute(
            tx,
            "INSERT INTO feed_items (feed_id, key, item_id, fingerprint, first_seen_ms) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (feed_id, key) DO UPDATE SET item_id = excluded.item_id, fingerprint = excluded.fingerprint,
                 first_seen_ms = excluded.first_seen_ms",
            &[&id.as_str(), &item.key, &item.item_id.as_str(), &item.fingerprint, &millis(item.first_seen)],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn remove(tx: &dyn Tx, id: &FeedId, now: Timestamp) -> Outcome<bool> {
    let state =
        match query_opt(tx, "SELECT removed_ms, publisher_id FROM feeds WHERE id = $1", &[&id.as_str()])
            .await?
        {
            Some(r) => Some((get::<Option<i64>>(&r, 0)?, get::<String>(&r, 1)?)),
            None => None,
        };
    match state {
        None => Err(StoreError::not_found("feed", id).into()),
        Some((Some(_), _)) => Ok(false),
        Some((None, publisher)) => {
            execute(
                tx,
                "UPDATE feeds SET removed_ms = $2, next_fetch_ms = NULL WHERE id = $1",
                &[&id.as_str(), &millis(now)],
            )
            .await?;
            execute(
                tx,
                "UPDATE publishers SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
                &[&publisher, &millis(now)],
            )
            .await?;
            Ok(true)
        }
    }
}
