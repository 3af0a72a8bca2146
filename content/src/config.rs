//! The board's configuration file, `/etc/palier/palier.toml`, read by both the player and
//! `palier-sync`.
//!
//! Every key has a default where one makes sense, so a minimal file names only the platform
//! and the screens. Unknown keys are reported as warnings, not errors: a file written for a
//! newer Palier still starts an older one. Semantic checks (screen count, unique names,
//! sizes) name the key and the fix.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::limits::MAX_ROLE_CHARS;
use crate::model::Channel;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardConfig {
    /// Cache, media, plays journal and credentials live here.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Shown on the fallback slide until the first manifest names the building.
    #[serde(default)]
    pub building_name: Option<String>,
    /// IANA time zone used until the first manifest arrives.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// One to three screens driven by this board.
    #[serde(default, rename = "screen")]
    pub screens: Vec<ScreenConfig>,
    #[serde(default)]
    pub player: PlayerSettings,
    /// The sync daemon's own section, read by `palier-sync`.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub sync: toml::Table,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/palier")
}

fn default_time_zone() -> String {
    "Europe/Paris".to_owned()
}

/// One physical screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenConfig {
    /// Unique on the board; appears in plays and status, e.g. `lift`.
    pub name: String,
    /// Which items target it: `lift`, `lobby-left`, `lobby-centre`, `lobby-right`, ...
    pub role: String,
    /// Channels whose items it shows.
    #[serde(default = "all_channels")]
    pub channels: Vec<Channel>,
    /// The output's pixel size as the monitor reports it.
    #[serde(default = "default_width")]
    pub width: u32,
    #[serde(default = "default_height")]
    pub height: u32,
    /// Clockwise rotation of the content on the panel: 90 or 270 for a landscape panel hung
    /// in portrait.
    #[serde(default)]
    pub rotation: Rotation,
    /// Monitor name (`HDMI-A-1`) or index (`0`); the n-th monitor when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Output>,
    /// At most this many items of one origin (a city's agenda, the lift company) rotate at
    /// once on this screen, the soonest first, so one source with two hundred events does
    /// not drown the neighbours' offers; 0 for no cap.
    #[serde(default = "default_max_per_origin")]
    pub max_per_origin: u32,
}

/// The default [`ScreenConfig::max_per_origin`].
pub const DEFAULT_MAX_PER_ORIGIN: u32 = 8;

fn default_max_per_origin() -> u32 {
    DEFAULT_MAX_PER_ORIGIN
}

fn all_channels() -> Vec<Channel> {
    Channel::ALL.to_vec()
}

fn default_width() -> u32 {
    1920
}

fn default_height() -> u32 {
    1080
}

impl ScreenConfig {
    /// Size of the content as residents see it (after rotation): what slides are laid out for.
    pub fn content_size(&self) -> (u32, u32) {
        match self.rotation {
            Rotation::R0 | Rotation::R180 => (self.width, self.height),
            Rotation::R90 | Rotation::R270 => (self.height, self.width),
        }
    }

    pub fn shows(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }
}

/// Rotation in degrees clockwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub enum Rotation {
    #[default]
    R0,
    R90,
    R180,
    R270,
}

impl TryFrom<u32> for Rotation {
    type Error = String;
    fn try_from(degrees: u32) -> Result<Self, Self::Error> {
        match degrees {
            0 => Ok(Rotation::R0),
            90 => Ok(Rotation::R90),
            180 => Ok(Rotation::R180),
            270 => Ok(Rotation::R270),
            other => Err(format!("rotation {other} is not one of 0, 90, 180, 270")),
        }
    }
}

impl From<Rotation> for u32 {
    fn from(r: Rotation) -> u32 {
        match r {
            Rotation::R0 => 0,
            Rotation::R90 => 90,
            Rotation::R180 => 180,
            Rotation::R270 => 270,
        }
    }
}

/// Which monitor a screen is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Output {
    Index(usize),
    Name(String),
}

/// The player's own section, `[player]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlayerSettings {
    /// GPU backend: `auto`, `vulkan` or `gl`. `WGPU_BACKEND` in the environment wins.
    pub backend: BackendChoice,
    /// Crossfade between slides, in milliseconds (0 cuts).
    pub crossfade_ms: u32,
    /// How often the cache is probed for a new generation, in milliseconds, when its
    /// directory cannot be watched for changes (normally the player wakes on the sync
    /// daemon's writes, and probes every 5 s on its own).
    pub cache_poll_ms: u32,
    /// Dim the screens at night.
    pub night: Option<NightDimming>,
}

impl Default for PlayerSettings {
    fn default() -> Self {
        PlayerSettings { backend: BackendChoice::Auto, crossfade_ms: 600, cache_poll_ms: 500, night: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    #[default]
    Auto,
    Vulkan,
    Gl,
}

/// Between `from` and `to` (building time), brightness is multiplied by `brightness`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NightDimming {
    pub from: jiff::civil::Time,
    pub to: jiff::civil::Time,
    pub brightness: f32,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A loaded configuration and the warnings worth logging (unknown keys).
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: BoardConfig,
    pub warnings: Vec<String>,
}

impl BoardConfig {
    /// Reads, parses and checks `path`.
    pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        BoardConfig::parse(&text, path)
    }

    /// Parses and checks the text of a configuration file; `path` is for messages.
    pub fn parse(text: &str, path: &Path) -> Result<LoadedConfig, ConfigError> {
        let mut unknown = Vec::new();
        let deserializer = toml::Deserializer::parse(text)
            .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })?;
        let config: BoardConfig =
            serde_ignored::deserialize(deserializer, |key| unknown.push(key.to_string()))
                .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })?;
        config.check().map_err(|message| ConfigError::Invalid { path: path.to_path_buf(), message })?;
        let warnings = unknown
            .into_iter()
            .filter(|key| !key.starts_with("sync."))
            .map(|key| format!("unknown key `{key}` ignored (misspelt, or for a newer Palier?)"))
            .collect();
        Ok(LoadedConfig { config, warnings })
    }

    /// Checks what the types cannot: counts, uniqueness, sizes, the time zone.
    pub fn check(&self) -> Result<(), String> {
        if self.screens.is_empty() || self.screens.len() > 3 {
            return Err(format!(
                "{} [[screen]] sections; a board drives 1 to 3 screens, each with a name and a role",
                self.screens.len()
            ));
        }
        let mut names = HashSet::new();
        for screen in &self.screens {
            if screen.name.is_empty() || !names.insert(screen.name.as_str()) {
                return Err(format!(
                    "screen name {:?} is empty or used twice; give each screen its own name",
                    screen.name
                ));
            }
            check_role(&screen.role).map_err(|e| format!("screen {}: {e}", screen.name))?;
            for (what, value) in [("width", screen.width), ("height", screen.height)] {
                if !(64..=8192).contains(&value) {
                    return Err(format!(
                        "screen {}: {what} {value} is outside 64..=8192 pixels",
                        screen.name
                    ));
                }
            }
            if screen.channels.is_empty() {
                return Err(format!(
                    "screen {}: channels is empty; list at least one of building, neighbourhood, shops",
                    screen.name
                ));
            }
        }
        jiff::tz::TimeZone::get(&self.time_zone).map_err(|_| {
            format!("time_zone {:?} is unknown; use an IANA name such as Europe/Paris", self.time_zone)
        })?;
        if let Some(night) = &self.player.night
            && !(0.0..=1.0).contains(&night.brightness)
        {
            return Err(format!("player.night.brightness {} is outside 0.0..=1.0", night.brightness));
        }
        if self.player.cache_poll_ms < 100 || self.player.cache_poll_ms > 10_000 {
            return Err(format!("player.cache_poll_ms {} is outside 100..=10000", self.player.cache_poll_ms));
        }
        Ok(())
    }
}

/// A screen role: lowercase ASCII words joined by '-', e.g. `lobby-left`.
pub fn check_role(role: &str) -> Result<(), String> {
    let ok = !role.is_empty()
        && role.len() <= MAX_ROLE_CHARS
        && role.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!("role {role:?} must be 1–{MAX_ROLE_CHARS} characters of a–z, 0–9 and '-'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOBBY: &str = r#"
        data_dir = "/tmp/palier"
        building_name = "Résidence Les Tilleuls"

        [[screen]]
        name = "lift"
        role = "lift"
        width = 1920
        height = 1080
        rotation = 90
        output = "HDMI-A-1"

        [[screen]]
        name = "hall"
        role = "lobby-centre"
        channels = ["building", "shops"]
        output = 1
        colour = "blue"

        [player]
        crossfade_ms = 400
        night = { from = "22:00", to = "06:30", brightness = 0.4 }

        [sync]
        platform_url = "http://127.0.0.1:8080"
    "#;

    #[test]
    fn a_full_file_parses_with_defaults_and_warnings() {
        let loaded = BoardConfig::parse(LOBBY, Path::new("palier.toml")).unwrap();
        let config = loaded.config;
        assert_eq!(config.screens.len(), 2);
        assert_eq!(config.screens[0].content_size(), (1080, 1920), "rotated to portrait");
        assert_eq!(config.screens[0].output, Some(Output::Name("HDMI-A-1".into())));
        assert_eq!(config.screens[1].output, Some(Output::Index(1)));
        assert_eq!(config.screens[1].channels, vec![Channel::Building, Channel::Shops]);
        assert_eq!(config.screens[1].content_size(), (1920, 1080));
        assert_eq!(config.player.crossfade_ms, 400);
        assert_eq!(config.player.cache_poll_ms, 500);
        assert_eq!(config.time_zone, "Europe/Paris");
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("screen.1.colour"), "{:?}", loaded.warnings);
    }

    #[test]
    fn the_documented_example_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/palier.example.toml");
        let loaded = BoardConfig::load(&path).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.config.screens[0].content_size(), (1080, 1920));
    }

    #[test]
    fn bad_files_name_the_key_and_the_fix() {
        let screen = "[[screen]]\nname = \"lift\"\nrole = \"lift\"\n";
        let cases = [
            ("data_dir = 3", "data_dir"),
            ("", "1 to 3 screens"),
            (&format!("{screen}rotation = 45"), "rotation 45"),
            (&format!("{screen}{screen}"), "used twice"),
            (&format!("{screen}width = 10"), "width 10"),
            ("[[screen]]\nname = \"a\"\nrole = \"Lift\"", "role"),
            (&format!("time_zone = \"Lyon\"\n{screen}"), "time_zone"),
            (&format!("{screen}channels = []"), "channels"),
            (&format!("{screen}channels = [\"cinema\"]"), "cinema"),
            (&format!("[player]\ncache_poll_ms = 1\n{screen}"), "cache_poll_ms"),
            ("[[screen", "palier.toml"),
        ];
        for (text, needle) in cases {
            let err = BoardConfig::parse(text, Path::new("palier.toml")).unwrap_err().to_string();
            assert!(err.contains(needle) && err.contains("palier.toml"), "{text:?}: {err}");
        }
    }
}
