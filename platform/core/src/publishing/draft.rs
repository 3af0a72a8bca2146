//! Turns a publisher's JSON into a checked item, or says precisely what is wrong.
//!
//! The body is an item as devices receive it (see `palier_content::Item`) with three
//! differences: `version` is optional (the platform assigns it; a given one must be the next
//! one), `channel` is optional (the publisher's role decides it), and two platform-only
//! fields ride along and never reach a device: `buildings` and `areas` (which of the
//! publisher's buildings and areas; for a new item all of its own when both are absent, for
//! a new version where the item already is; an area reaches the buildings added to it later
//! too) and, for the neighbourhood app, `author`
//! (`person_id`, `first_name`, `building`), from which an offer's `author_first_name` and
//! `author_building` are filled. Media may be given by `sha256` alone; the rest of the
//! reference is filled from the upload. Then the item passes the same checks a board runs
//! ([`validate_item`]) and the privacy rule of [`crate::privacy`]. Who may publish what is
//! asked of [`crate::rules`].

use std::collections::HashMap;

use jiff::Timestamp;
use palier_content::validate::validate_item;
use palier_content::{Details, Item, Kind, MediaRef};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::PublishingError;
use crate::ids::{AreaId, BuildingId, ItemId, PersonId};
use crate::privacy::find_contact;
use crate::rules;
use crate::store::{Publisher, Targets};

/// A publication read from its body, checked, not stored yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The item as devices will receive it; its `version` is assigned by the service.
    pub item: Item,
    /// The version the publisher said it was writing, if any (checked, never trusted).
    pub expected_version: Option<u64>,
    /// The buildings and areas named in the body; `None`: all of the publisher's for a new
    /// item, the item's own for a new version.
    pub targets: Option<Targets>,
    /// The neighbourhood app's id of the person behind the item; never sent to devices.
    pub person_id: Option<PersonId>,
    /// Whether it waits for a moderator: `None` asks the buildings' setting (residents'
    /// posts), `Some` decides (a feed's own setting).
    pub review: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Author {
    person_id: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    building: Option<String>,
}

fn invalid(message: impl Into<String>) -> PublishingError {
    PublishingError::Invalid(message.into())
}

/// Reads a platform-only field out of the body with a message naming its path.
fn take<T: for<'de> Deserialize<'de>>(
    body: &mut Map<String, Value>,
    field: &str,
) -> Result<Option<T>, PublishingError> {
    let Some(value) = body.remove(field) else { return Ok(None) };
    serde_path_to_error::deserialize(value).map(Some).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { field.to_owned() } else { format!("{field}.{path}") };
        invalid(format!("{at}: {}", e.inner()))
    })
}

/// The media addresses a body names, to look up before [`read`].
pub fn media_addresses(body: &Value) -> Vec<String> {
    let entries = body.get("media").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    entries.iter().filter_map(|m| m.get("sha256").and_then(Value::as_str)).map(str::to_owned).collect()
}

/// Checks and completes a publication. `path_id` is the id of `PUT /v1/publish/items/{id}`;
/// `media` holds the uploaded pictures the body names, by address.
pub fn read(
    body: Value,
    actor: &Publisher,
    path_id: Option<&ItemId>,
    now: Timestamp,
    media: &HashMap<String, MediaRef>,
) -> Result<Draft, PublishingError> {
    let Value::Object(mut body) = body else {
        return Err(invalid("the body must be a JSON object: one item"));
    };
    let buildings: Option<Vec<String>> = take(&mut body, "buildings")?;
    let areas: Option<Vec<String>> = take(&mut body, "areas")?;
    let author: Option<Author> = take(&mut body, "author")?;
    let expected_version: Option<u64> = take(&mut body, "version")?;
    if expected_version == Some(0) {
        return Err(invalid("version must start at 1; leave it out and the platform assigns it"));
    }
    body.insert("version".to_owned(), Value::from(expected_version.unwrap_or(1)));

    if let Some(path_id) = path_id {
        match body.get("id") {
            None => _ = body.insert("id".to_owned(), Value::from(path_id.as_str())),
            Some(Value::String(id)) if id == path_id.as_str() => {}
            Some(other) => {
                return Err(invalid(format!(
                    "id {other} differs from the id {:?} in the path",
                    path_id.as_str()
                )));
            }
        }
    }

    let kind_name = match body.get("kind") {
        Some(Value::String(kind)) => kind.clone(),
        Some(other) => return Err(invalid(format!("kind must be a string, not {other}"))),
        None => return Err(invalid("kind is missing: one of flash, offer, promo, event, news")),
    };
    let kind = Kind::parse(&kind_name).ok_or_else(|| {
        invalid(format!("kind {kind_name:?} is not one of flash, offer, promo, event, news"))
    })?;
    rules::may_publish_kind(actor, kind)?;
    match body.get("channel") {
        None => _ = body.insert("channel".to_owned(), Value::from(actor.role.channel().as_str())),
        Some(Value::String(channel)) => rules::may_use_channel(actor, channel)?,
        Some(other) => return Err(invalid(format!("channel must be a string, not {other}"))),
    }

    let roles: Vec<String> = match body.get("roles") {
        None | Some(Value::Null) => Vec::new(),
        Some(roles) => serde_json::from_value(roles.clone())
            .map_err(|e| invalid(format!("roles must be a list of screen roles: {e}")))?,
    };
    let roles = rules::screen_roles(actor, &roles)?;
    if !roles.is_empty() {
        body.insert("roles".to_owned(), Value::from(roles));
    }
    let person_id = apply_author(&mut body, author, actor, kind)?;
    fill_media(&mut body, media)?;

    let item: Item = serde_path_to_error::deserialize(Value::Object(body))
        .map_err(|e| invalid(format!("{}: {}", e.path(), e.inner())))?;
    validate_item(&item).map_err(PublishingError::Invalid)?;
    if item.valid_until <= now {
        return Err(invalid(format!(
            "valid_until {} is already past: the item would never show; withdraw it instead",
            item.valid_until
        )));
    }
    check_privacy(&item)?;

    let targets = match (buildings, areas) {
        (None, None) => None,
        (buildings, areas) => {
            let mut targets = Targets {
                buildings: ids(buildings.unwrap_or_default(), "buildings", BuildingId::parse)?,
                areas: ids(areas.unwrap_or_default(), "areas", AreaId::parse)?,
            };
            if targets.is_empty() {
                return Err(invalid(
                    "buildings and areas are empty; name at least one building or area, or leave both out for all \
                     of yours",
                ));
            }
            targets.buildings.sort();
            targets.buildings.dedup();
            targets.areas.sort();
            targets.areas.dedup();
            Some(targets)
        }
    };
    Ok(Draft { item, expected_version, targets, person_id, review: None })
}

fn ids<T>(
    list: Vec<String>,
    field: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, PublishingError> {
    list.iter().map(|id| parse(id).map_err(|e| invalid(format!("{field} entry: {e}")))).collect()
}

/// Moves `author` into the item's fields; returns the person's id.
fn apply_author(
    body: &mut Map<String, Value>,
    author: Option<Author>,
    actor: &Publisher,
    kind: Kind,
) -> Result<Option<PersonId>, PublishingError> {
    if author.is_some() && !actor.role.speaks_for_people() {
        return Err(invalid(format!(
            "author is for items the neighbourhood app publishes for a person; a {} publisher leaves it out",
            actor.role
        )));
    }
    if kind == Kind::Offer {
        for field in ["author_first_name", "author_building"] {
            if body.contains_key(field) {
                return Err(invalid(format!(
                    "{field} is filled from author; send author.first_name and author.building"
                )));
            }
        }
        let Some(author) = &author else {
            return Err(invalid("an offer needs author: {\"person_id\", \"first_name\", \"building\"}"));
        };
        let first_name =
            author.first_name.as_deref().ok_or_else(|| invalid("author.first_name is missing"))?;
        body.insert("author_first_name".to_owned(), Value::from(first_name));
        if let Some(building) = &author.building {
            body.insert("author_building".to_owned(), Value::from(building.as_str()));
        }
    }
    let Some(author) = author else { return Ok(None) };
    PersonId::parse(&author.person_id).map(Some).map_err(|e| invalid(format!("author.person_id: {e}")))
}

/// Completes media given by address and checks the rest against the upload.
fn fill_media(
    body: &mut Map<String, Value>,
    media: &HashMap<String, MediaRef>,
) -> Result<(), PublishingError> {
    let Some(Value::Array(entries)) = body.get_mut("media") else { return Ok(()) };
    for (index, entry) in entries.iter_mut().enumerate() {
        let Value::Object(fields) = entry else {
            return Err(invalid(format!("media[{index}] must be an object with a sha256")));
        };
        let Some(Value::String(sha)) = fields.get("sha256") else {
            return Err(invalid(format!("media[{index}].sha256 is missing")));
        };
        let stored = media.get(sha).ok_or_else(|| {
            invalid(format!("media[{index}]: {sha} was never uploaded; upload the picture first"))
        })?;
        let expected = [
            ("bytes", Value::from(stored.bytes)),
            ("mime", Value::from(stored.mime.as_str())),
            ("width", Value::from(stored.width)),
            ("height", Value::from(stored.height)),
        ];
        for (field, value) in expected {
            match fields.get(field) {
                None => _ = fields.insert(field.to_owned(), value),
                Some(given) if *given == value => {}
                Some(given) => {
                    return Err(invalid(format!(
                        "media[{index}].{field} is {given} but the uploaded picture's is {value}; leave it out"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Refuses e-mail addresses and phone numbers in any text a screen shows.
fn check_privacy(item: &Item) -> Result<(), PublishingError> {
    let mut fields: Vec<(&str, &str)> = vec![("title", &item.title), ("body", &item.body)];
    match &item.details {
        Details::Offer(offer) => {
            fields.push(("author.first_name", &offer.author_first_name));
            fields.extend(offer.author_building.as_deref().map(|b| ("author.building", b)));
        }
        Details::Promo(promo) => {
            fields.push(("shop", &promo.shop));
            fields.extend(promo.price.as_deref().map(|p| ("price", p)));
            fields.extend(promo.opening_hours.as_deref().map(|o| ("opening_hours", o)));
        }
        Details::Event(event) => fields.extend(event.place.as_deref().map(|p| ("place", p))),
        Details::News(news) => fields.extend(news.source.as_deref().map(|s| ("source", s))),
        Details::Flash(_) => {}
    }
    fields.extend(item.media.iter().filter_map(|m| m.credit.as_deref()).map(|c| ("media credit", c)));
    for (field, text) in fields {
        if let Some(contact) = find_contact(text) {
            return Err(invalid(format!(
                "{field} contains {}; screens hang in shared hallways and show first names only: remove it \
                 and let people answer through the link (QR code)",
                contact.describe()
            )));
        }
    }
    Ok(())
}
