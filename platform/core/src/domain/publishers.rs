//! Who publishes: publishers (a machine's token, a person's account, a feed), their scope,
//! people's accounts, and who made a change, for the audit log.

use jiff::Timestamp;
use serde::Serialize;

use super::Role;
use crate::ids::{AreaId, BuildingId, ItemId, PublisherId};

/// A publisher: a machine's token or a person's account, with its role and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    pub id: PublisherId,
    pub name: String,
    pub role: Role,
    /// Buildings it was given by name, sorted.
    pub buildings: Vec<BuildingId>,
    /// Areas it was given, sorted: it reaches every building in them, today's and later ones.
    pub areas: Vec<AreaId>,
    /// Every building it reaches now: `buildings` and those of `areas`, sorted. Filled when
    /// read from the store; ignored when adding a publisher.
    pub reach: Vec<BuildingId>,
    pub kind: PublisherKind,
}

impl Publisher {
    /// A publisher given buildings only (its reach is those buildings).
    pub fn with_buildings(
        id: PublisherId,
        name: String,
        role: Role,
        kind: PublisherKind,
        buildings: Vec<BuildingId>,
    ) -> Publisher {
        Publisher { id, name, role, reach: buildings.clone(), buildings, areas: Vec::new(), kind }
    }
}

/// Where an item goes, or what a publisher or a feed may reach: buildings named, and areas
/// (which reach their buildings, including buildings added to them later).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub buildings: Vec<BuildingId>,
    pub areas: Vec<AreaId>,
}

impl Targets {
    pub fn is_empty(&self) -> bool {
        self.buildings.is_empty() && self.areas.is_empty()
    }

    /// `bld-a, area-nord` for messages.
    pub fn describe(&self) -> String {
        let names: Vec<&str> = self
            .buildings
            .iter()
            .map(BuildingId::as_str)
            .chain(self.areas.iter().map(AreaId::as_str))
            .collect();
        names.join(", ")
    }
}

/// Whether a publisher is a machine holding a token, a person logging in to the console, or
/// a feed the platform fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublisherKind {
    Token,
    Person,
    Feed,
}

impl PublisherKind {
    /// Reads a kind as both stores keep it ([`PublisherKind::as_str`]).
    pub fn from_stored(text: &str) -> Result<PublisherKind, String> {
        match text {
            "token" => Ok(PublisherKind::Token),
            "person" => Ok(PublisherKind::Person),
            "feed" => Ok(PublisherKind::Feed),
            other => Err(format!("publisher kind {other:?}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PublisherKind::Token => "token",
            PublisherKind::Person => "person",
            PublisherKind::Feed => "feed",
        }
    }
}

/// A person's console account: a publisher that logs in with an e-mail and a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub publisher: Publisher,
    /// Lower case.
    pub email: String,
    /// The Argon2 hash in PHC form; `None` until the person sets a password.
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
}

/// Which interface a change came through, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Api,
    Console,
    Cli,
    /// The platform itself (expiry, the lift monitor's follow-ups).
    Platform,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Console => "console",
            Via::Cli => "cli",
            Via::Platform => "platform",
        }
    }

    pub fn parse(text: &str) -> Option<Via> {
        [Via::Api, Via::Console, Via::Cli, Via::Platform].into_iter().find(|v| v.as_str() == text)
    }
}

/// Who made a change, how and when: what the audit log records beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `None` for the platform itself.
    pub actor: Option<PublisherId>,
    pub actor_name: String,
    pub via: Via,
    pub at: Timestamp,
}

impl Change {
    /// A change made through the administration command line, by whoever runs it.
    pub fn cli(at: Timestamp) -> Change {
        Change { actor: None, actor_name: "palier-platform".to_owned(), via: Via::Cli, at }
    }

    /// The platform acting on its own (expiry, the lift monitor's follow-ups).
    pub fn platform(at: Timestamp) -> Change {
        Change { actor: None, actor_name: "palier-platform".to_owned(), via: Via::Platform, at }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: Timestamp,
    pub actor: Option<PublisherId>,
    pub actor_name: String,
    pub via: Via,
    /// `publish`, `update`, `withdraw`, `erase person`, `expire`, `approve`, `reject`.
    pub action: String,
    pub item_id: Option<ItemId>,
    pub detail: String,
}

/// A publisher as `publisher list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherEntry {
    pub publisher: Publisher,
    pub revoked_at: Option<Timestamp>,
}
