//! Weekly schedules in the building's time zone: whether one allows an instant, and the
//! schedule's edges (the instants where that answer may change) around an instant.
//!
//! Local times are turned into instants with the zone's rules of that very day, so daily
//! hours follow daylight saving: « 9 h – 12 h » is 9 h – 12 h on both sides of a change. A
//! local time skipped by the spring change resolves to the instant after the gap.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use palier_content::Schedule;

/// True when `schedule` (none = always) allows `t` ([`Schedule::allows`], shared with the
/// platform's proof of play).
pub(crate) fn schedule_allows(schedule: Option<&Schedule>, t: Timestamp, tz: &TimeZone) -> bool {
    schedule.is_none_or(|schedule| schedule.allows(t, tz))
}

/// The last schedule edge at or before `t` and the first after it, if any lies within the
/// searched span (a week and a day on each side, enough for any weekly schedule).
pub(crate) fn schedule_edges_around(
    schedule: &Schedule,
    t: Timestamp,
    tz: &TimeZone,
) -> (Option<Timestamp>, Option<Timestamp>) {
    let today = t.to_zoned(tz.clone()).date();
    let span: i64 = if schedule.weekdays.is_empty() { 1 } else { 8 };
    let mut prev = None;
    let mut next = None;
    let mut consider = |edge: Timestamp| {
        if edge <= t {
            prev = Some(prev.map_or(edge, |p: Timestamp| p.max(edge)));
        } else {
            next = Some(next.map_or(edge, |n: Timestamp| n.min(edge)));
        }
    };
    for offset in -span..=span {
        let Ok(day) = today.checked_add(jiff::Span::new().days(offset)) else { continue };
        if !schedule.weekdays.is_empty()
            && let Some(midnight) = instant(day, Time::midnight(), tz)
        {
            consider(midnight);
        }
        for range in &schedule.hours {
            if let Some(from) = instant(day, range.from, tz) {
                consider(from);
            }
            let to_day = if range.to <= range.from { day.tomorrow().ok() } else { Some(day) };
            if let Some(to) = to_day.and_then(|d| instant(d, range.to, tz)) {
                consider(to);
            }
        }
    }
    (prev, next)
}

fn instant(date: Date, time: Time, tz: &TimeZone) -> Option<Timestamp> {
    date.to_datetime(time).to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}
