//! The administration service: buildings, areas and lifts; people and their roles; publisher
//! tokens, boards and enrolment codes; feeds, releases and building settings.
//!
//! Like [`crate::publishing::Publishing`], every call says who asks (an [`Administrator`]):
//! a person must hold a role that administers (the one rule in [`rules::may_administer`]),
//! and every change writes an audit line naming them. The doors (the console, the command
//! line) call nothing else to administer the platform; messages here name no command or URL,
//! the doors add how to go on ([`AdminError`] says what was missing or taken, by kind).

mod access;
mod feeds;
mod people;
mod places;
mod releases;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::ids::{AreaId, BuildingId};
use crate::media::MediaStore;
use crate::publishing::{Actor, Clock};
use crate::rules::{self, Forbidden};
use crate::store::{AuditEntry, Change, Conflict, Publisher, Store, StoreError, Targets};

pub use feeds::{MIN_FEED_PERIOD, NewFeed};
pub use people::{NewPerson, check_email};
pub use places::{NewBuilding, slug};
pub use releases::{AudienceArgs, BUNDLE_MIME, Rollout};

/// How long an enrolment code works.
pub const ENROLMENT_CODE_TTL: SignedDuration = SignedDuration::from_hours(24);
/// How long a link to set a password works.
pub const PASSWORD_LINK_TTL: SignedDuration = SignedDuration::from_hours(24);

/// Who administers: whoever runs the command line on the platform's machine (they hold its
/// data directory, so they may do anything), or a person signed in to the console.
#[derive(Debug, Clone)]
pub enum Administrator {
    CommandLine,
    Person(Actor),
}

impl Administrator {
    /// The audit line's actor for a change at `at`, once the rule allows it.
    fn change(&self, at: Timestamp) -> Result<Change, AdminError> {
        match self {
            Administrator::CommandLine => Ok(Change::cli(at)),
            Administrator::Person(actor) => {
                rules::may_administer(&actor.publisher)?;
                Ok(actor.change(at))
            }
        }
    }

    /// Reads what only administrators see.
    fn may_read(&self) -> Result<(), AdminError> {
        match self {
            Administrator::CommandLine => Ok(()),
            Administrator::Person(actor) => Ok(rules::may_administer(&actor.publisher)?),
        }
    }
}

/// Why an administrative call failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    /// `what` (« building », « area », « lift », « person », « feed », « device ») names none.
    #[error("{}", unknown(what, id))]
    Unknown { what: &'static str, id: String },
    /// `what` with this id or e-mail is already there.
    #[error("{}", exists(what, id))]
    Exists { what: &'static str, id: String },
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Store(StoreError),
}

fn unknown(what: &str, id: &str) -> String {
    match what {
        "building or area" => format!("{id} is neither a building nor an area"),
        _ => format!("{what} {id} does not exist"),
    }
}

fn exists(what: &str, id: &str) -> String {
    match what {
        "person with e-mail" => format!("{id} already has an account"),
        _ => format!("{what} {id} already exists"),
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> AdminError {
        match e {
            StoreError::NotFound { what, id } => AdminError::Unknown { what, id },
            StoreError::Conflict(Conflict::Exists { what, id }) => AdminError::Exists { what, id },
            other => AdminError::Store(other),
        }
    }
}

/// The administration service.
#[derive(Clone)]
pub struct Administration {
    store: Arc<dyn Store>,
    media: Arc<dyn MediaStore>,
    clock: Clock,
}

impl std::fmt::Debug for Administration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Administration").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Administration {
    pub fn new(store: Arc<dyn Store>, media: Arc<dyn MediaStore>, clock: Clock) -> Administration {
        Administration { store, media, clock }
    }

    /// The same service reading another clock (tests move time on).
    pub fn with_clock(mut self, clock: Clock) -> Administration {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// The audit log, newest first, `limit` lines older than `before` (a sequence number).
    pub async fn audit(
        &self,
        who: &Administrator,
        limit: usize,
        before: Option<u64>,
    ) -> Result<Vec<AuditEntry>, AdminError> {
        who.may_read()?;
        Ok(self.store.audit(limit, before).await?)
    }

    /// Sorts ids of buildings and areas into [`Targets`]; an id that is neither is refused by name.
    async fn targets(&self, ids: &[String]) -> Result<Targets, AdminError> {
        let mut scope = Targets::default();
        for id in ids {
            let id = id.trim();
            let building = BuildingId::parse(id).map_err(AdminError::Invalid)?;
            if self.store.building(&building).await?.is_some() {
                scope.buildings.push(building);
                continue;
            }
            let area = AreaId::parse(id).map_err(AdminError::Invalid)?;
            if self.store.area(&area).await?.is_some() {
                scope.areas.push(area);
                continue;
            }
            return Err(AdminError::Unknown { what: "building or area", id: id.to_owned() });
        }
        scope.buildings.sort();
        scope.buildings.dedup();
        scope.areas.sort();
        scope.areas.dedup();
        Ok(scope)
    }

    /// Every building the named buildings and areas reach, sorted.
    async fn reach(&self, targets: &Targets) -> Result<Vec<BuildingId>, AdminError> {
        let mut reach = self.store.area_reach(&targets.areas).await?;
        reach.extend(targets.buildings.iter().cloned());
        reach.sort();
        reach.dedup();
        Ok(reach)
    }
}

/// « bld-a, bld-b + area-pentes (14 buildings) »: what a publisher was given and reaches.
pub fn scope_line(publisher: &Publisher) -> String {
    let buildings: Vec<&str> = publisher.buildings.iter().map(BuildingId::as_str).collect();
    let areas: Vec<&str> = publisher.areas.iter().map(AreaId::as_str).collect();
    match (buildings.is_empty(), areas.is_empty()) {
        (_, true) => buildings.join(","),
        (true, false) => format!("{} ({} buildings)", areas.join(","), publisher.reach.len()),
        (false, false) => {
            format!("{} + {} ({} buildings)", buildings.join(","), areas.join(","), publisher.reach.len())
        }
    }
}
