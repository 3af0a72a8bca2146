//! Fetching every feed when it is due, for as long as the platform serves: one feed at a
//! time (a slow one delays the others, never the API), each on its own period, backing off
//! while it fails ([`super::sync::next_fetch_after`]).

use std::time::Duration;

use jiff::Timestamp;

use super::fetch::Fetcher;
use super::sync::{FetchOutcome, fetch_feed};
use crate::ids::FeedId;
use crate::publishing::{Actor, Publishing, PublishingError};
use crate::store::{Feed, StoreError, Via};

/// Feeds to fetch at `now`: not removed, and never fetched or due.
pub fn due(feeds: &[Feed], now: Timestamp) -> Vec<&Feed> {
    feeds
        .iter()
        .filter(|f| f.removed_at.is_none() && f.status.next_fetch_at.is_none_or(|at| at <= now))
        .collect()
}

/// Looks for due feeds every `tick` and fetches them; runs until its task is dropped.
pub async fn run(publishing: Publishing, tick: Duration) {
    let fetcher = Fetcher::new();
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = fetch_due(&publishing, &fetcher).await {
            tracing::warn!("listing feeds failed: {e}");
        }
    }
}

/// Fetches every due feed once; returns what each fetch did.
pub async fn fetch_due(
    publishing: &Publishing,
    fetcher: &Fetcher,
) -> Result<Vec<(FeedId, FetchOutcome)>, StoreError> {
    let feeds = publishing.store().feeds().await?;
    let mut outcomes = Vec::new();
    for feed in due(&feeds, publishing.now()) {
        outcomes.push((feed.id.clone(), fetch_feed(publishing, fetcher, feed).await));
    }
    Ok(outcomes)
}

/// Removes a feed: its items leave the screens, and it is never fetched again.
pub async fn remove(publishing: &Publishing, feed: &Feed) -> Result<usize, PublishingError> {
    let actor = Actor::new(feed.publisher.clone(), Via::Platform);
    let mut withdrawn = 0;
    for item in publishing.store().feed_items(&feed.id).await? {
        match publishing.withdraw(&actor, &item.item_id).await {
            Ok(w) => withdrawn += w.items.len(),
            Err(PublishingError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    publishing.store().remove_feed(&feed.id, publishing.now()).await?;
    Ok(withdrawn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::{FeedFormat, FeedKind};
    use crate::ids::PublisherId;
    use crate::rules::Role;
    use crate::store::{FeedStatus, Publisher, PublisherKind};

    fn feed(next: Option<Timestamp>, removed: Option<Timestamp>) -> Feed {
        let publisher = Publisher::with_buildings(
            PublisherId::parse("pub-feed").unwrap(),
            "Agenda".into(),
            Role::Feed,
            PublisherKind::Feed,
            Vec::new(),
        );
        Feed {
            id: FeedId::parse("feed-x").unwrap(),
            name: "Agenda".into(),
            url: "https://example.org/agenda.ics".into(),
            format: FeedFormat::Ical,
            kind: FeedKind::Event,
            moderated: false,
            every: jiff::SignedDuration::from_mins(15),
            publisher,
            created_at: Timestamp::UNIX_EPOCH,
            removed_at: removed,
            status: FeedStatus { next_fetch_at: next, ..FeedStatus::default() },
            live_items: 0,
        }
    }

    #[test]
    fn due_feeds_are_those_never_fetched_or_whose_time_came() {
        let now: Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        // (next fetch, removed, due)
        let cases = [
            (None, false, true),
            (Some("2026-11-28T11:59:59Z"), false, true),
            (Some("2026-11-28T12:00:00Z"), false, true),
            (Some("2026-11-28T12:00:01Z"), false, false),
            (None, true, false),
        ];
        for (next, removed, expected) in cases {
            let feeds = vec![feed(next.map(|t| t.parse().unwrap()), removed.then_some(now))];
            assert_eq!(due(&feeds, now).len() == 1, expected, "{next:?} removed={removed}");
        }
    }
}
