//! The screens page: for each board of a building, whether it reports (online, or offline
//! since when: a board that stopped reporting is never shown as fine), its content
//! generation against the building's, its clock, its free disk, what it set aside and why,
//! and for each screen the item it reported showing, beside a picture of that screen now
//! drawn from the board's own manifest by the player's renderer.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use palier_content::Channel;
use palier_content::config::Rotation;

use super::items::{building, tz};
use super::page::{ConsoleError, Page, enc, html};
use super::preview::{PreviewError, PreviewRequest, PreviewScreen};
use super::session::Signed;
use super::text::{Text, fill};
use super::view;
use crate::console::ConsoleState;
use crate::ids::{BuildingId, DeviceId};
use crate::publishing::proof::{Presence, presence};
use crate::store::DeviceReport;

struct ScreenLine {
    name: String,
    role: String,
    showing: String,
    since: String,
    thumbnail: String,
    alt: String,
    portrait: bool,
}

struct DeviceCard {
    name: String,
    id: String,
    status: String,
    healthy: bool,
    stale: Option<String>,
    generation: String,
    behind: bool,
    clock: String,
    clock_ok: bool,
    disk: String,
    software: String,
    quarantined: Vec<(String, String)>,
    screens: Vec<ScreenLine>,
    no_report: bool,
}

#[derive(Template)]
#[template(path = "screens.html")]
struct ScreensTemplate {
    page: Page,
    building_id: String,
    devices: Vec<DeviceCard>,
    renderer: bool,
}

/// The screens a board reports; before its first heartbeat, one per role.
fn displays(report: &DeviceReport) -> Vec<PreviewScreen> {
    if let Some((_, beat)) = &report.heartbeat
        && !beat.displays.is_empty()
    {
        return beat
            .displays
            .iter()
            .map(|d| PreviewScreen {
                name: d.name.clone(),
                role: d.role.clone(),
                width: d.width,
                height: d.height,
                rotation: d.rotation,
                channels: d.channels.clone(),
            })
            .collect();
    }
    let names: Vec<(String, String)> = match &report.heartbeat {
        Some((_, beat)) if !beat.screens.is_empty() => {
            beat.screens.iter().map(|s| (s.screen.clone(), s.role.clone())).collect()
        }
        _ => report.device.roles.iter().map(|r| (r.clone(), r.clone())).collect(),
    };
    names
        .into_iter()
        .map(|(name, role)| {
            let base = if role.contains("lift") { PreviewScreen::lift() } else { PreviewScreen::lobby() };
            PreviewScreen { name, role, rotation: Rotation::R0, channels: Channel::ALL.to_vec(), ..base }
        })
        .collect()
}

fn card(
    t: &Text,
    report: &DeviceReport,
    building_id: &str,
    current: u64,
    titles: &HashMap<String, String>,
    tz: &TimeZone,
    now: jiff::Timestamp,
) -> DeviceCard {
    let device = &report.device;
    let (status, healthy, stale) = match presence(report, now) {
        Presence::Online { last_contact } => {
            (fill(t.online, &[&fill(t.last_heard, &[&view::span(t, now, last_contact)])]), true, None)
        }
        Presence::Offline { since } => {
            let when = view::local(t, since, tz);
            (fill(t.offline_since, &[&when]), false, Some(fill(t.stale_banner, &[&when])))
        }
        Presence::Silent => (t.silent.to_owned(), false, None),
    };
    let beat = report.heartbeat.as_ref().map(|(_, beat)| beat);
    let (generation, behind) = match beat {
        Some(beat) if beat.generation >= current => (fill(t.synced, &[&beat.generation.to_string()]), false),
        Some(beat) => (fill(t.behind, &[&beat.generation.to_string(), &current.to_string()]), true),
        None => (String::new(), false),
    };
    let clock_ok = beat.is_some_and(|b| b.clock.trusted);
    let clock = match beat {
        Some(b) if b.clock.trusted => match b.clock.skew_ms {
            Some(ms) => format!("{} ({ms:+} ms)", t.clock_ok),
            None => t.clock_ok.to_owned(),
        },
        Some(_) => t.clock_bad.to_owned(),
        None => String::new(),
    };
    let screens = displays(report)
        .into_iter()
        .map(|screen| {
            let status = beat.and_then(|b| b.screens.iter().find(|s| s.screen == screen.name));
            let showing = match status {
                Some(s) if s.item_id.is_empty() => t.fallback_slide.to_owned(),
                Some(s) => titles.get(&s.item_id).cloned().unwrap_or_else(|| s.item_id.clone()),
                None => String::new(),
            };
            ScreenLine {
                thumbnail: format!("/b/{building_id}/screens/{}/{}", device.id, enc(&screen.name)),
                alt: fill(t.thumbnail_alt, &[&screen.name]),
                portrait: screen.height > screen.width
                    || matches!(screen.rotation, Rotation::R90 | Rotation::R270),
                showing: if showing.is_empty() { String::new() } else { fill(t.showing_now, &[&showing]) },
                since: status.map(|s| fill(t.since, &[&view::local(t, s.since, tz)])).unwrap_or_default(),
                name: screen.name,
                role: screen.role,
            }
        })
        .collect();
    DeviceCard {
        name: device.name.clone(),
        id: device.id.to_string(),
        status,
        healthy,
        stale,
        generation,
        behind,
        clock,
        clock_ok,
        disk: beat.map(|b| fill(t.free_disk, &[&view::bytes(t, b.free_disk_bytes)])).unwrap_or_default(),
        software: beat.map(|b| fill(t.software, &[&b.software_version])).unwrap_or_default(),
        quarantined: beat
            .map(|b| b.quarantined.iter().map(|q| (q.id.clone(), q.reason.clone())).collect())
            .unwrap_or_default(),
        screens,
        no_report: beat.is_none(),
    }
}

/// `GET /b/{building}/screens`.
pub async fn screens_page(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(building_id): Path<String>,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let building = building(&state, &signed, &building_id).await?;
    let tz = tz(&building);
    let id = BuildingId::parse(&building.id).map_err(ConsoleError::Internal)?;
    let screens = state.publishing().screens(&signed.actor, &id).await?;
    let now = state.now();
    let devices = screens
        .boards
        .iter()
        .map(|r| card(t, r, &building.id, screens.generation, &screens.titles, &tz, now))
        .collect();
    let path = format!("/b/{}/screens", building.id);
    let page = Page::signed(&signed, fill(t.screens_title, &[&building.name]), &path);
    html(&ScreensTemplate {
        page,
        building_id: building.id.clone(),
        devices,
        renderer: state.renderer().configured(),
    })
}

/// `GET /b/{building}/screens/{device}/{screen}`: what the screen shows now, as a PNG drawn
/// from the board's own manifest.
pub async fn thumbnail(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path((building_id, device_id, screen)): Path<(String, String, String)>,
) -> Result<Response, ConsoleError> {
    let building = building(&state, &signed, &building_id).await?;
    let missing = || ConsoleError::NotFound(format!("no screen {screen} on board {device_id}"));
    let device_id = DeviceId::parse(&device_id).map_err(|_| missing())?;
    let id = BuildingId::parse(&building.id).map_err(ConsoleError::Internal)?;
    let (report, device_manifest) =
        state.publishing().board_now(&signed.actor, &id, &device_id).await?.ok_or_else(missing)?;
    let display = displays(&report).into_iter().find(|d| d.name == screen).ok_or_else(missing)?;
    let now = state.now();
    let key = (device_id.to_string(), screen.clone(), device_manifest.generation);
    let png = match state.thumbnails().get(&key) {
        Some(png) => png,
        None => {
            let request = PreviewRequest {
                building,
                roles: report.device.roles.clone(),
                items: device_manifest.items,
                screens: vec![display],
                at: now,
            };
            let png = state
                .renderer()
                .render(request)
                .await
                .map_err(|e| match e {
                    PreviewError::NoRenderer => ConsoleError::NotFound("no renderer is configured".into()),
                    other => ConsoleError::Internal(other.to_string()),
                })?
                .pop()
                .unwrap_or_default();
            state.thumbnails().put(key, png.clone());
            png
        }
    };
    Ok(([(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "private, max-age=30")], png).into_response())
}
