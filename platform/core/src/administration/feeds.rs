//! Feeds the platform fetches (a city's agenda, a news feed): added with a scope and a
//! period, listed with what they keep on screens.

use jiff::SignedDuration;

use super::{AdminError, Administration, Administrator, slug};
use crate::feeds::{FeedFormat, FeedKind};
use crate::ids::{FeedId, PublisherId};
use crate::rules::Role;
use crate::secret;
use crate::store::{Feed, FeedStatus, Publisher, PublisherKind, Targets};

/// What a new feed is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeed {
    pub id: Option<String>,
    /// The origin screens name: « Ville de Lyon — agenda ».
    pub name: String,
    pub url: String,
    pub format: FeedFormat,
    pub kind: FeedKind,
    pub moderated: bool,
    pub every: SignedDuration,
    /// Buildings and areas, by id.
    pub scope: Vec<String>,
}

/// The shortest period between two fetches of a feed.
pub const MIN_FEED_PERIOD: SignedDuration = SignedDuration::from_mins(1);

/// How many live titles [`Administration::feeds_with_titles`] gives per feed.
const TITLES_SHOWN: usize = 8;

impl Administration {
    /// The feed with this id, removed or not.
    pub async fn feed(&self, who: &Administrator, id: &FeedId) -> Result<Feed, AdminError> {
        who.may_read()?;
        self.store.feed(id).await?.ok_or_else(|| AdminError::Unknown { what: "feed", id: id.to_string() })
    }

    /// Every feed with the first titles it keeps on screens (« id  title »), soonest first,
    /// and a last line for the rest.
    pub async fn feeds_with_titles(
        &self,
        who: &Administrator,
    ) -> Result<Vec<(Feed, Vec<String>)>, AdminError> {
        who.may_read()?;
        let mut listed = Vec::new();
        for feed in self.store.feeds().await? {
            let mut live = Vec::new();
            for known in self.store.feed_items(&feed.id).await? {
                if let Some(record) = self.store.item(&known.item_id).await?
                    && !record.is_withdrawn()
                {
                    live.push((record.item.valid_from, format!("{}  {}", record.id, record.item.title)));
                }
            }
            live.sort();
            let shown = live.len().min(TITLES_SHOWN);
            let mut titles: Vec<String> = live.into_iter().take(shown).map(|(_, t)| t).collect();
            if feed.live_items > shown {
                titles.push(format!("… and {} more", feed.live_items - shown));
            }
            listed.push((feed, titles));
        }
        Ok(listed)
    }

    /// Adds a feed, fetched from the next tick of the running platform.
    pub async fn add_feed(&self, who: &Administrator, new: NewFeed) -> Result<Feed, AdminError> {
        let change = who.change(self.now())?;
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > palier_content::limits::MAX_SHORT_TEXT_CHARS {
            return Err(AdminError::Invalid(
                "a feed needs a name of 1 to 120 characters: screens show it as the items' origin".into(),
            ));
        }
        let url = new.url.trim().to_owned();
        match reqwest::Url::parse(&url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
            _ => return Err(AdminError::Invalid(format!("the address {url:?} is not http(s)"))),
        }
        match (new.format, new.kind) {
            (FeedFormat::Ical, FeedKind::Event) | (FeedFormat::Rss | FeedFormat::Atom, FeedKind::News) => {}
            (FeedFormat::Ical, FeedKind::News) => {
                return Err(AdminError::Invalid("an iCalendar feed lists events: use the kind event".into()));
            }
            (_, FeedKind::Event) => {
                return Err(AdminError::Invalid(
                    "an RSS or Atom feed gives no event times: use the kind news, or the agenda's iCalendar export"
                        .into(),
                ));
            }
        }
        if new.every < MIN_FEED_PERIOD {
            return Err(AdminError::Invalid("a feed is fetched at most once a minute".into()));
        }
        let scope = self.targets(&new.scope).await?;
        if scope.is_empty() {
            return Err(AdminError::Invalid(
                "a feed needs a scope: a building or an area it publishes to".into(),
            ));
        }
        let id = match new.id {
            Some(id) => FeedId::parse(&id).map_err(AdminError::Invalid)?,
            None => self.free_feed_id(&name).await?,
        };
        if id.as_str().len() > 48 {
            return Err(AdminError::Invalid(
                "a feed's id has at most 48 characters (its items' ids grow from it)".into(),
            ));
        }
        let reach = self.reach(&scope).await?;
        let Targets { buildings, areas } = scope;
        let publisher = Publisher {
            id: PublisherId::parse(&secret::new_id("pub")).map_err(AdminError::Invalid)?,
            name: name.clone(),
            role: Role::Feed,
            buildings,
            areas,
            reach,
            kind: PublisherKind::Feed,
        };
        let feed = Feed {
            id,
            name,
            url,
            format: new.format,
            kind: new.kind,
            moderated: new.moderated,
            every: new.every,
            publisher,
            created_at: change.at,
            removed_at: None,
            status: FeedStatus::default(),
            live_items: 0,
        };
        self.store.add_feed(&feed).await?;
        Ok(feed)
    }

    /// `feed-ville-de-lyon-agenda`, or with `-2`, `-3` when taken.
    async fn free_feed_id(&self, name: &str) -> Result<FeedId, AdminError> {
        let mut base = format!("feed-{}", slug(name));
        base.truncate(40);
        let base = base.trim_end_matches('-').to_owned();
        for n in 1.. {
            let candidate = if n == 1 { base.clone() } else { format!("{base}-{n}") };
            let id = FeedId::parse(&candidate).map_err(AdminError::Invalid)?;
            if self.store.feed(&id).await?.is_none() {
                return Ok(id);
            }
        }
        unreachable!("some suffix is free")
    }
}
