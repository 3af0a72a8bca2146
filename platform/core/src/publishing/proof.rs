//! Proof of play: on which screens of its buildings an item was shown, how often, from when
//! to when, and for each screen that has not shown it, why (offline since…, not targeted,
//! outside its hours…). Computed from the plays and heartbeats boards uploaded, never
//! invented; a pure function, so it is tested without a database.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::ids::{BuildingId, DeviceId};
use crate::moderation::Moderation;
use crate::store::{DeviceReport, ItemPlays, ItemRecord};

/// A board that has not been heard of for this long is offline (it sends a heartbeat every
/// five minutes by default, and polls more often).
pub const OFFLINE_AFTER: SignedDuration = SignedDuration::from_mins(11);

/// Whether a board reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Presence {
    Online {
        last_contact: Timestamp,
    },
    Offline {
        since: Timestamp,
    },
    /// Enrolled, never heard of since.
    Silent,
}

/// When the board was last heard of: its last heartbeat or request, whichever is later.
pub fn presence(report: &DeviceReport, now: Timestamp) -> Presence {
    let heartbeat = report.heartbeat.as_ref().map(|(at, _)| *at);
    let last = match (heartbeat, report.device.last_seen) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    match last {
        None => Presence::Silent,
        Some(last) if now.duration_since(last) <= OFFLINE_AFTER => Presence::Online { last_contact: last },
        Some(last) => Presence::Offline { since: last },
    }
}

/// A board of one of the item's buildings, with what the proof needs around it.
#[derive(Debug, Clone)]
pub struct DeviceView {
    pub report: DeviceReport,
    /// The building's manifest generation now.
    pub current_generation: u64,
    pub tz: TimeZone,
}

/// Why a screen has not shown the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotShown {
    Withdrawn,
    WaitingForModeration,
    Rejected,
    /// The item names screen roles, and this screen's is not one of them.
    NotTargeted,
    NotYetValid {
        from: Timestamp,
    },
    Expired,
    Offline {
        since: Timestamp,
    },
    /// Never heard of since it was enrolled.
    Silent,
    /// Its cache is behind the building's current generation.
    NotSynced {
        device_generation: u64,
        current_generation: u64,
    },
    /// Its schedule does not allow now.
    OutsideHours,
    /// Everything is in place: it shows at its turn in the rotation.
    WaitingForItsTurn,
}

/// One screen's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScreenProof {
    pub device_id: DeviceId,
    pub device_name: String,
    pub building_id: BuildingId,
    pub screen: String,
    pub role: String,
    pub showings: u64,
    pub seconds: u64,
    pub first_shown: Option<Timestamp>,
    pub last_shown: Option<Timestamp>,
    /// `None` when it was shown.
    pub not_shown: Option<NotShown>,
}

/// The proof of play of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofOfPlay {
    pub showings: u64,
    pub seconds: u64,
    pub screens_shown: usize,
    pub screens: Vec<ScreenProof>,
    pub first_shown: Option<Timestamp>,
    pub last_shown: Option<Timestamp>,
}

/// Puts the plays and the boards together.
pub fn prove(record: &ItemRecord, plays: &ItemPlays, devices: &[DeviceView], now: Timestamp) -> ProofOfPlay {
    let mut screens = Vec::new();
    for view in devices {
        let device = &view.report.device;
        // The screens the board reports; before its first heartbeat, one per role.
        let reported: Vec<(String, String)> = match &view.report.heartbeat {
            Some((_, beat)) if !beat.screens.is_empty() => {
                beat.screens.iter().map(|s| (s.screen.clone(), s.role.clone())).collect()
            }
            _ => device.roles.iter().map(|r| (r.clone(), r.clone())).collect(),
        };
        for (screen, role) in reported {
            let shown = plays.screens.iter().find(|p| p.device_id == device.id && p.screen == screen);
            let not_shown = match shown {
                Some(_) => None,
                None => Some(why_not(record, view, &role, now)),
            };
            screens.push(ScreenProof {
                device_id: device.id.clone(),
                device_name: device.name.clone(),
                building_id: device.building_id.clone(),
                screen,
                role,
                showings: shown.map_or(0, |p| p.count),
                seconds: shown.map_or(0, |p| p.total_duration_ms / 1000),
                first_shown: shown.map(|p| p.first_shown),
                last_shown: shown.map(|p| p.last_shown),
                not_shown,
            });
        }
    }
    // Plays of screens no current board reports (a board since revoked) still count.
    ProofOfPlay {
        showings: plays.total,
        seconds: plays.screens.iter().map(|s| s.total_duration_ms / 1000).sum(),
        screens_shown: screens.iter().filter(|s| s.not_shown.is_none()).count(),
        first_shown: plays.screens.iter().map(|s| s.first_shown).min(),
        last_shown: plays.screens.iter().map(|s| s.last_shown).max(),
        screens,
    }
}

fn why_not(record: &ItemRecord, view: &DeviceView, role: &str, now: Timestamp) -> NotShown {
    let item = &record.item;
    if record.is_withdrawn() {
        return NotShown::Withdrawn;
    }
    match record.moderation {
        Moderation::Pending => return NotShown::WaitingForModeration,
        Moderation::Rejected { .. } => return NotShown::Rejected,
        Moderation::Approved => {}
    }
    if !item.roles.is_empty() && !item.roles.iter().any(|r| r == role) {
        return NotShown::NotTargeted;
    }
    if now < item.valid_from {
        return NotShown::NotYetValid { from: item.valid_from };
    }
    if now >= item.valid_until {
        return NotShown::Expired;
    }
    match presence(&view.report, now) {
        Presence::Offline { since } => return NotShown::Offline { since },
        Presence::Silent => return NotShown::Silent,
        Presence::Online { .. } => {}
    }
    if let Some((_, beat)) = &view.report.heartbeat
        && beat.generation < view.current_generation
    {
        return NotShown::NotSynced {
            device_generation: beat.generation,
            current_generation: view.current_generation,
        };
    }
    if item.schedule.as_ref().is_some_and(|schedule| !schedule.allows(now, &view.tz)) {
        return NotShown::OutsideHours;
    }
    NotShown::WaitingForItsTurn
}

#[cfg(test)]
mod tests {
    use jiff::ToSpan;
    use palier_content::sample;
    use palier_content::wire::Heartbeat;

    use super::*;
    use crate::ids::{ItemId, PublisherId};
    use crate::store::{Device, ScreenPlays};

    fn device(id: &str, roles: &[&str], last_seen: Option<Timestamp>) -> Device {
        Device {
            id: DeviceId::parse(id).unwrap(),
            name: id.into(),
            building_id: BuildingId::parse("bld-a").unwrap(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            generation: 1,
            software_version: "0.1.0".into(),
            enrolled_at: Timestamp::UNIX_EPOCH,
            last_seen,
            revoked_at: None,
        }
    }

    fn beat(generation: u64) -> Heartbeat {
        serde_json::from_value(serde_json::json!({
            "sent_at": null, "software_version": "0.1.0", "generation": generation, "last_sync_at": null,
            "free_disk_bytes": 1, "clock": {"trusted": true}
        }))
        .unwrap()
    }

    fn view(device: Device, heartbeat: Option<(Timestamp, Heartbeat)>) -> DeviceView {
        DeviceView { report: DeviceReport { device, heartbeat }, current_generation: 10, tz: TimeZone::UTC }
    }

    #[test]
    fn each_screen_is_shown_or_says_why_not() {
        let now = sample::now();
        let mut item = sample::flash("f", palier_content::Severity::Info);
        item.roles = vec!["lift".into(), "lobby-left".into()];
        let record = ItemRecord {
            id: ItemId::parse("f").unwrap(),
            version: 1,
            publisher_id: PublisherId::parse("pub-1").unwrap(),
            person_id: None,
            withdrawn: None,
            buildings: vec![BuildingId::parse("bld-a").unwrap()],
            areas: Vec::new(),
            reach: vec![BuildingId::parse("bld-a").unwrap()],
            moderation: Moderation::Approved,
            item,
            created_at: now,
            updated_at: now,
        };
        let fresh = Some(now - 1.minute());
        let views = vec![
            view(device("dev-lift", &["lift"], fresh), Some((now - 1.minute(), beat(10)))),
            view(
                device("dev-lobby", &["lobby-left", "lobby-right"], fresh),
                Some((now - 1.minute(), beat(10))),
            ),
            view(device("dev-gone", &["lift"], Some(now - 2.hours())), Some((now - 2.hours(), beat(10)))),
            view(device("dev-late", &["lift"], fresh), Some((now - 1.minute(), beat(9)))),
            view(device("dev-new", &["lift"], None), None),
        ];
        let plays = ItemPlays {
            item_id: record.id.clone(),
            total: 4,
            screens: vec![ScreenPlays {
                device_id: DeviceId::parse("dev-lift").unwrap(),
                device_name: "dev-lift".into(),
                building_id: BuildingId::parse("bld-a").unwrap(),
                screen: "lift".into(),
                count: 4,
                total_duration_ms: 40_000,
                first_shown: now - 1.hour(),
                last_shown: now - 5.minutes(),
            }],
            plays: Vec::new(),
            truncated: false,
        };
        let proof = prove(&record, &plays, &views, now);
        let lines: Vec<(&str, &str, Option<NotShown>)> = proof
            .screens
            .iter()
            .map(|s| (s.device_id.as_str(), s.screen.as_str(), s.not_shown.clone()))
            .collect();
        assert_eq!(
            lines,
            [
                ("dev-lift", "lift", None),
                ("dev-lobby", "lobby-left", Some(NotShown::WaitingForItsTurn)),
                ("dev-lobby", "lobby-right", Some(NotShown::NotTargeted)),
                ("dev-gone", "lift", Some(NotShown::Offline { since: now - 2.hours() })),
                (
                    "dev-late",
                    "lift",
                    Some(NotShown::NotSynced { device_generation: 9, current_generation: 10 })
                ),
                ("dev-new", "lift", Some(NotShown::Silent)),
            ]
        );
        assert_eq!((proof.showings, proof.seconds, proof.screens_shown), (4, 40, 1));
        assert_eq!(proof.first_shown, Some(now - 1.hour()));

        let mut pending = record.clone();
        pending.moderation = Moderation::Pending;
        let proof = prove(&pending, &plays, &views[1..2], now);
        assert_eq!(proof.screens[0].not_shown, Some(NotShown::WaitingForModeration));
        let mut scheduled = record.clone();
        scheduled.item.schedule = Some(palier_content::Schedule {
            weekdays: vec![palier_content::Weekday::Sun],
            hours: Vec::new(),
        });
        assert_eq!(
            prove(&scheduled, &plays, &views[1..2], now).screens[0].not_shown,
            Some(NotShown::OutsideHours)
        );
        assert_eq!(
            prove(&record, &plays, &views[1..2], record.item.valid_until).screens[0].not_shown,
            Some(NotShown::Expired)
        );
    }
}
