//! Checks a manifest as a whole before it may touch the cache.
//!
//! A manifest-level fault (not JSON, wrong protocol, a building without a valid time zone)
//! rejects the manifest and the cache keeps its last good content. An item-level fault
//! quarantines that item with a reason and the rest of the manifest still applies. Items of
//! a kind this build does not know are skipped with a warning: a newer platform may publish
//! kinds an older board cannot show.

use std::collections::HashSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::limits::*;
use crate::model::{Building, Details, Item, Kind};
use crate::wire::{Manifest, PROTOCOL_VERSION, QuarantinedItem};

pub use crate::config::check_role;

/// A manifest whose every kept item passed validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatedManifest {
    pub device_id: String,
    pub generation: u64,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub building: Building,
    pub roles: Vec<String>,
    pub items: Vec<Item>,
    pub quarantined: Vec<QuarantinedItem>,
    /// Items of an unknown kind: not an error, but worth a warning.
    pub skipped: Vec<SkippedItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedItem {
    pub id: String,
    pub kind: String,
}

/// Why a whole manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest is {bytes} bytes, over the {MAX_MANIFEST_BYTES}-byte limit")]
    TooLarge { bytes: usize },
    #[error("manifest is not valid JSON for protocol v{PROTOCOL_VERSION}: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "manifest speaks protocol v{found}, this build speaks v{PROTOCOL_VERSION}; update Palier on this board"
    )]
    UnsupportedProtocol { found: u32 },
    #[error("manifest building {id:?}: {reason}")]
    Building { id: String, reason: String },
    #[error("manifest window is empty: issued at {issued_at}, expires at {expires_at}")]
    Window { issued_at: Timestamp, expires_at: Timestamp },
}

/// Parses and validates manifest bytes exactly as received.
pub fn parse_manifest(bytes: &[u8]) -> Result<ValidatedManifest, ManifestError> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::TooLarge { bytes: bytes.len() });
    }
    validate_manifest(serde_json::from_slice(bytes)?)
}

/// Validates a parsed manifest: the envelope must be sound, each item is judged alone.
pub fn validate_manifest(manifest: Manifest) -> Result<ValidatedManifest, ManifestError> {
    if manifest.protocol != PROTOCOL_VERSION {
        return Err(ManifestError::UnsupportedProtocol { found: manifest.protocol });
    }
    validate_building(&manifest.building)
        .map_err(|reason| ManifestError::Building { id: manifest.building.id.clone(), reason })?;
    if manifest.expires_at <= manifest.issued_at {
        return Err(ManifestError::Window { issued_at: manifest.issued_at, expires_at: manifest.expires_at });
    }
    let mut items = Vec::new();
    let mut quarantined = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = HashSet::new();
    for (index, raw) in manifest.items.into_iter().enumerate() {
        let id = raw.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let version = raw.get("version").and_then(|v| v.as_u64());
        let quarantine = |reason: String| QuarantinedItem { id: id.clone(), version, reason };
        if index >= MAX_ITEMS {
            quarantined.push(quarantine(format!("manifest holds more than {MAX_ITEMS} items")));
            continue;
        }
        let kind = raw.get("kind").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        if kind.is_empty() {
            quarantined.push(quarantine("item is not an object with a \"kind\"".to_owned()));
            continue;
        }
        if Kind::parse(&kind).is_none() {
            skipped.push(SkippedItem { id, kind });
            continue;
        }
        let item: Item = match serde_json::from_value(raw) {
            Ok(item) => item,
            Err(e) => {
                quarantined.push(quarantine(format!("unreadable {kind} item: {e}")));
                continue;
            }
        };
        if let Err(reason) = validate_item(&item) {
            quarantined.push(quarantine(reason));
            continue;
        }
        if !seen.insert(item.id.clone()) {
            quarantined.push(quarantine("a second item with the same id".to_owned()));
            continue;
        }
        items.push(item);
    }
    Ok(ValidatedManifest {
        device_id: manifest.device_id,
        generation: manifest.generation,
        issued_at: manifest.issued_at,
        expires_at: manifest.expires_at,
        building: manifest.building,
        roles: manifest.roles,
        items,
        quarantined,
        skipped,
    })
}

/// Checks a building's settings; the message names the field and the fix.
pub fn validate_building(building: &Building) -> Result<(), String> {
    check_id("building id", &building.id)?;
    check_text("building name", &building.name, MAX_SHORT_TEXT_CHARS, false)?;
    check_text("building address", &building.address, MAX_SHORT_TEXT_CHARS, false)?;
    if building.name.trim().is_empty() {
        return Err("building name is empty".to_owned());
    }
    building.tz().map_err(|e| {
        format!("time zone {:?} is unknown ({e}); use an IANA name such as Europe/Paris", building.time_zone)
    })?;
    if building.locale.is_empty() || building.locale.len() > 35 {
        return Err(format!("locale {:?} is not a BCP 47 tag such as fr-FR", building.locale));
    }
    Ok(())
}

/// Checks one item against every protocol limit. The message says what is wrong with it.
pub fn validate_item(item: &Item) -> Result<(), String> {
    check_id("id", &item.id)?;
    if item.version == 0 {
        return Err("version must start at 1".to_owned());
    }
    if item.valid_until <= item.valid_from {
        return Err(format!("valid_until {} is not after valid_from {}", item.valid_until, item.valid_from));
    }
    if item.weight == 0 || item.weight > MAX_WEIGHT {
        return Err(format!("weight {} is outside 1..={MAX_WEIGHT}", item.weight));
    }
    if let Some(d) = item.duration_s
        && !(MIN_DURATION_S..=MAX_DURATION_S).contains(&d)
    {
        return Err(format!("duration_s {d} is outside {MIN_DURATION_S}..={MAX_DURATION_S}"));
    }
    if item.roles.len() > MAX_ROLES {
        return Err(format!("{} roles, at most {MAX_ROLES}", item.roles.len()));
    }
    for role in &item.roles {
        check_role(role)?;
    }
    if item.lang.is_empty() || item.lang.len() > 35 {
        return Err(format!("lang {:?} is not a language tag such as fr", item.lang));
    }
    check_text("title", &item.title, MAX_TITLE_CHARS, false)?;
    if item.title.trim().is_empty() {
        return Err("title is empty".to_owned());
    }
    check_text("body", &item.body, MAX_BODY_CHARS, true)?;
    if let Some(schedule) = &item.schedule {
        if schedule.hours.len() > MAX_DAILY_HOURS {
            return Err(format!("{} daily hour ranges, at most {MAX_DAILY_HOURS}", schedule.hours.len()));
        }
        if let Some(h) = schedule.hours.iter().find(|h| h.from == h.to) {
            return Err(format!("daily hours {}–{} are empty", h.from, h.to));
        }
    }
    if item.media.len() > MAX_MEDIA_PER_ITEM {
        return Err(format!("{} media, at most {MAX_MEDIA_PER_ITEM}", item.media.len()));
    }
    for media in &item.media {
        check_sha256(&media.sha256)?;
        if !MEDIA_MIME_TYPES.contains(&media.mime.as_str()) {
            return Err(format!("media {} has type {:?}; only JPEG, PNG and WebP", media.sha256, media.mime));
        }
        if media.bytes == 0 || media.bytes > MAX_MEDIA_BYTES {
            return Err(format!("media {} is {} bytes, limit {MAX_MEDIA_BYTES}", media.sha256, media.bytes));
        }
        let pixels = u64::from(media.width) * u64::from(media.height);
        if media.width == 0
            || media.height == 0
            || media.width > MAX_MEDIA_SIDE
            || media.height > MAX_MEDIA_SIDE
            || pixels > MAX_MEDIA_PIXELS
        {
            return Err(format!(
                "media {} is {}×{}; sides must be 1..={MAX_MEDIA_SIDE} and at most {MAX_MEDIA_PIXELS} pixels",
                media.sha256, media.width, media.height
            ));
        }
    }
    for credit in item.media.iter().filter_map(|m| m.credit.as_ref()) {
        check_text("media credit", credit, MAX_SHORT_TEXT_CHARS, false)?;
    }
    if let Some(origin) = &item.origin {
        check_text("origin", origin, MAX_SHORT_TEXT_CHARS, false)?;
    }
    if let Some(link) = &item.link {
        check_link(link)?;
    }
    match &item.details {
        Details::Flash(flash) => {
            if let (Some(s), Some(e)) = (flash.starts_at, flash.ends_at)
                && e < s
            {
                return Err(format!("flash ends_at {e} is before starts_at {s}"));
            }
        }
        Details::Offer(offer) => {
            check_first_name(&offer.author_first_name)?;
            if let Some(b) = &offer.author_building {
                check_text("author_building", b, MAX_SHORT_TEXT_CHARS, false)?;
            }
        }
        Details::Promo(promo) => {
            check_text("shop", &promo.shop, MAX_SHORT_TEXT_CHARS, false)?;
            for (field, value) in [("price", &promo.price), ("opening_hours", &promo.opening_hours)] {
                if let Some(v) = value {
                    check_text(field, v, MAX_SHORT_TEXT_CHARS, false)?;
                }
            }
        }
        Details::Event(event) => {
            if let Some(end) = event.ends_at
                && end < event.starts_at
            {
                return Err(format!("event ends_at {end} is before starts_at {}", event.starts_at));
            }
            if let Some(place) = &event.place {
                check_text("place", place, MAX_SHORT_TEXT_CHARS, false)?;
            }
        }
        Details::News(news) => {
            if let Some(source) = &news.source {
                check_text("source", source, MAX_SHORT_TEXT_CHARS, false)?;
            }
        }
    }
    Ok(())
}

/// An id of the protocol (item, building, device, play): 1–64 characters of the id alphabet.
/// `field` names the thing in the message.
pub fn check_id(field: &str, id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("{field} {id:?} must be 1–{MAX_ID_CHARS} characters of A–Z, a–z, 0–9, '-', '_', '.'"))
    }
}

fn check_text(field: &str, text: &str, max_chars: usize, multiline: bool) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(format!("{field} has {chars} characters, at most {max_chars}"));
    }
    if let Some(c) = text.chars().find(|&c| c.is_control() && !(multiline && c == '\n')) {
        return Err(format!("{field} contains the control character U+{:04X}", u32::from(c)));
    }
    Ok(())
}

/// A neighbour's first name: short, no e-mail address, no phone number.
pub fn check_first_name(name: &str) -> Result<(), String> {
    check_text("author_first_name", name, MAX_FIRST_NAME_CHARS, false)?;
    if name.trim().is_empty() {
        return Err("author_first_name is empty".to_owned());
    }
    if name.contains('@') || name.chars().filter(char::is_ascii_digit).count() >= 3 {
        return Err(
            "author_first_name must be a first name only, not an e-mail address or phone number".to_owned()
        );
    }
    if name.split_whitespace().count() > 3 {
        return Err("author_first_name must be a first name only".to_owned());
    }
    Ok(())
}

fn check_sha256(sha: &str) -> Result<(), String> {
    if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(format!("media sha256 {sha:?} is not 64 lowercase hexadecimal digits"))
    }
}

fn check_link(link: &str) -> Result<(), String> {
    if link.chars().count() > MAX_LINK_CHARS {
        return Err(format!("link is longer than {MAX_LINK_CHARS} characters"));
    }
    let scheme_ok = link.starts_with("https://") || link.starts_with("http://");
    if !scheme_ok || link.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("link {link:?} must be an http(s) URL without spaces"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
