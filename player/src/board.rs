//! The content side of a running player, without GPU: the cache snapshot with what the
//! board can actually show (media present and readable), and the scene of any showing.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use palier_content::config::{BoardConfig, ScreenConfig};
use palier_content::{Item, Snapshot};

use crate::locale::Locale;
use crate::playlist::{Playlist, Showing, SlideRef};
use crate::render::images::check_header;
use crate::scene::{self, Element, Scene, SlideContent, SlideContext};
use crate::source::Assets;

/// One snapshot as the player uses it.
#[derive(Debug, Clone)]
pub struct Board {
    pub snapshot: Snapshot,
    pub tz: TimeZone,
    pub locale: Locale,
    pub building_name: String,
    pub fallback_image: PathBuf,
    /// Items that cannot show on this board, with the reason (logged once per snapshot).
    pub unshowable: HashMap<String, String>,
}

impl Board {
    /// Takes a snapshot in; checks every picture's header so that an item with a missing or
    /// broken picture is skipped rather than shown with a hole.
    pub fn new(snapshot: Snapshot, config: &BoardConfig, assets: &Assets) -> Board {
        let building = snapshot.building.as_ref();
        let tz = building
            .and_then(|b| b.tz().ok())
            .or_else(|| TimeZone::get(&config.time_zone).ok())
            .unwrap_or(TimeZone::UTC);
        let locale = Locale::from_tag(building.map_or("fr-FR", |b| b.locale.as_str()));
        let building_name = building
            .map(|b| b.name.clone())
            .or_else(|| config.building_name.clone())
            .unwrap_or_else(|| "Palier".to_owned());
        let mut unshowable = HashMap::new();
        for item in &snapshot.items {
            for media in &item.media {
                let path = snapshot.display_path(media);
                if let Err(e) = check_header(&path) {
                    unshowable.insert(item.id.clone(), e.to_string());
                    break;
                }
            }
        }
        for (id, reason) in &unshowable {
            tracing::warn!(item = %id, %reason, "item skipped: its picture cannot be shown");
        }
        Board { snapshot, tz, locale, building_name, fallback_image: assets.fallback_image(), unshowable }
    }

    /// Marks an item unshowable after its picture failed to decode.
    pub fn mark_unshowable(&mut self, id: &str, reason: String) {
        tracing::warn!(item = %id, %reason, "item skipped: its picture did not decode");
        self.unshowable.insert(id.to_owned(), reason);
    }

    pub fn playlist(&self, screen: &ScreenConfig) -> Playlist {
        let excluded: HashSet<String> = self.unshowable.keys().cloned().collect();
        Playlist::new(&self.snapshot, screen, &self.tz, &excluded)
    }

    pub fn item(&self, slide: &SlideRef) -> Option<&Item> {
        match slide {
            SlideRef::Item { id, .. } => self.snapshot.item(id),
            SlideRef::Fallback => None,
        }
    }

    /// The scene `screen` shows for `showing` at `at` (the header clock reads `at`).
    pub fn scene(&self, screen: &ScreenConfig, showing: &Showing, at: Timestamp) -> Scene {
        let (width, height) = screen.content_size();
        let item = self.item(&showing.slide);
        let banner =
            showing.banner.as_deref().and_then(|id| self.snapshot.item(id)).map(|flash| flash.title.as_str());
        let media_paths = item
            .map(|item| {
                item.media
                    .iter()
                    .map(|m| Some(self.snapshot.display_path(m)).filter(|path| path.is_file()))
                    .collect()
            })
            .unwrap_or_default();
        let context = SlideContext {
            width,
            height,
            now: at.to_zoned(self.tz.clone()),
            locale: self.locale,
            building: self.snapshot.building.as_ref(),
            building_name: &self.building_name,
            banner,
            media_paths,
            fallback_image: Some(self.fallback_image.clone()).filter(|p| p.is_file()),
        };
        let content = match item {
            Some(item) => SlideContent::Item(item),
            None => SlideContent::Fallback,
        };
        scene::build(content, &context)
    }
}

/// The pictures a scene draws.
pub fn pictures(scene: &Scene) -> Vec<PathBuf> {
    scene
        .elements
        .iter()
        .filter_map(|e| if let Element::Image { source, .. } = e { Some(source.clone()) } else { None })
        .collect()
}

/// Screen brightness at `at`: the night setting's level inside its hours, else full.
pub fn brightness(night: Option<&palier_content::config::NightDimming>, at: Timestamp, tz: &TimeZone) -> f32 {
    let Some(night) = night else { return 1.0 };
    let range = palier_content::DailyHours { from: night.from, to: night.to };
    if range.from != range.to && range.contains(at.to_zoned(tz.clone()).time()) {
        night.brightness
    } else {
        1.0
    }
}

/// How far a crossfade has got at `at`, eased: 0 shows only the old slide, 1 only the new.
pub fn crossfade_progress(start: Timestamp, at: Timestamp, crossfade: jiff::SignedDuration) -> f32 {
    if crossfade.is_zero() || at >= start + crossfade {
        return 1.0;
    }
    let t = (at.duration_since(start).as_secs_f64() / crossfade.as_secs_f64()).clamp(0.0, 1.0) as f32;
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use palier_content::config::{NightDimming, Rotation, ScreenConfig};
    use palier_content::{Channel, sample};

    use super::*;

    #[test]
    fn night_dimming_follows_local_hours_across_midnight() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let night = NightDimming {
            from: jiff::civil::time(22, 30, 0, 0),
            to: jiff::civil::time(6, 30, 0, 0),
            brightness: 0.4,
        };
        let cases = [
            ("2026-11-24T21:29:00Z", 1.0), // 22:29 in Lyon
            ("2026-11-24T21:30:00Z", 0.4), // 22:30
            ("2026-11-25T02:00:00Z", 0.4), // 03:00
            ("2026-11-25T05:30:00Z", 1.0), // 06:30
        ];
        for (at, expected) in cases {
            assert_eq!(brightness(Some(&night), at.parse().unwrap(), &tz), expected, "{at}");
        }
        assert_eq!(brightness(None, sample::now(), &tz), 1.0);
    }

    #[test]
    fn an_item_whose_picture_is_missing_or_broken_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let media_dir = dir.path().join("media");
        std::fs::create_dir_all(&media_dir).unwrap();
        let mut snapshot = Snapshot::empty(media_dir.clone());
        let mut missing = sample::promo("missing", "Café");
        missing.media = vec![sample::media(1)];
        let mut broken = sample::promo("broken", "Café");
        broken.media = vec![sample::media(2)];
        std::fs::write(media_dir.join(&broken.media[0].sha256), b"not a picture").unwrap();
        snapshot.items = vec![broken, missing, sample::news("news")];
        snapshot.items.sort_by(|a, b| a.id.cmp(&b.id));
        let config = crate::source::demo_config(dir.path());
        let assets = Assets::locate(None).unwrap();
        let board = Board::new(snapshot, &config, &assets);
        let mut skipped: Vec<&str> = board.unshowable.keys().map(String::as_str).collect();
        skipped.sort();
        assert_eq!(skipped, vec!["broken", "missing"]);
        let screen = ScreenConfig {
            name: "lift".into(),
            role: "lift".into(),
            channels: Channel::ALL.to_vec(),
            width: 1080,
            height: 1920,
            rotation: Rotation::R0,
            output: None,
            max_per_origin: palier_content::config::DEFAULT_MAX_PER_ORIGIN,
        };
        let t = sample::now();
        let shown: Vec<_> = board
            .playlist(&screen)
            .showings(t, t + jiff::SignedDuration::from_mins(2))
            .into_iter()
            .filter_map(|s| s.item_id().map(str::to_owned))
            .collect();
        assert!(shown.iter().all(|id| id == "news"), "the rotation goes on without them: {shown:?}");
    }
}
