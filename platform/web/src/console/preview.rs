//! Exact previews: the platform asks the player's own renderer what a screen shows.
//!
//! The platform never links the player. For a draft or for a board's manifest at an instant,
//! it writes what a board would hold into a temporary directory (a content cache with the
//! building and its items, the pictures, a board file with the screens) and runs
//! `palier-player --config … render --screen … --at … --out …` (the path comes from
//! `player` in `platform.toml`). The playlist is a pure function of content and time, so the
//! picture is the one the screen shows. Renders run one at a time (software rendering uses
//! whole cores) and each has a time limit; a platform without a renderer says so.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use palier_content::config::{BoardConfig, Rotation, ScreenConfig};
use palier_content::wire::{Manifest, PROTOCOL_VERSION};
use palier_content::{Building, Cache, Channel, DataDir};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::media::MediaFiles;

/// The longest one render may take.
const RENDER_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a preview could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error("no renderer is configured (player in platform.toml)")]
    NoRenderer,
    #[error("{0}")]
    Content(String),
    #[error("the renderer failed: {0}")]
    Renderer(String),
}

/// A screen to draw, as a board file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewScreen {
    pub name: String,
    pub role: String,
    pub width: u32,
    pub height: u32,
    pub rotation: Rotation,
    pub channels: Vec<Channel>,
}

impl PreviewScreen {
    /// The portrait screen behind a lift mirror.
    pub fn lift() -> PreviewScreen {
        PreviewScreen {
            name: "lift".into(),
            role: "lift".into(),
            width: 1080,
            height: 1920,
            rotation: Rotation::R0,
            channels: Channel::ALL.to_vec(),
        }
    }

    /// A landscape screen of the entrance hall.
    pub fn lobby() -> PreviewScreen {
        PreviewScreen {
            name: "lobby".into(),
            role: "lobby-centre".into(),
            width: 1920,
            height: 1080,
            rotation: Rotation::R0,
            channels: Channel::ALL.to_vec(),
        }
    }

    fn config(&self) -> ScreenConfig {
        ScreenConfig {
            name: self.name.clone(),
            role: self.role.clone(),
            channels: self.channels.clone(),
            width: self.width,
            height: self.height,
            rotation: self.rotation,
            output: None,
            max_per_origin: palier_content::config::DEFAULT_MAX_PER_ORIGIN,
        }
    }
}

/// What to draw: a building, its items as boards receive them, and the screens.
#[derive(Debug, Clone)]
pub struct PreviewRequest {
    pub building: Building,
    pub roles: Vec<String>,
    pub items: Vec<Value>,
    pub screens: Vec<PreviewScreen>,
    pub at: Timestamp,
}

/// Runs the player's renderer.
#[derive(Debug, Clone)]
pub struct Renderer {
    player: Option<PathBuf>,
    media: MediaFiles,
    one_at_a_time: Arc<Semaphore>,
}

impl Renderer {
    pub fn new(player: Option<PathBuf>, media: MediaFiles) -> Renderer {
        Renderer { player, media, one_at_a_time: Arc::new(Semaphore::new(1)) }
    }

    pub fn configured(&self) -> bool {
        self.player.is_some()
    }

    /// PNG bytes of each screen, in the request's order.
    pub async fn render(&self, request: PreviewRequest) -> Result<Vec<Vec<u8>>, PreviewError> {
        let player = self.player.clone().ok_or(PreviewError::NoRenderer)?;
        let _permit =
            self.one_at_a_time.acquire().await.map_err(|e| PreviewError::Renderer(e.to_string()))?;
        let dir = tempfile::Builder::new()
            .prefix("palier-preview-")
            .tempdir()
            .map_err(|e| PreviewError::Renderer(format!("a temporary directory: {e}")))?;
        let media_dir = DataDir::new(dir.path().join("data")).media();
        tokio::fs::create_dir_all(&media_dir)
            .await
            .map_err(|e| PreviewError::Renderer(format!("the preview's media directory: {e}")))?;
        // The pictures the items name, where the player will look for them (an address that
        // does not read is left to the manifest's validation below, which names it).
        let mut pictures: Vec<String> = Vec::new();
        for item in &request.items {
            let listed = item.get("media").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            pictures.extend(
                listed.iter().filter_map(|p| p.get("sha256").and_then(Value::as_str)).map(str::to_owned),
            );
        }
        for sha256 in pictures.iter().map(String::as_str) {
            let target = media_dir.join(sha256);
            if crate::ids::MediaAddress::parse(sha256).is_ok() && !target.exists() {
                self.media
                    .copy_to(sha256, &target)
                    .await
                    .map_err(|e| PreviewError::Renderer(format!("picture {sha256}: {e}")))?;
            }
        }
        let config = {
            let dir = dir.path().to_path_buf();
            let request = request.clone();
            tokio::task::spawn_blocking(move || board(&dir, &request))
                .await
                .map_err(|e| PreviewError::Renderer(e.to_string()))??
        };
        let mut pictures = Vec::new();
        for screen in &request.screens {
            let out = dir.path().join(format!("{}.png", screen.name));
            let run = tokio::process::Command::new(&player)
                .arg("--config")
                .arg(&config)
                .args(["render", "--screen", &screen.name, "--at", &request.at.to_string(), "--out"])
                .arg(&out)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .output();
            let output = tokio::time::timeout(RENDER_TIMEOUT, run)
                .await
                .map_err(|_| {
                    PreviewError::Renderer(format!("no picture after {} s", RENDER_TIMEOUT.as_secs()))
                })?
                .map_err(|e| PreviewError::Renderer(format!("{}: {e}", player.display())))?;
            if !output.status.success() {
                let stderr = String::from_utf8_lossy(&output.stderr);
                let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
                return Err(PreviewError::Renderer(last.to_owned()));
            }
            pictures.push(
                tokio::fs::read(&out)
                    .await
                    .map_err(|e| PreviewError::Renderer(format!("{}: {e}", out.display())))?,
            );
        }
        Ok(pictures)
    }
}

/// Writes what a board would hold into `dir`; returns its board file.
fn board(dir: &Path, request: &PreviewRequest) -> Result<PathBuf, PreviewError> {
    let io = |what: &str, e: &dyn std::fmt::Display| PreviewError::Renderer(format!("{what}: {e}"));
    let data = DataDir::new(dir.join("data"));
    std::fs::create_dir_all(data.media()).map_err(|e| io("the preview's media directory", &e))?;
    let manifest = Manifest {
        protocol: PROTOCOL_VERSION,
        device_id: "preview".into(),
        generation: 1,
        issued_at: request.at,
        expires_at: request.at + SignedDuration::from_hours(24),
        building: request.building.clone(),
        roles: request.roles.clone(),
        items: request.items.clone(),
        system_update: None,
    };
    let validated =
        palier_content::validate_manifest(manifest).map_err(|e| PreviewError::Content(e.to_string()))?;
    if let Some(refused) = validated.quarantined.first() {
        return Err(PreviewError::Content(format!("{}: {}", refused.id, refused.reason)));
    }
    // The items arrived a second before the instant drawn: the screen as it shows them once
    // they are there (an urgent flash preempts from its arrival).
    let arrival = request.at - SignedDuration::from_secs(1);
    let mut cache = Cache::open(&data.cache()).map_err(|e| io("the preview's cache", &e))?;
    cache.apply(&validated, arrival).map_err(|e| io("the preview's cache", &e))?;
    drop(cache);
    let config = BoardConfig {
        data_dir: data.path().to_path_buf(),
        building_name: Some(request.building.name.clone()),
        time_zone: request.building.time_zone.clone(),
        screens: request.screens.iter().map(PreviewScreen::config).collect(),
        player: Default::default(),
        sync: Default::default(),
    };
    let path = dir.join("palier.toml");
    let text = toml::to_string(&config).map_err(|e| io("the preview's board file", &e))?;
    std::fs::write(&path, text).map_err(|e| io("the preview's board file", &e))?;
    Ok(path)
}
