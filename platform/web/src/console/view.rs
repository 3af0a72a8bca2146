//! How the console says things: instants in the building's time and language, durations,
//! sizes, and the names of roles, kinds and item states.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use palier_content::Kind;

use super::text::Text;
use crate::moderation::Moderation;
use crate::rules::Role;
use crate::store::ItemRecord;

const DAYS_FR: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
const DAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS_FR: [&str; 12] =
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
const MONTHS_EN: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// « mar. 24 nov. 2026, 09:30 » / « Tue 24 Nov 2026, 09:30 », in the building's zone.
pub fn local(t: &Text, at: Timestamp, tz: &TimeZone) -> String {
    let zoned = at.to_zoned(tz.clone());
    let day = zoned.weekday().to_monday_zero_offset() as usize;
    let month = (zoned.month() - 1) as usize;
    let (days, months) = if t.lang == "fr" { (DAYS_FR, MONTHS_FR) } else { (DAYS_EN, MONTHS_EN) };
    format!(
        "{} {} {} {}, {:02}:{:02}",
        days[day],
        zoned.day(),
        months[month],
        zoned.year(),
        zoned.hour(),
        zoned.minute()
    )
}

/// The value of a `datetime-local` field for an instant in the building's zone.
pub fn local_input(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M").to_string()
}

/// An instant from a `datetime-local` field, in the building's zone (DST-correct: a time the
/// spring change skips resolves to the instant after the gap; an autumn one to the first).
pub fn parse_local_input(text: &str, tz: &TimeZone) -> Option<Timestamp> {
    let civil: jiff::civil::DateTime = text.trim().parse().ok()?;
    civil.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// « 3 min », « 2 h », « 5 j » for the time from `then` to `now`.
pub fn span(t: &Text, now: Timestamp, then: Timestamp) -> String {
    let secs = now.duration_since(then).as_secs().max(0);
    let day = if t.lang == "fr" { "j" } else { "d" };
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} {day}", s / 86_400),
    }
}

/// « 4,2 Gio » / « 4.2 GiB ».
pub fn bytes(t: &Text, n: u64) -> String {
    let (units, comma) = if t.lang == "fr" {
        (["o", "Kio", "Mio", "Gio", "Tio"], true)
    } else {
        (["B", "KiB", "MiB", "GiB", "TiB"], false)
    };
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let number = if unit == 0 { format!("{n}") } else { format!("{value:.1}") };
    let number = if comma { number.replace('.', ",") } else { number };
    format!("{number} {}", units[unit])
}

pub fn role_name(t: &Text, role: Role) -> &'static str {
    match role {
        Role::Landlord => t.role_landlord,
        Role::Caretaker => t.role_caretaker,
        Role::Shop => t.role_shop,
        Role::Neighbourhood => t.role_neighbourhood,
        Role::Moderator => t.role_moderator,
        Role::Admin => t.role_admin,
        Role::Lift => t.role_lift,
        Role::Feed => t.role_feed,
    }
}

pub fn kind_name(t: &Text, kind: Kind) -> &'static str {
    match kind {
        Kind::Flash => t.kind_flash,
        Kind::Offer => t.kind_offer,
        Kind::Promo => t.kind_promo,
        Kind::Event => t.kind_event,
        Kind::News => t.kind_news,
    }
}

/// Where an item stands now, for the items page's filter and badges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    Live,
    Scheduled,
    Expired,
    Withdrawn,
    Pending,
    Rejected,
}

impl ItemState {
    pub const ALL: [ItemState; 6] = [
        ItemState::Live,
        ItemState::Scheduled,
        ItemState::Pending,
        ItemState::Rejected,
        ItemState::Expired,
        ItemState::Withdrawn,
    ];

    pub fn of(record: &ItemRecord, now: Timestamp) -> ItemState {
        if record.is_withdrawn() {
            // Expiry withdraws too; it reads as ended.
            return match &record.withdrawn {
                Some((_, reason)) if reason == "expired" => ItemState::Expired,
                _ => ItemState::Withdrawn,
            };
        }
        match record.moderation {
            Moderation::Pending => return ItemState::Pending,
            Moderation::Rejected { .. } => return ItemState::Rejected,
            Moderation::Approved => {}
        }
        if now >= record.item.valid_until {
            ItemState::Expired
        } else if now < record.item.valid_from {
            ItemState::Scheduled
        } else {
            ItemState::Live
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Live => "live",
            ItemState::Scheduled => "scheduled",
            ItemState::Expired => "expired",
            ItemState::Withdrawn => "withdrawn",
            ItemState::Pending => "pending",
            ItemState::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<ItemState> {
        ItemState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn name(self, t: &Text) -> &'static str {
        match self {
            ItemState::Live => t.live,
            ItemState::Scheduled => t.scheduled,
            ItemState::Expired => t.expired,
            ItemState::Withdrawn => t.withdrawn,
            ItemState::Pending => t.pending,
            ItemState::Rejected => t.rejected,
        }
    }
}

/// The author to show for an item: a neighbour's first name only, else nothing.
pub fn author(record: &ItemRecord) -> String {
    match &record.item.details {
        palier_content::Details::Offer(offer) => offer.author_first_name.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::text::{EN, FR};

    #[test]
    fn instants_in_the_buildings_zone_and_language() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let at: Timestamp = "2026-11-24T08:30:00Z".parse().unwrap();
        assert_eq!(local(&FR, at, &paris), "mar. 24 nov. 2026, 09:30");
        assert_eq!(local(&EN, at, &paris), "Tue 24 Nov 2026, 09:30");
        assert_eq!(local_input(at, &paris), "2026-11-24T09:30");
        assert_eq!(parse_local_input("2026-11-24T09:30", &paris), Some(at));
        // Summer time: 09:30 in Paris is 07:30 UTC in July.
        assert_eq!(
            parse_local_input("2026-07-01T09:30", &paris),
            Some("2026-07-01T07:30:00Z".parse().unwrap())
        );
        // 02:30 on 29 March 2026 does not exist in Paris: the instant after the gap.
        assert_eq!(
            parse_local_input("2026-03-29T02:30", &paris),
            Some("2026-03-29T01:30:00Z".parse().unwrap())
        );
        assert_eq!(parse_local_input("demain", &paris), None);
        assert_eq!(span(&FR, at, at - jiff::SignedDuration::from_mins(3)), "3 min");
        assert_eq!(span(&FR, at, at - jiff::SignedDuration::from_hours(72)), "3 j");
        assert_eq!(bytes(&FR, 4_509_715_660), "4,2 Gio");
        assert_eq!(bytes(&EN, 512), "512 B");
    }
}
