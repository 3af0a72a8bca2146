//! The offline month's items and the oracle that judges the engine's showings against them:
//! when each item is eligible is computed here from its window and weekly hours (civil time
//! turned into instants by the time-zone database), not by the player's playlist code.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use palier_content::sample::requests;
use palier_content::{Channel, Severity};
use palier_player::engine::Engine;
use palier_player::playlist::SlideRef;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::stats::median;

/// The simulated month.
#[derive(Debug, Clone, Copy)]
pub struct Month {
    pub start: Timestamp,
    pub end: Timestamp,
    /// The daylight-saving change it holds.
    pub change: Timestamp,
}

impl Month {
    /// `days` days centred on the zone's next offset change after `now` (starting no
    /// earlier than an hour from now), on whole minutes.
    pub fn around_next_change(tz: &TimeZone, now: Timestamp, days: u32) -> Month {
        let change = tz.following(now).next().map_or(now, |t| t.timestamp());
        let half = SignedDuration::from_hours(12 * i64::from(days));
        let earliest = now + SignedDuration::from_hours(1);
        let start = minute(if change - half > earliest { change - half } else { earliest });
        Month { start, end: start + SignedDuration::from_hours(24 * i64::from(days)), change }
    }
}

fn minute(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second().div_euclid(60) * 60 + 60).expect("an instant in range")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    Landlord,
    Shop,
    Neighbourhood,
}

/// Weekly opening hours: days and one daytime range.
#[derive(Debug, Clone)]
pub struct Hours {
    pub days: Vec<Weekday>,
    pub from: Time,
    pub to: Time,
}

/// An item drawn for the month, with what the oracle needs.
#[derive(Debug, Clone)]
pub struct Drawn {
    pub id: String,
    pub publisher: Publisher,
    pub channel: Channel,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    pub hours: Option<Hours>,
    /// The publishing API's body.
    pub body: Value,
}

/// `count` items with seeded windows inside the month: a third are shop promotions, most
/// of them with weekly hours and a window across the clock change; a day and a half three
/// quarters in is left empty so the fallback shows.
pub fn draw_items(month: &Month, count: u32, seed: u64) -> Vec<Drawn> {
    let mut rng = StdRng::seed_from_u64(seed);
    let length = month.end.duration_since(month.start).as_secs();
    let gap_start = month.start + SignedDuration::from_secs(length * 3 / 4);
    let gap_end = gap_start + SignedDuration::from_hours(36);
    let mut items = Vec::new();
    while items.len() < count as usize {
        let n = items.len();
        let with_hours = n % 3 == 1 && rng.random_bool(0.7);
        let (from, until) = if with_hours && month.change > month.start + SignedDuration::from_hours(24) {
            let before = month.change.duration_since(month.start).as_secs();
            let from = month.start + SignedDuration::from_secs(rng.random_range(0..before - 3600));
            let after = SignedDuration::from_secs(rng.random_range(86_400..5 * 86_400));
            (from, (month.change + after).min(gap_start).min(month.end))
        } else {
            let from = month.start + SignedDuration::from_secs(rng.random_range(0..length - 600));
            let lasting = SignedDuration::from_secs(rng.random_range(600..5 * 86_400));
            (from, (from + lasting).min(month.end))
        };
        if from >= until || (from < gap_end && until > gap_start) {
            continue;
        }
        let id = format!("month-{n}");
        let (publisher, channel, mut body) = match n % 3 {
            0 => (
                Publisher::Landlord,
                Channel::Building,
                requests::flash(&id, Severity::Info, "Coupure d’eau"),
            ),
            1 => (Publisher::Shop, Channel::Shops, requests::promo(&id, &[])),
            _ => (
                Publisher::Neighbourhood,
                Channel::Neighbourhood,
                requests::offer(&id, &format!("p-{n}"), "Inès", &[]),
            ),
        };
        body["valid_from"] = json!(from.to_string());
        body["valid_until"] = json!(until.to_string());
        let hours = with_hours.then(|| {
            let all = [
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday,
            ];
            let days: Vec<Weekday> = all.into_iter().filter(|_| rng.random_bool(0.7)).collect();
            let from = Time::constant(rng.random_range(6..11), [0, 15, 30, 45][rng.random_range(0..4)], 0, 0);
            let to = Time::constant(rng.random_range(13..22), [0, 30][rng.random_range(0..2)], 0, 0);
            Hours { days, from, to }
        });
        if let Some(hours) = &hours {
            let names: Vec<&str> = hours.days.iter().map(|d| weekday_name(*d)).collect();
            body["schedule"] = json!({"weekdays": names,
                "hours": [{"from": hours.from.strftime("%H:%M").to_string(), "to": hours.to.strftime("%H:%M").to_string()}]});
        }
        items.push(Drawn { id, publisher, channel, valid_from: from, valid_until: until, hours, body });
    }
    items
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// A stretch during which an item may show.
#[derive(Debug, Clone)]
pub struct Stretch {
    pub id: String,
    pub from: Timestamp,
    pub until: Timestamp,
}

/// Every stretch of the month during which an item the screen shows is eligible: its
/// window, cut to its weekly hours day by day in the zone.
pub fn eligible_stretches(
    items: &[Drawn],
    tz: &TimeZone,
    month: &Month,
    shown: impl Fn(&Drawn) -> bool,
) -> Vec<Stretch> {
    let mut stretches = Vec::new();
    for item in items.iter().filter(|i| shown(i)) {
        let Some(hours) = &item.hours else {
            stretches.push(Stretch { id: item.id.clone(), from: item.valid_from, until: item.valid_until });
            continue;
        };
        let first: Date = month.start.to_zoned(tz.clone()).date() - 1.day();
        let last: Date = month.end.to_zoned(tz.clone()).date();
        let mut day = first;
        while day <= last {
            if hours.days.contains(&day.weekday()) {
                let open =
                    day.to_datetime(hours.from).to_zoned(tz.clone()).expect("a local time").timestamp();
                let close = day.to_datetime(hours.to).to_zoned(tz.clone()).expect("a local time").timestamp();
                let (from, until) = (open.max(item.valid_from), close.min(item.valid_until));
                if from < until {
                    stretches.push(Stretch { id: item.id.clone(), from, until });
                }
            }
            day = day.tomorrow().expect("a date in range");
        }
    }
    stretches
}

/// What a screen showed from `since` to `until` (`None`: the fallback slide).
#[derive(Debug, Clone)]
pub struct Showing {
    pub item: Option<String>,
    pub since: Timestamp,
    pub until: Timestamp,
}

impl Showing {
    /// What the engine's first screen shows now, from `since`.
    pub fn of(engine: &Engine, since: Timestamp) -> Showing {
        let item = match &engine.screens()[0].current.slide {
            SlideRef::Item { id, .. } => Some(id.clone()),
            SlideRef::Fallback => None,
        };
        Showing { item, since, until: since }
    }

    pub fn until(mut self, until: Timestamp) -> Showing {
        self.until = until;
        self
    }
}

/// The oracle's findings.
#[derive(Debug, Default)]
pub struct Verdict {
    pub outside: u64,
    pub fallback: u64,
    pub fallback_while_eligible: u64,
    pub stretches_reached: u64,
    pub stretches_missed: u64,
    pub left_on_time: u64,
    /// Items that became eligible while the fallback showed and replaced it that instant.
    pub came_at_once: u64,
    /// Seconds from a stretch's start to the item's first showing in it.
    pub delays: Vec<f64>,
    pub failures: Vec<String>,
}

impl Verdict {
    pub fn delay_summary(&self) -> String {
        let max = self.delays.iter().copied().fold(0.0, f64::max);
        format!("{:.0} s / {:.0} s", median(&self.delays), max)
    }
}

/// Stretches shorter than this may pass unseen (the rotation gives each item its turn).
const SHORTEST_SURE: SignedDuration = SignedDuration::from_mins(10);

/// Judges the showings against the eligible stretches.
pub fn check(showings: &[Showing], stretches: &[Stretch]) -> Verdict {
    let mut verdict = Verdict::default();
    for showing in showings.iter().filter(|s| s.since < s.until) {
        match &showing.item {
            Some(id) => {
                let inside = stretches
                    .iter()
                    .any(|s| &s.id == id && s.from <= showing.since && showing.until <= s.until);
                if !inside {
                    verdict.outside += 1;
                    verdict.failures.push(format!(
                        "{id} showed {} → {}, outside its window or hours",
                        showing.since, showing.until
                    ));
                }
                if stretches.iter().any(|s| &s.id == id && showing.until == s.until) {
                    verdict.left_on_time += 1;
                }
            }
            None => {
                verdict.fallback += 1;
                if let Some(s) = stretches.iter().find(|s| s.from < showing.until && showing.since < s.until)
                {
                    verdict.fallback_while_eligible += 1;
                    verdict.failures.push(format!(
                        "the fallback showed {} → {} while {} was eligible ({} → {})",
                        showing.since, showing.until, s.id, s.from, s.until
                    ));
                }
            }
        }
    }
    for stretch in stretches {
        let first = showings
            .iter()
            .filter(|s| {
                s.item.as_deref() == Some(&stretch.id) && s.since < stretch.until && stretch.from < s.until
            })
            .map(|s| s.since.max(stretch.from))
            .min();
        // On an idle screen (the fallback up to that instant) the item must come at once.
        let idle =
            showings.iter().any(|s| s.item.is_none() && s.since < stretch.from && stretch.from <= s.until);
        match first {
            Some(at) => {
                verdict.stretches_reached += 1;
                verdict.delays.push(at.duration_since(stretch.from).as_secs_f64());
                if idle {
                    if at == stretch.from {
                        verdict.came_at_once += 1;
                    } else {
                        verdict.failures.push(format!(
                            "{} became eligible at {} on an idle screen but showed only at {at}",
                            stretch.id, stretch.from
                        ));
                    }
                }
            }
            None if stretch.until.duration_since(stretch.from) >= SHORTEST_SURE => {
                verdict.stretches_missed += 1;
                verdict
                    .failures
                    .push(format!("{} never showed during {} → {}", stretch.id, stretch.from, stretch.until));
            }
            None => {}
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn opening_hours_follow_the_clock_change() {
        // Paris moved to summer time on 2027-03-28 at 02:00 local (01:00 UTC).
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let month = Month {
            start: at("2027-03-27T00:00:00Z"),
            end: at("2027-03-30T00:00:00Z"),
            change: at("2027-03-28T01:00:00Z"),
        };
        let item = Drawn {
            id: "shop".into(),
            publisher: Publisher::Shop,
            channel: Channel::Shops,
            valid_from: month.start,
            valid_until: month.end,
            hours: Some(Hours {
                days: vec![Weekday::Saturday, Weekday::Monday],
                from: Time::constant(9, 0, 0, 0),
                to: Time::constant(12, 0, 0, 0),
            }),
            body: Value::Null,
        };
        let stretches = eligible_stretches(&[item], &tz, &month, |_| true);
        let spans: Vec<(Timestamp, Timestamp)> = stretches.iter().map(|s| (s.from, s.until)).collect();
        assert_eq!(
            spans,
            vec![
                (at("2027-03-27T08:00:00Z"), at("2027-03-27T11:00:00Z")), // winter: UTC+1
                (at("2027-03-29T07:00:00Z"), at("2027-03-29T10:00:00Z")), // summer: UTC+2
            ]
        );
    }

    #[test]
    fn the_oracle_flags_showings_outside_stretches_and_fallbacks_over_them() {
        let stretches = vec![Stretch {
            id: "a".into(),
            from: at("2027-01-01T10:00:00Z"),
            until: at("2027-01-01T11:00:00Z"),
        }];
        let show = |item: Option<&str>, since: &str, until: &str| Showing {
            item: item.map(Into::into),
            since: at(since),
            until: at(until),
        };
        let good = check(
            &[
                show(None, "2027-01-01T09:00:00Z", "2027-01-01T10:00:00Z"),
                show(Some("a"), "2027-01-01T10:00:00Z", "2027-01-01T11:00:00Z"),
            ],
            &stretches,
        );
        assert!(good.failures.is_empty(), "{:?}", good.failures);
        assert_eq!((good.stretches_reached, good.left_on_time, good.came_at_once), (1, 1, 1));
        let late = check(
            &[
                show(None, "2027-01-01T09:00:00Z", "2027-01-01T10:00:05Z"),
                show(Some("a"), "2027-01-01T10:00:05Z", "2027-01-01T11:00:00Z"),
            ],
            &stretches,
        );
        assert_eq!((late.fallback_while_eligible, late.failures.len()), (1, 2), "{:?}", late.failures);
        let bad = check(
            &[
                show(None, "2027-01-01T09:00:00Z", "2027-01-01T10:30:00Z"),
                show(Some("a"), "2027-01-01T10:30:00Z", "2027-01-01T11:00:01Z"),
            ],
            &stretches,
        );
        assert_eq!((bad.outside, bad.fallback_while_eligible), (1, 1), "{:?}", bad.failures);
        let missed = check(&[show(None, "2027-01-01T09:00:00Z", "2027-01-01T12:00:00Z")], &stretches);
        assert_eq!(missed.stretches_missed, 1);
    }
}
