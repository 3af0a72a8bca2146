//! The content model: what the platform publishes for a building and what its screens show.
//!
//! These types are shared by every part of Palier (platform, sync daemon, player) and are also
//! the JSON shape of an item inside a manifest, so they cannot drift apart. Instants are UTC
//! (`jiff::Timestamp`); daily hours and weekdays are read in the building's time zone.

use jiff::Timestamp;
use jiff::civil::Time;
use serde::{Deserialize, Serialize};

/// One thing a screen can show: a landlord flash, a neighbour offer, a shop promotion, an
/// event or a piece of news. `id` is stable across versions; `version` grows on every edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub version: u64,
    pub channel: Channel,
    /// First instant the item may be shown.
    pub valid_from: Timestamp,
    /// The item leaves every screen at this instant, online or not.
    pub valid_until: Timestamp,
    /// Optional weekly schedule (e.g. a shop's opening hours) in the building's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// Relative share of airtime (1 = normal).
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// How long one showing lasts; when absent the player derives it from the reading time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<u32>,
    /// Screen roles that show the item (`lift`, `lobby-left`, ...); empty means every screen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// BCP 47 language of the text, e.g. `fr`.
    #[serde(default = "default_lang")]
    pub lang: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    /// Pictures, the first one being the main photo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaRef>,
    /// Where a phone lands after scanning the slide's QR code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The organisation behind the item as screens name it: the lift company, the city's
    /// agenda. Shown on the slide, and a screen caps how many items of one origin it rotates
    /// at once. Protocol addition (v1, optional): absent from older platforms' items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(flatten)]
    pub details: Details,
}

fn default_weight() -> u32 {
    1
}

fn default_lang() -> String {
    "fr".to_owned()
}

impl Item {
    /// The item's kind as written on the wire.
    pub fn kind(&self) -> Kind {
        match self.details {
            Details::Flash(_) => Kind::Flash,
            Details::Offer(_) => Kind::Offer,
            Details::Promo(_) => Kind::Promo,
            Details::Event(_) => Kind::Event,
            Details::News(_) => Kind::News,
        }
    }

    /// True for a flash of severity `urgent`, which preempts the rotation.
    pub fn is_urgent(&self) -> bool {
        matches!(&self.details, Details::Flash(f) if f.severity == Severity::Urgent)
    }

    /// True when `at` lies inside `[valid_from, valid_until)`.
    pub fn is_valid_at(&self, at: Timestamp) -> bool {
        self.valid_from <= at && at < self.valid_until
    }
}

/// The kinds of item, as the `kind` field names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Flash,
    Offer,
    Promo,
    Event,
    News,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Flash, Kind::Offer, Kind::Promo, Kind::Event, Kind::News];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Flash => "flash",
            Kind::Offer => "offer",
            Kind::Promo => "promo",
            Kind::Event => "event",
            Kind::News => "news",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Kind-specific fields. On the wire they sit beside the common ones, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Details {
    Flash(Flash),
    Offer(Offer),
    Promo(Promo),
    Event(Event),
    News(News),
}

/// A landlord, syndic or caretaker notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub severity: Severity,
    /// When the announced thing happens (the water cut, the works), if it has a time range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Important,
    Urgent,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Important, Severity::Urgent];

    /// The name in the wire format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Important => "important",
            Severity::Urgent => "urgent",
        }
    }
}

/// A neighbour's offer or request. Only the author's first name ever reaches a screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub offer_type: OfferType,
    pub category: OfferCategory,
    pub author_first_name: String,
    /// The author's building or staircase, e.g. « Bâtiment B ».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_building: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferType {
    Offer,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferCategory {
    Lending,
    Service,
    Giving,
    Selling,
    LostFound,
    Carpooling,
    Childcare,
    /// Also what a category unknown to this version reads as.
    #[serde(other)]
    Other,
}

/// A shop's promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promo {
    pub shop: String,
    /// Price or discount as the shop writes it: « 2,50 € », « -20 % ».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// Opening hours as text, e.g. « du mardi au samedi, 7 h – 19 h 30 ».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<String>,
}

/// An association's or the municipality's event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub starts_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

/// Neighbourhood information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct News {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Who published an item, which also decides which screens' rotation share it competes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Building,
    Neighbourhood,
    Shops,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Building, Channel::Neighbourhood, Channel::Shops];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Building => "building",
            Channel::Neighbourhood => "neighbourhood",
            Channel::Shops => "shops",
        }
    }
}

/// A weekly schedule in the building's time zone: on these weekdays (all when empty), during
/// these hours (all day when empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Schedule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<Weekday>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<DailyHours>,
}

impl Schedule {
    /// True when the schedule allows instant `t` in zone `tz`. An overnight range's early
    /// part belongs to the day it started on; local times follow daylight saving.
    pub fn allows(&self, t: Timestamp, tz: &jiff::tz::TimeZone) -> bool {
        let local = t.to_zoned(tz.clone());
        let today = local.date();
        let time = local.time();
        let day_allowed = |date: jiff::civil::Date| {
            self.weekdays.is_empty() || self.weekdays.contains(&Weekday::from(date.weekday()))
        };
        if self.hours.is_empty() {
            return day_allowed(today);
        }
        self.hours.iter().any(|range| {
            if range.from <= range.to {
                day_allowed(today) && range.from <= time && time < range.to
            } else if time >= range.from {
                day_allowed(today)
            } else {
                time < range.to && today.yesterday().is_ok_and(day_allowed)
            }
        })
    }
}

/// A daily time range; `to` earlier than `from` crosses midnight (22:00 – 02:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyHours {
    pub from: Time,
    pub to: Time,
}

impl DailyHours {
    pub fn contains(&self, t: Time) -> bool {
        if self.from <= self.to { self.from <= t && t < self.to } else { t >= self.from || t < self.to }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl From<jiff::civil::Weekday> for Weekday {
    fn from(w: jiff::civil::Weekday) -> Self {
        use jiff::civil::Weekday as J;
        match w {
            J::Monday => Weekday::Mon,
            J::Tuesday => Weekday::Tue,
            J::Wednesday => Weekday::Wed,
            J::Thursday => Weekday::Thu,
            J::Friday => Weekday::Fri,
            J::Saturday => Weekday::Sat,
            J::Sunday => Weekday::Sun,
        }
    }
}

/// A picture referenced by content address. The bytes live in the device's media directory
/// under their sha256; width and height are the original's, as published.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MediaRef {
    pub sha256: String,
    pub bytes: u64,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// Photo credit the licence asks for, shown small on the slide: « Photo : Jakub Mede, CC BY 4.0 ».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
}

/// Settings of the building a device belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Building {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub address: String,
    /// IANA time zone, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// BCP 47 locale for dates and numbers, e.g. `fr-FR`.
    #[serde(default = "default_locale")]
    pub locale: String,
}

fn default_locale() -> String {
    "fr-FR".to_owned()
}

impl Building {
    /// The building's time zone; validation guarantees it resolves for a cached building.
    pub fn tz(&self) -> Result<jiff::tz::TimeZone, jiff::Error> {
        jiff::tz::TimeZone::get(&self.time_zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_hours_cover_same_day_and_overnight_ranges() {
        let t = |h, m| Time::constant(h, m, 0, 0);
        let day = DailyHours { from: t(9, 0), to: t(12, 0) };
        let night = DailyHours { from: t(22, 0), to: t(2, 0) };
        let cases = [
            (day, t(8, 59), false),
            (day, t(9, 0), true),
            (day, t(11, 59), true),
            (day, t(12, 0), false),
            (night, t(21, 59), false),
            (night, t(23, 30), true),
            (night, t(0, 0), true),
            (night, t(1, 59), true),
            (night, t(2, 0), false),
        ];
        for (range, at, expected) in cases {
            assert_eq!(range.contains(at), expected, "{range:?} at {at}");
        }
    }

    #[test]
    fn unknown_offer_category_reads_as_other() {
        let c: OfferCategory = serde_json::from_str("\"plant_swap\"").unwrap();
        assert_eq!(c, OfferCategory::Other);
        let c: OfferCategory = serde_json::from_str("\"lost_found\"").unwrap();
        assert_eq!(c, OfferCategory::LostFound);
    }

    #[test]
    fn item_round_trips_with_kind_fields_beside_common_ones() {
        let json = r#"{
            "id": "flash-water", "version": 2, "kind": "flash", "severity": "urgent",
            "channel": "building", "valid_from": "2026-11-20T08:00:00Z",
            "valid_until": "2026-11-24T11:00:00Z", "title": "Coupure d'eau",
            "schedule": {"weekdays": ["tue"], "hours": [{"from": "09:00", "to": "12:00"}]},
            "future_field": {"ignored": true}
        }"#;
        let item: Item = serde_json::from_str(json).unwrap();
        assert!(item.is_urgent());
        assert_eq!(item.weight, 1);
        assert_eq!(item.lang, "fr");
        let schedule = item.schedule.as_ref().unwrap();
        assert_eq!(schedule.hours[0].from, Time::constant(9, 0, 0, 0));
        let back: Item = serde_json::from_str(&serde_json::to_string(&item).unwrap()).unwrap();
        assert_eq!(back, item);
    }
}
