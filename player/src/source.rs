//! Where the player's content and settings come from: the board's configuration and cache,
//! or the bundled demo (the demo pack installed into a fresh cache, with a lift screen and
//! a three-screen lobby).

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use palier_content::config::{BoardConfig, Output, Rotation, ScreenConfig};
use palier_content::demo::DemoPack;
use palier_content::{Cache, Channel, DataDir};

/// Why the content source could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(
        "the assets directory (fonts, fallback image, demo pack) was not found; looked in {looked}. \
         Pass --assets DIR or set PALIER_ASSETS"
    )]
    NoAssets { looked: String },
    #[error(transparent)]
    Demo(#[from] palier_content::demo::DemoError),
    #[error(transparent)]
    Cache(#[from] palier_content::CacheError),
    #[error(transparent)]
    Config(#[from] palier_content::config::ConfigError),
    #[error("demo data directory {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The bundled assets: fonts are compiled in, the rest is read from here.
#[derive(Debug, Clone)]
pub struct Assets {
    pub dir: PathBuf,
}

impl Assets {
    /// Finds the assets: `explicit`, then `$PALIER_ASSETS`, then `share/palier/assets` beside
    /// the binary, then the source tree it was built from.
    pub fn locate(explicit: Option<&Path>) -> Result<Assets, SourceError> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(dir) = explicit {
            candidates.push(dir.to_path_buf());
        }
        if let Some(dir) = std::env::var_os("PALIER_ASSETS") {
            candidates.push(dir.into());
        }
        if let Ok(exe) = std::env::current_exe()
            && let Some(bin) = exe.parent()
        {
            candidates.push(bin.join("../share/palier/assets"));
        }
        candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets"));
        match candidates.iter().find(|dir| dir.join("demo").join("pack.json").is_file()) {
            Some(dir) => Ok(Assets { dir: dir.clone() }),
            None => Err(SourceError::NoAssets {
                looked: candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", "),
            }),
        }
    }

    pub fn fallback_image(&self) -> PathBuf {
        self.dir.join("fallback.png")
    }

    pub fn demo_pack(&self) -> PathBuf {
        self.dir.join("demo")
    }
}

/// The demo board: a portrait lift screen and the three landscape panels of a lobby unit.
pub fn demo_config(data_dir: &Path) -> BoardConfig {
    let screen = |name: &str, width, height, channels: &[Channel], output| ScreenConfig {
        name: name.to_owned(),
        role: name.to_owned(),
        channels: channels.to_vec(),
        width,
        height,
        rotation: Rotation::R0,
        output: Some(Output::Index(output)),
        max_per_origin: palier_content::config::DEFAULT_MAX_PER_ORIGIN,
    };
    BoardConfig {
        data_dir: data_dir.to_path_buf(),
        building_name: Some("Résidence Les Tilleuls".to_owned()),
        time_zone: "Europe/Paris".to_owned(),
        screens: vec![
            screen("lift", 1080, 1920, &Channel::ALL, 0),
            screen("lobby-left", 1920, 1080, &[Channel::Building], 1),
            screen("lobby-centre", 1920, 1080, &[Channel::Neighbourhood], 2),
            screen("lobby-right", 1920, 1080, &[Channel::Shops], 3),
        ],
        player: Default::default(),
        sync: Default::default(),
    }
}

/// A demo data directory with the pack installed as of `now`; removed when dropped.
#[derive(Debug)]
pub struct DemoData {
    pub dir: tempfile::TempDir,
}

/// When the demo's urgent flash arrives, after the start: once the first slides have turned.
pub const URGENT_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_secs(30);

impl DemoData {
    /// Installs the pack as a board would hold it: resolved against `now`, arrived an hour
    /// earlier, so the demo opens mid-rotation like a board that has been running; its urgent
    /// flash arrives [`URGENT_AFTER`] after `now`, so a newcomer sees the rotation first, then
    /// the flash preempting it on every screen.
    pub fn install(assets: &Assets, now: Timestamp) -> Result<DemoData, SourceError> {
        let dir = tempfile::Builder::new()
            .prefix("palier-demo-")
            .tempdir()
            .map_err(|source| SourceError::Io { path: std::env::temp_dir(), source })?;
        let data = DataDir::new(dir.path());
        let pack = DemoPack::load(&assets.demo_pack(), now)?;
        let mut cache = Cache::open(&data.cache())?;
        pack.install_staged(&mut cache, now - jiff::SignedDuration::from_hours(1), now + URGENT_AFTER)?;
        Ok(DemoData { dir })
    }

    pub fn data_dir(&self) -> DataDir {
        DataDir::new(self.dir.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Board;

    #[test]
    fn the_demo_opens_on_its_rotation_and_its_urgent_flash_preempts_later() {
        let assets = Assets::locate(None).unwrap();
        let now: Timestamp = "2026-11-24T08:00:00Z".parse().unwrap();
        let demo = DemoData::install(&assets, now).unwrap();
        let snapshot =
            palier_content::CacheReader::open(&demo.data_dir().cache()).unwrap().snapshot().unwrap();
        let config = demo_config(demo.data_dir().path());
        let board = Board::new(snapshot, &config, &assets);
        let urgent = |at: Timestamp| {
            config
                .screens
                .iter()
                .filter(|s| {
                    let id = board.playlist(s).showing_at(at).item_id().map(str::to_owned);
                    id.is_some_and(|id| board.snapshot.item(&id).is_some_and(|i| i.is_urgent()))
                })
                .count()
        };
        // (seconds after the start, screens showing the urgent flash)
        for (seconds, expected) in [(0, 0), (10, 0), (29, 0), (31, 4), (40, 4)] {
            let at = now + jiff::SignedDuration::from_secs(seconds);
            assert_eq!(urgent(at), expected, "{seconds} s after the start");
        }
        let first: Vec<Option<String>> = config
            .screens
            .iter()
            .map(|s| board.playlist(s).showing_at(now).item_id().map(str::to_owned))
            .collect();
        let distinct: std::collections::HashSet<_> = first.iter().collect();
        assert!(distinct.len() >= 3, "the screens open on different slides: {first:?}");
    }
}
