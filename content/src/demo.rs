//! The bundled demo pack: realistic content for a French building, always current.
//!
//! `assets/demo/pack.json` is a manifest written by hand, with two conveniences: instants
//! may be relative to now (`now`, `now-2d`, `now+3h`, `now+4d@18:30` = the local date of now
//! plus four days at 18:30 in the building's time zone), and media name a file of the pack
//! (`{"file": "coffee.jpg"}`) instead of its sha256. Loading resolves both, so the result is
//! an ordinary manifest that goes through the same validation and cache as platform content.

use std::fs;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cache::{ApplyOutcome, Cache, CacheError};
use crate::model::{Building, MediaRef};
use crate::validate::{ValidatedManifest, validate_manifest};
use crate::wire::{Manifest, PROTOCOL_VERSION};

pub const PACK_FILE: &str = "pack.json";

/// Why the demo pack could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo pack {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("demo pack {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// A loaded pack: the manifest and the media files it references.
#[derive(Debug, Clone)]
pub struct DemoPack {
    pub manifest: ValidatedManifest,
    /// sha256 and source file of every picture.
    pub media_files: Vec<(String, PathBuf)>,
}

impl DemoPack {
    /// Loads `dir/pack.json`, resolving relative instants against `now`.
    pub fn load(dir: &Path, now: Timestamp) -> Result<DemoPack, DemoError> {
        let path = dir.join(PACK_FILE);
        let invalid = |message: String| DemoError::Invalid { path: path.clone(), message };
        let text =
            fs::read_to_string(&path).map_err(|source| DemoError::Io { path: path.clone(), source })?;
        let mut pack: Value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let building: Building = serde_json::from_value(pack["building"].clone())
            .map_err(|e| invalid(format!("building: {e}")))?;
        let tz = building.tz().map_err(|e| invalid(format!("building time zone: {e}")))?;
        let mut media_files = Vec::new();
        let items = pack["items"].as_array_mut().ok_or_else(|| invalid("no \"items\" array".to_owned()))?;
        for item in items.iter_mut() {
            let id = item["id"].as_str().unwrap_or("?").to_owned();
            resolve_instants(item, now, &tz).map_err(|e| invalid(format!("item {id}: {e}")))?;
            if let Some(media) = item.get_mut("media").and_then(Value::as_array_mut) {
                for entry in media.iter_mut() {
                    let file = entry["file"]
                        .as_str()
                        .ok_or_else(|| invalid(format!("item {id}: media without \"file\"")))?;
                    let file_path = dir.join(file);
                    let mut media_ref =
                        describe_media(&file_path).map_err(|e| invalid(format!("item {id}: {e}")))?;
                    media_ref.credit = entry["credit"].as_str().map(str::to_owned);
                    media_files.push((media_ref.sha256.clone(), file_path));
                    *entry = serde_json::to_value(media_ref).expect("media refs serialize");
                }
            }
        }
        let manifest = Manifest {
            protocol: PROTOCOL_VERSION,
            device_id: "demo".to_owned(),
            generation: 1,
            issued_at: now,
            expires_at: now + (30 * 24).hours(),
            building,
            roles: Vec::new(),
            items: std::mem::take(items),
            system_update: None,
        };
        let manifest = validate_manifest(manifest).map_err(|e| invalid(e.to_string()))?;
        Ok(DemoPack { manifest, media_files })
    }

    /// Copies the media into the cache's media directory and applies the manifest.
    pub fn install(&self, cache: &mut Cache, now: Timestamp) -> Result<ApplyOutcome, DemoError> {
        let media_dir = cache.media_dir();
        fs::create_dir_all(&media_dir).map_err(|source| DemoError::Io { path: media_dir.clone(), source })?;
        for (sha, source_path) in &self.media_files {
            let target = media_dir.join(sha);
            if !target.exists() {
                fs::copy(source_path, &target)
                    .map_err(|source| DemoError::Io { path: target.clone(), source })?;
            }
        }
        Ok(cache.apply(&self.manifest, now)?)
    }

    /// Installs the pack in two steps, as a board that had been running receives a flash: all
    /// but the urgent flashes at `arrival`, then the urgent flashes at `urgent_arrival` (which
    /// may lie ahead: the player shows an item from its arrival).
    pub fn install_staged(
        &self,
        cache: &mut Cache,
        arrival: Timestamp,
        urgent_arrival: Timestamp,
    ) -> Result<ApplyOutcome, DemoError> {
        let mut calm = self.manifest.clone();
        calm.items.retain(|item| !item.is_urgent());
        let calm = DemoPack { manifest: calm, media_files: self.media_files.clone() };
        calm.install(cache, arrival)?;
        Ok(cache.apply(&self.manifest, urgent_arrival)?)
    }
}

/// Reads a picture's address, size, type and dimensions from its bytes.
pub fn describe_media(path: &Path) -> Result<MediaRef, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    describe_media_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a picture's address, size, type and dimensions from its bytes (the header only is
/// parsed, nothing is decoded). Limits are not checked here.
pub fn describe_media_bytes(bytes: &[u8]) -> Result<MediaRef, String> {
    let size = imagesize::blob_size(bytes).map_err(|e| format!("not a picture: {e}"))?;
    let mime = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Jpeg) => "image/jpeg",
        Ok(imagesize::ImageType::Png) => "image/png",
        Ok(imagesize::ImageType::Webp) => "image/webp",
        _ => return Err("only JPEG, PNG and WebP pictures".to_owned()),
    };
    Ok(MediaRef {
        sha256: sha256_hex(bytes),
        bytes: bytes.len() as u64,
        mime: mime.to_owned(),
        width: size.width as u32,
        height: size.height as u32,
        credit: None,
    })
}

/// Lowercase hexadecimal sha256 of `bytes`: the address of a media file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

const INSTANT_FIELDS: [&str; 4] = ["valid_from", "valid_until", "starts_at", "ends_at"];

fn resolve_instants(item: &mut Value, now: Timestamp, tz: &TimeZone) -> Result<(), String> {
    for field in INSTANT_FIELDS {
        if let Some(text) = item.get(field).and_then(Value::as_str)
            && text.starts_with("now")
        {
            let resolved = resolve_relative(text, now, tz).map_err(|e| format!("{field} {text:?}: {e}"))?;
            item[field] = Value::String(resolved.to_string());
        }
    }
    Ok(())
}

/// Resolves `now[(+|-)N(d|h|m|s)][@HH:MM]` against `now` in time zone `tz`.
pub fn resolve_relative(text: &str, now: Timestamp, tz: &TimeZone) -> Result<Timestamp, String> {
    let rest = text.strip_prefix("now").ok_or("must start with \"now\"")?;
    let (offset, time_of_day) = match rest.split_once('@') {
        Some((offset, time)) => (offset, Some(time)),
        None => (rest, None),
    };
    let mut zoned = now.to_zoned(tz.clone());
    if !offset.is_empty() {
        let (sign, digits) = match offset.as_bytes()[0] {
            b'+' => (1, &offset[1..]),
            b'-' => (-1, &offset[1..]),
            _ => return Err("expected + or - after now".to_owned()),
        };
        let (number, unit) = digits.split_at(digits.len().saturating_sub(1));
        let n: i64 = number.parse().map_err(|_| format!("{number:?} is not a number"))?;
        let span = match unit {
            "d" => (sign * n).days(),
            "h" => (sign * n).hours(),
            "m" => (sign * n).minutes(),
            "s" => (sign * n).seconds(),
            _ => return Err(format!("unit {unit:?} is not d, h, m or s")),
        };
        zoned = zoned.checked_add(span).map_err(|e| e.to_string())?;
    }
    if let Some(time) = time_of_day {
        let time: jiff::civil::Time = time.parse().map_err(|e| format!("time {time:?}: {e}"))?;
        zoned = zoned.date().to_datetime(time).to_zoned(tz.clone()).map_err(|e| e.to_string())?;
    }
    Ok(zoned.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheReader;
    use crate::model::{Details, Kind, Severity};

    fn pack_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo")
    }

    #[test]
    fn the_demo_pack_loads_validates_and_installs() {
        let now = crate::sample::now();
        let pack = DemoPack::load(&pack_dir(), now).unwrap();
        let manifest = &pack.manifest;
        assert!(manifest.quarantined.is_empty(), "{:?}", manifest.quarantined);
        assert!(manifest.skipped.is_empty());
        let count = |kind| manifest.items.iter().filter(|i| i.kind() == kind).count();
        assert!(count(Kind::Flash) >= 3 && count(Kind::Offer) >= 6 && count(Kind::Promo) >= 4);
        assert!(count(Kind::Event) >= 2 && count(Kind::News) >= 1);
        assert!(manifest.items.iter().any(|i| i.is_urgent()));
        // An item of each of the five sources: neighbours, the landlord, the lift company,
        // the shops and the city's agenda.
        let origin = |i: &crate::model::Item, o: &str| i.origin.as_deref().is_some_and(|x| x.contains(o));
        assert!(manifest.items.iter().any(|i| i.kind() == Kind::Offer));
        assert!(manifest.items.iter().any(|i| i.kind() == Kind::Flash && i.origin.is_none()));
        assert!(
            manifest
                .items
                .iter()
                .any(|i| i.kind() == Kind::Flash && origin(i, "Ascenseurs") && i.roles == ["lift"])
        );
        assert!(manifest.items.iter().any(|i| i.kind() == Kind::Promo));
        assert!(manifest.items.iter().any(|i| i.kind() == Kind::Event && origin(i, "agenda")));
        let promos_with_photos = manifest
            .items
            .iter()
            .filter(|i| matches!(i.details, Details::Promo(_)) && !i.media.is_empty())
            .count();
        assert_eq!(promos_with_photos, count(Kind::Promo));
        assert!(manifest.items.iter().all(|i| i.is_valid_at(now)), "every demo item is current");
        let severities: Vec<_> = manifest
            .items
            .iter()
            .filter_map(|i| if let Details::Flash(f) = &i.details { Some(f.severity) } else { None })
            .collect();
        assert!(severities.contains(&Severity::Important) && severities.contains(&Severity::Info));

        let dir = tempfile::tempdir().unwrap();
        let cache_path = dir.path().join("cache.sqlite");
        let mut cache = Cache::open(&cache_path).unwrap();
        let outcome = pack.install(&mut cache, now).unwrap();
        assert_eq!(outcome.added.len(), manifest.items.len());
        let snapshot = CacheReader::open(&cache_path).unwrap().snapshot().unwrap();
        for item in &snapshot.items {
            for media in &item.media {
                let bytes = fs::read(snapshot.media_path(media)).unwrap();
                assert_eq!(sha256_hex(&bytes), media.sha256, "{} media is in place", item.id);
            }
        }
        let credited = manifest.items.iter().flat_map(|i| &i.media).filter(|m| m.credit.is_some()).count();
        assert_eq!(credited, pack.media_files.len(), "every demo photo carries its credit line");
        // Installing again (a restart of the demo) changes nothing.
        assert!(!pack.install(&mut cache, now).unwrap().changed());
    }

    #[test]
    fn relative_instants_resolve_in_the_building_time_zone() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let now: Timestamp = "2026-03-28T10:00:00Z".parse().unwrap(); // Saturday, before the DST change
        let cases = [
            ("now", "2026-03-28T10:00:00Z"),
            ("now+3h", "2026-03-28T13:00:00Z"),
            ("now-90m", "2026-03-28T08:30:00Z"),
            ("now+45s", "2026-03-28T10:00:45Z"),
            // A calendar day across the spring change keeps the local time: 11:00 CET -> 11:00 CEST.
            ("now+1d", "2026-03-29T09:00:00Z"),
            ("now+2d@18:30", "2026-03-30T16:30:00Z"),
            ("now@09:00", "2026-03-28T08:00:00Z"),
        ];
        for (text, expected) in cases {
            let got = resolve_relative(text, now, &tz).unwrap();
            assert_eq!(got.to_string(), expected, "{text}");
        }
        for bad in ["later", "now+", "now*2d", "now+2w", "now+xd", "now@25:00"] {
            assert!(resolve_relative(bad, now, &tz).is_err(), "{bad} should be refused");
        }
    }
}
