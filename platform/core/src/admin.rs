//! What the administration commands do, as library functions over the [`Store`]: add a
//! building, a publisher (token printed once), an enrolment code, and render the device list.
//!
//! The binary only parses arguments and prints; the tests call these functions directly.
//! Publishing itself (items, withdrawals) goes through [`crate::publishing`], never here.

use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use palier_content::Building;
use palier_content::validate::{check_role, validate_building};

use crate::feeds::{FeedFormat, FeedKind};
use crate::ids::{AreaId, BuildingId, FeedId, PublisherId};
use crate::rules::Role;
use crate::secret;
use crate::store::{
    Area, AreaEntry, AreaKind, Change, DeviceReport, EnrolmentCode, Feed, FeedStatus, Publisher,
    PublisherKind, Store, StoreError, Targets,
};

/// How long an enrolment code works.
pub const ENROLMENT_CODE_TTL: SignedDuration = SignedDuration::from_hours(24);
/// How long a link to set a password works.
pub const PASSWORD_LINK_TTL: SignedDuration = SignedDuration::from_hours(24);

/// Why an administration command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> AdminError {
        match e {
            StoreError::NotFound { what: "building", id } => AdminError::Invalid(format!(
                "building {id} does not exist; `palier-platform building list` shows them"
            )),
            StoreError::Conflict(crate::store::Conflict::Exists { what: "lift", id }) => AdminError::Invalid(
                format!("lift {id} already exists; `palier-platform lift list` shows them"),
            ),
            StoreError::Conflict(crate::store::Conflict::Exists { what: "person with e-mail", id }) => {
                AdminError::Invalid(format!(
                    "{id} already has an account; `palier-platform user list` shows it"
                ))
            }
            other => AdminError::Store(other),
        }
    }
}

/// `building add`: the settings, with an optional explicit id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBuilding {
    pub id: Option<String>,
    pub name: String,
    pub address: String,
    pub time_zone: String,
    pub locale: String,
}

/// Adds a building. Without an explicit id, one is made from the name (`bld-les-tilleuls`).
pub async fn add_building(
    store: &dyn Store,
    new: NewBuilding,
    now: Timestamp,
) -> Result<Building, AdminError> {
    let id = match new.id {
        Some(id) => id,
        None => free_building_id(store, &new.name).await?,
    };
    let building =
        Building { id, name: new.name, address: new.address, time_zone: new.time_zone, locale: new.locale };
    validate_building(&building).map_err(AdminError::Invalid)?;
    store.add_building(&building, now).await?;
    Ok(building)
}

async fn free_building_id(store: &dyn Store, name: &str) -> Result<String, AdminError> {
    let slug = slug(name);
    let base = if slug.is_empty() { "bld".to_owned() } else { format!("bld-{slug}") };
    for n in 1.. {
        let candidate = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let id = BuildingId::parse(&candidate).map_err(AdminError::Invalid)?;
        if store.building(&id).await?.is_none() {
            return Ok(candidate);
        }
    }
    unreachable!("some suffix is free")
}

/// Checks building ids given on a command line.
pub fn building_ids(ids: &[String]) -> Result<Vec<BuildingId>, AdminError> {
    ids.iter().map(|id| BuildingId::parse(id).map_err(AdminError::Invalid)).collect()
}

/// Sorts ids of buildings and areas into [`Targets`]; an id that is neither is refused by name.
pub async fn targets(store: &dyn Store, ids: &[String]) -> Result<Targets, AdminError> {
    let mut scope = Targets::default();
    for id in ids {
        let id = id.trim();
        let building = BuildingId::parse(id).map_err(AdminError::Invalid)?;
        if store.building(&building).await?.is_some() {
            scope.buildings.push(building);
            continue;
        }
        let area = AreaId::parse(id).map_err(AdminError::Invalid)?;
        if store.area(&area).await?.is_some() {
            scope.areas.push(area);
            continue;
        }
        return Err(AdminError::Invalid(format!(
            "{id} is neither a building nor an area; `palier-platform building list` and `area list` show them"
        )));
    }
    scope.buildings.sort();
    scope.buildings.dedup();
    scope.areas.sort();
    scope.areas.dedup();
    Ok(scope)
}

/// Lowercase ASCII words of `name` joined by '-', accents folded, at most 40 characters.
pub fn slug(name: &str) -> String {
    let folded: String = name.chars().flat_map(fold).collect();
    let words: Vec<&str> =
        folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut slug = String::new();
    for word in words {
        if slug.len() + word.len() + 1 > 40 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(word);
    }
    slug
}

fn fold(c: char) -> Vec<char> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let plain = match lower {
        'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => 'a',
        'ç' => 'c',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' | 'ì' => 'i',
        'ô' | 'ö' | 'ó' | 'ò' | 'õ' => 'o',
        'ù' | 'û' | 'ü' | 'ú' => 'u',
        'ÿ' | 'ý' => 'y',
        'ñ' => 'n',
        'œ' => return vec!['o', 'e'],
        'æ' => return vec!['a', 'e'],
        other => other,
    };
    vec![plain]
}

/// Adds a publisher for these buildings and areas (ids of either) and returns it with its
/// token, shown only now.
pub async fn add_publisher(
    store: &dyn Store,
    name: &str,
    role: Role,
    scope_ids: &[String],
    change: &Change,
) -> Result<(Publisher, String), AdminError> {
    if !Role::FOR_TOKENS.contains(&role) {
        let roles: Vec<&str> = Role::FOR_TOKENS.iter().map(|r| r.as_str()).collect();
        return Err(AdminError::Invalid(format!(
            "a publisher token's role is one of {}; a {role} is a person: `palier-platform user add`",
            roles.join(", ")
        )));
    }
    let Targets { buildings, areas } = targets(store, scope_ids).await?;
    if buildings.is_empty() && areas.is_empty() {
        return Err(AdminError::Invalid("a publisher needs at least one --building or --area".to_owned()));
    }
    let id = PublisherId::parse(&secret::new_id("pub")).map_err(AdminError::Invalid)?;
    let name = if name.trim().is_empty() { format!("{role} {id}") } else { name.trim().to_owned() };
    let reach = reach(store, &buildings, &areas).await?;
    let publisher = Publisher { id, name, role, buildings, areas, reach, kind: PublisherKind::Token };
    let token = secret::new_token(secret::PUBLISHER_TOKEN_PREFIX);
    store.add_publisher(&publisher, &secret::hash_secret(&token), change).await?;
    Ok((publisher, token))
}

async fn reach(
    store: &dyn Store,
    buildings: &[BuildingId],
    areas: &[AreaId],
) -> Result<Vec<BuildingId>, AdminError> {
    let mut reach = store.area_reach(areas).await?;
    reach.extend(buildings.iter().cloned());
    reach.sort();
    reach.dedup();
    Ok(reach)
}

/// `area add`: a neighbourhood or a city, possibly within a larger area, with its first
/// buildings. Without an explicit id, one is made from the name (`area-quartier-des-pentes`).
pub async fn add_area(
    store: &dyn Store,
    name: &str,
    kind: AreaKind,
    within: Option<&str>,
    buildings: &[String],
    id: Option<&str>,
    now: Timestamp,
) -> Result<AreaEntry, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AdminError::Invalid("an area needs a --name of 1 to 120 characters".into()));
    }
    let id = match id {
        Some(id) => AreaId::parse(id).map_err(AdminError::Invalid)?,
        None => AreaId::parse(&format!("area-{}", slug(name))).map_err(AdminError::Invalid)?,
    };
    if store.building(&BuildingId::parse(id.as_str()).map_err(AdminError::Invalid)?).await?.is_some() {
        return Err(AdminError::Invalid(format!("{id} is a building's id; give the area another --id")));
    }
    let within = within.map(|w| AreaId::parse(w).map_err(AdminError::Invalid)).transpose()?;
    let area = Area { id: id.clone(), name: name.to_owned(), kind, within };
    store.add_area(&area, now).await.map_err(|e| match e {
        StoreError::NotFound { what: "area", id } => {
            AdminError::Invalid(format!("area {id} does not exist; `palier-platform area list` shows them"))
        }
        StoreError::Conflict(crate::store::Conflict::Exists { what: "area", id }) => AdminError::Invalid(
            format!("area {id} already exists; `palier-platform area join` adds buildings to it"),
        ),
        other => other.into(),
    })?;
    join_area(store, &id, buildings, now).await?;
    let entries = store.areas().await?;
    entries.into_iter().find(|e| e.area.id == id).ok_or_else(|| StoreError::not_found("area", &id).into())
}

/// `area join`: puts buildings in an area; what was published to the area reaches them.
pub async fn join_area(
    store: &dyn Store,
    area: &AreaId,
    buildings: &[String],
    now: Timestamp,
) -> Result<Vec<BuildingId>, AdminError> {
    let change = Change::cli(now);
    let mut moved = Vec::new();
    for building in building_ids(buildings)? {
        let outcome = store.add_to_area(area, &building, &change).await.map_err(|e| match e {
            StoreError::NotFound { what: "area", id } => AdminError::Invalid(format!(
                "area {id} does not exist; `palier-platform area list` shows them"
            )),
            other => other.into(),
        })?;
        moved.extend(outcome.buildings);
    }
    Ok(moved)
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

/// `area list` as text.
pub fn render_area_list(entries: &[AreaEntry]) -> String {
    if entries.is_empty() {
        return "no areas yet; `palier-platform area add` groups buildings into a neighbourhood or a city\n"
            .to_owned();
    }
    let mut out = String::new();
    for AreaEntry { area, buildings, reach } in entries {
        let within = area.within.as_ref().map(|w| format!(" within {w}")).unwrap_or_default();
        let _ = writeln!(out, "{}  {}  {:?}{within}", area.id, area.kind.as_str(), area.name);
        let named: Vec<&str> = buildings.iter().map(BuildingId::as_str).collect();
        let _ = writeln!(
            out,
            "  buildings: {}",
            if named.is_empty() { "none".to_owned() } else { named.join(", ") }
        );
        if reach.len() != buildings.len() {
            let _ = writeln!(out, "  reaches {} building(s) with the areas within it", reach.len());
        }
    }
    out
}

/// `feed add`: what a feed is, as given on the command line.
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

/// Adds a feed, fetched from the next tick of the running platform (or `feed fetch`).
pub async fn add_feed(store: &dyn Store, new: NewFeed, now: Timestamp) -> Result<Feed, AdminError> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > palier_content::limits::MAX_SHORT_TEXT_CHARS {
        return Err(AdminError::Invalid(
            "a feed needs a --name of 1 to 120 characters: screens show it as the items' origin".into(),
        ));
    }
    let url = new.url.trim().to_owned();
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
        _ => return Err(AdminError::Invalid(format!("--url {url:?} is not an http(s) address"))),
    }
    match (new.format, new.kind) {
        (FeedFormat::Ical, FeedKind::Event) | (FeedFormat::Rss | FeedFormat::Atom, FeedKind::News) => {}
        (FeedFormat::Ical, FeedKind::News) => {
            return Err(AdminError::Invalid("an iCalendar feed lists events: use --kind event".into()));
        }
        (_, FeedKind::Event) => {
            return Err(AdminError::Invalid(
                "an RSS or Atom feed gives no event times: use --kind news, or the agenda's iCalendar export"
                    .into(),
            ));
        }
    }
    if new.every < MIN_FEED_PERIOD {
        return Err(AdminError::Invalid("--every is at least 1 minute".into()));
    }
    let Targets { buildings, areas } = targets(store, &new.scope).await?;
    if buildings.is_empty() && areas.is_empty() {
        return Err(AdminError::Invalid(
            "a feed needs a --scope: a building or an area it publishes to".into(),
        ));
    }
    let id = match new.id {
        Some(id) => FeedId::parse(&id).map_err(AdminError::Invalid)?,
        None => free_feed_id(store, &name).await?,
    };
    if id.as_str().len() > 48 {
        return Err(AdminError::Invalid(
            "a feed's --id has at most 48 characters (its items' ids grow from it)".into(),
        ));
    }
    let reach = reach(store, &buildings, &areas).await?;
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
        created_at: now,
        removed_at: None,
        status: FeedStatus::default(),
        live_items: 0,
    };
    store.add_feed(&feed).await.map_err(|e| match e {
        StoreError::Conflict(crate::store::Conflict::Exists { what: "feed", id }) => AdminError::Invalid(
            format!("feed {id} already exists; give another --id, or `feed remove` it first"),
        ),
        other => other.into(),
    })?;
    Ok(feed)
}

/// `feed-ville-de-lyon-agenda`, or with `-2`, `-3` when taken.
async fn free_feed_id(store: &dyn Store, name: &str) -> Result<FeedId, AdminError> {
    let mut base = format!("feed-{}", slug(name));
    base.truncate(40);
    let base = base.trim_end_matches('-').to_owned();
    for n in 1.. {
        let candidate = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let id = FeedId::parse(&candidate).map_err(AdminError::Invalid)?;
        if store.feed(&id).await?.is_none() {
            return Ok(id);
        }
    }
    unreachable!("some suffix is free")
}

/// `feed list` as text: each feed, its last fetch and the items it keeps on screens.
pub fn render_feed_list(feeds: &[(Feed, Vec<String>)], now: Timestamp) -> String {
    if feeds.is_empty() {
        return "no feeds yet; `palier-platform feed add` adds a city agenda or a news feed\n".to_owned();
    }
    let mut out = String::new();
    for (feed, titles) in feeds {
        let moderated = if feed.moderated { ", moderated" } else { "" };
        let _ = writeln!(
            out,
            "{}  {:?}  {} → {}{moderated}",
            feed.id,
            feed.name,
            feed.format.as_str(),
            feed.kind.as_str()
        );
        let _ = writeln!(out, "  url: {}", feed.url);
        let _ = writeln!(
            out,
            "  scope: {}, every {} min",
            scope_line(&feed.publisher),
            feed.every.as_secs() / 60
        );
        if let Some(at) = feed.removed_at {
            let _ = writeln!(out, "  removed {}", whole_seconds(at));
            continue;
        }
        let status = &feed.status;
        match (status.last_fetch_at, &status.last_error) {
            (None, _) => _ = writeln!(out, "  last fetch: never (fetched at the platform's next tick)"),
            (Some(at), None) => {
                _ = writeln!(
                    out,
                    "  last fetch: {} ({}), ok: {}",
                    whole_seconds(at),
                    ago(now, at),
                    status.report
                )
            }
            (Some(at), Some(error)) => {
                let _ = writeln!(
                    out,
                    "  last fetch: {} ({}), FAILED ({} in a row): {error}",
                    whole_seconds(at),
                    ago(now, at),
                    status.failures
                );
                if let Some(ok) = status.last_ok_at {
                    let _ = writeln!(
                        out,
                        "  last success: {} ({}): {}",
                        whole_seconds(ok),
                        ago(now, ok),
                        status.report
                    );
                }
            }
        }
        if let Some(next) = status.next_fetch_at {
            let _ = writeln!(out, "  next fetch: {}", whole_seconds(next));
        }
        let _ = writeln!(out, "  items on screens: {}", feed.live_items);
        for title in titles {
            let _ = writeln!(out, "    {title}");
        }
    }
    out
}

/// `lift add`: registers a lift of a building; without an id, one is made from the
/// building and the name (`lift-residence-les-tilleuls-ascenseur-a`), short enough for the
/// items its statuses publish.
pub async fn add_lift(
    store: &dyn Store,
    building: &str,
    name: &str,
    id: Option<&str>,
) -> Result<crate::store::Lift, AdminError> {
    let building_id = BuildingId::parse(building).map_err(AdminError::Invalid)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(AdminError::Invalid(
            "a lift needs a --name, as residents call it: \"Ascenseur A\"".into(),
        ));
    }
    let id = match id {
        Some(id) => id.to_owned(),
        None => {
            let mut id = format!("lift-{}-{}", slug(building.trim_start_matches("bld-")), slug(name));
            id.truncate(48);
            id.trim_end_matches('-').to_owned()
        }
    };
    let lift = crate::store::Lift {
        id: crate::ids::LiftId::parse(&id).map_err(AdminError::Invalid)?,
        building_id,
        name: name.to_owned(),
        status: None,
    };
    store.add_lift(&lift).await?;
    Ok(lift)
}

/// Checks an e-mail address enough to catch typos; returns it in lower case.
pub fn check_email(email: &str) -> Result<String, AdminError> {
    let email = email.trim().to_lowercase();
    let plausible = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if plausible {
        Ok(email)
    } else {
        Err(AdminError::Invalid(format!("{email:?} is not an e-mail address")))
    }
}

/// A new console account and the one-time token of its link to set a password.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub person: crate::store::Person,
    /// Goes at the end of `/password/`; shown once, kept only as a hash.
    pub password_token: String,
    pub expires: Timestamp,
}

/// `user add`: a person's console account with a role and buildings or areas (none for an
/// admin, who reaches every building), and a link to set the password, valid 24 hours.
pub async fn add_person(
    store: &dyn Store,
    email: &str,
    role: Role,
    scope_ids: &[String],
    change: &Change,
) -> Result<NewPerson, AdminError> {
    let now = change.at;
    let email = check_email(email)?;
    if !Role::FOR_PEOPLE.contains(&role) {
        let roles: Vec<&str> = Role::FOR_PEOPLE.iter().map(|r| r.as_str()).collect();
        return Err(AdminError::Invalid(format!(
            "a person's role is one of {}, not {role}",
            roles.join(", ")
        )));
    }
    let Targets { buildings, areas } = targets(store, scope_ids).await?;
    if role != Role::Admin && buildings.is_empty() && areas.is_empty() {
        return Err(AdminError::Invalid(format!("a {role} needs at least one --building or --area")));
    }
    let reach = reach(store, &buildings, &areas).await?;
    let id = PublisherId::parse(&secret::new_id("usr")).map_err(AdminError::Invalid)?;
    // The audit log and the console name a person by their e-mail.
    let name = email.clone();
    let person = crate::store::Person {
        publisher: Publisher { id, name, role, buildings, areas, reach, kind: PublisherKind::Person },
        email,
        password_hash: None,
        created_at: now,
        disabled_at: None,
    };
    store.add_person(&person, change).await?;
    let (password_token, expires) = password_link(store, &person.publisher.id, now).await?;
    Ok(NewPerson { person, password_token, expires })
}

/// A new one-time link to set a person's password (a forgotten password, a lost link).
pub async fn password_link(
    store: &dyn Store,
    person: &PublisherId,
    now: Timestamp,
) -> Result<(String, Timestamp), AdminError> {
    let token = secret::new_token("pw1_");
    let expires = now + PASSWORD_LINK_TTL;
    store.add_password_link(&secret::hash_secret(&token), person, expires).await?;
    Ok((token, expires))
}

/// Creates a one-time enrolment code for a building and screen roles, valid for `ttl`.
pub async fn create_enrolment_code(
    store: &dyn Store,
    building_id: &str,
    roles: &[String],
    now: Timestamp,
    ttl: SignedDuration,
) -> Result<(String, Timestamp), AdminError> {
    let building_id = BuildingId::parse(building_id).map_err(AdminError::Invalid)?;
    if roles.is_empty() {
        return Err(AdminError::Invalid(
            "a device needs at least one screen role, e.g. --roles lift".to_owned(),
        ));
    }
    for role in roles {
        check_role(role).map_err(AdminError::Invalid)?;
    }
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    let code = secret::new_enrolment_code();
    let expires = now + ttl;
    let stored = EnrolmentCode {
        code_hash: secret::hash_secret(&secret::normalize_code(&code)),
        building_id,
        roles,
        created: now,
        expires,
    };
    store.add_enrolment_code(&stored).await?;
    Ok((code, expires))
}

/// `device list` as text: one block per device.
pub fn render_device_list(reports: &[DeviceReport], now: Timestamp) -> String {
    if reports.is_empty() {
        return "no devices enrolled yet; `palier-platform device code` makes an enrolment code\n".to_owned();
    }
    let mut out = String::new();
    for DeviceReport { device, heartbeat } in reports {
        let _ = writeln!(
            out,
            "{}  {:?}  building {}  roles {}",
            device.id,
            device.name,
            device.building_id,
            device.roles.join(",")
        );
        match device.revoked_at {
            Some(at) => _ = writeln!(out, "  status: revoked {}", whole_seconds(at)),
            None => _ = writeln!(out, "  status: active, enrolled {}", whole_seconds(device.enrolled_at)),
        }
        let seen = device
            .last_seen
            .map_or("never".to_owned(), |at| format!("{} ({})", whole_seconds(at), ago(now, at)));
        let _ = writeln!(out, "  last seen: {seen}");
        let Some((received, beat)) = heartbeat else {
            let _ = writeln!(out, "  heartbeat: none yet");
            continue;
        };
        let last_sync = beat.last_sync_at.map_or("never".to_owned(), |at| at.to_string());
        let _ = writeln!(
            out,
            "  heartbeat: {} ({}), software {}, generation {}, last sync {last_sync}",
            whole_seconds(*received),
            ago(now, *received),
            beat.software_version,
            beat.generation
        );
        if let Some(error) = &beat.last_error {
            let _ = writeln!(out, "  last error: {error}");
        }
        if beat.quarantined.is_empty() {
            let _ = writeln!(out, "  quarantined: none");
        } else {
            let _ = writeln!(out, "  quarantined: {} item(s)", beat.quarantined.len());
            for q in &beat.quarantined {
                let version = q.version.map_or("?".to_owned(), |v| v.to_string());
                let _ = writeln!(
                    out,
                    "    {} v{version}: {}",
                    if q.id.is_empty() { "(no id)" } else { &q.id },
                    q.reason
                );
            }
        }
    }
    out
}

/// An instant shown to people: RFC 3339 to the second.
pub fn whole_seconds(at: Timestamp) -> Timestamp {
    Timestamp::from_second(at.as_second()).unwrap_or(at)
}

fn ago(now: Timestamp, then: Timestamp) -> String {
    let secs = now.duration_since(then).as_secs();
    match secs {
        s if s < 0 => "in the future: check this machine's clock".to_owned(),
        s if s < 120 => format!("{s} s ago"),
        s if s < 2 * 3600 => format!("{} min ago", s / 60),
        s if s < 2 * 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_lowered() {
        assert_eq!(check_email(" Camille.Martin@Example.org ").unwrap(), "camille.martin@example.org");
        for bad in ["", "camille", "camille@", "@example.org", "a b@example.org", "camille@example", "c@.org"]
        {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_fold_french_names() {
        assert_eq!(slug("Résidence Les Tilleuls"), "residence-les-tilleuls");
        assert_eq!(slug("  Cœur de Ville — Bât. B "), "coeur-de-ville-bat-b");
        assert_eq!(slug("!!!"), "");
        assert!(slug(&"mot ".repeat(30)).len() <= 40);
    }
}
