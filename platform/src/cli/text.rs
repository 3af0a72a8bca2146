//! What the command line prints: lists of areas, feeds, devices and releases as text, with
//! instants to the second and « 3 min ago ».

use std::fmt::Write as _;

use jiff::Timestamp;
use palier_content::system::UpdateState;

use crate::administration::{Rollout, scope_line};
use crate::ids::BuildingId;
use crate::releases::Audience;
use crate::store::{AreaEntry, DeviceReport, Feed};

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

/// `release list`: the releases, the assignments, and each board's version and update state.
pub fn render_rollout(rollout: &Rollout) -> String {
    let Rollout { releases, assignments, boards } = rollout;
    let mut out = String::new();
    if releases.is_empty() {
        out.push_str("no releases yet; `palier-platform release add --bundle FILE` stores one\n");
    }
    for r in releases {
        let _ = writeln!(
            out,
            "release {} for {}  {} bytes  sha256 {}  added {}",
            r.version,
            r.compatible,
            r.bytes,
            r.sha256,
            whole_seconds(r.created_at)
        );
    }
    for a in assignments {
        let who = match &a.audience {
            Audience::Device(d) => format!("device {d}"),
            Audience::Building(b) => format!("building {b}"),
            Audience::Fleet { percent } => format!("{percent} % of all boards"),
        };
        let downgrade = if a.allow_downgrade { " (downgrade allowed)" } else { "" };
        let _ = writeln!(
            out,
            "assigned: {who} → {}{downgrade}, since {}",
            a.version,
            whole_seconds(a.assigned_at)
        );
    }
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for (DeviceReport { device, heartbeat }, wanted) in boards {
        let system = heartbeat.as_ref().and_then(|(_, beat)| beat.system.clone());
        let line = match &system {
            None => "no system report (no update engine, or an older board)".to_owned(),
            Some(s) => {
                let update = &s.update;
                let mut line = format!(
                    "runs {} ({}{})",
                    s.version,
                    s.compatible,
                    s.slot.as_ref().map(|x| format!(", slot {x}")).unwrap_or_default()
                );
                if update.state != UpdateState::Idle || update.detail.is_some() {
                    let _ = write!(line, ", update {}", update.state.as_str());
                    if let Some(v) = &update.version {
                        let _ = write!(line, " {v}");
                    }
                    if let Some(d) = &update.detail {
                        let _ = write!(line, ": {d}");
                    }
                }
                *counts.entry(s.version.clone()).or_default() += 1;
                line
            }
        };
        let wanted = wanted.as_deref().unwrap_or("none");
        let seen = heartbeat.as_ref().map_or("never".to_owned(), |(at, _)| whole_seconds(*at).to_string());
        let _ = writeln!(
            out,
            "{}  {:?}  building {}  {line}; should run {wanted}; heard {seen}",
            device.id, device.name, device.building_id
        );
    }
    if !counts.is_empty() {
        let summary: Vec<String> = counts.iter().map(|(v, n)| format!("{n} on {v}")).collect();
        let _ = writeln!(out, "boards: {}", summary.join(", "));
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
