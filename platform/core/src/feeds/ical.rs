//! A city's agenda in iCalendar, read into event entries.
//!
//! The `icalendar` crate parses the document; `rrule` expands recurrences (RRULE, RDATE,
//! EXDATE) in the event's own zone, so a weekly 10 h stays 10 h across a daylight-saving
//! change. Times without a zone (floating, or whole days) are read in the calendar's zone
//! (`X-WR-TIMEZONE`), else in the zone the feed gives (its buildings'). A moved or changed
//! occurrence (`RECURRENCE-ID`) replaces the one it names; cancelled ones are left out. Each
//! occurrence within [`EVENT_HORIZON`] that has not ended becomes an entry keyed by its UID
//! and, for a recurring event, the occurrence's original start. Events without UID, start or
//! summary are reported and skipped.

use std::collections::{BTreeMap, HashSet};

use chrono::TimeZone as _;
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, Event, EventLike, Property};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::text::{clip, line, plain};
use super::{
    DEFAULT_EVENT_LENGTH, EVENT_HORIZON, Entry, EntryDetails, FeedError, MAX_DOCUMENT_ENTRIES,
    MAX_FEED_BODY_CHARS, MAX_OCCURRENCES, Read, Skipped, cap, timestamp, web_address,
};
use palier_content::limits::{MAX_SHORT_TEXT_CHARS, MAX_TITLE_CHARS};

/// When an event (or an occurrence) starts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Start {
    /// A whole day, in the calendar's zone.
    Day(Date),
    /// An instant, with the zone its recurrences follow.
    At(Timestamp, TimeZone),
}

/// Reads an iCalendar document; `zone` reads times that name none.
pub fn read(document: &str, zone: &TimeZone, now: Timestamp) -> Result<Read, FeedError> {
    if !document.trim_start_matches('\u{feff}').trim_start().starts_with("BEGIN:VCALENDAR") {
        return Err(FeedError::Unreadable(
            "not an iCalendar document: it does not begin with BEGIN:VCALENDAR".into(),
        ));
    }
    let calendar: Calendar = document.parse().map_err(|e: String| {
        FeedError::Unreadable(format!("the iCalendar document cannot be read: {}", first_line(&e)))
    })?;
    let events: Vec<&Event> = calendar.events().collect();
    if events.len() > MAX_DOCUMENT_ENTRIES {
        return Err(FeedError::TooManyEntries { listed: events.len() });
    }
    let zone =
        calendar.get_timezone().and_then(|name| TimeZone::get(name).ok()).unwrap_or_else(|| zone.clone());
    let mut read = Read { listed: events.len(), ..Read::default() };

    // Moved or changed occurrences, by UID and the start they replace.
    let mut overrides: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for event in &events {
        if let (Some(uid), Some(id)) = (event.get_uid(), event.properties().get("RECURRENCE-ID"))
            && let Some(start) = start_of(id, &zone)
        {
            overrides.entry(uid.to_owned()).or_default().insert(occurrence_key(uid, &start));
        }
    }
    let window_end = now + EVENT_HORIZON;
    for event in events {
        match occurrences(event, &zone, now, window_end, &overrides) {
            Ok(mut entries) => read.entries.append(&mut entries),
            Err(skipped) => read.skipped.push(skipped),
        }
    }
    read.entries.sort_by(|a, b| starts(a).cmp(&starts(b)).then_with(|| a.key.cmp(&b.key)));
    cap(&mut read);
    Ok(read)
}

fn starts(entry: &Entry) -> Timestamp {
    match &entry.details {
        EntryDetails::Event { starts_at, .. } => *starts_at,
        EntryDetails::News => entry.valid_from,
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().chars().take(200).collect()
}

/// The entries of one VEVENT within the window.
fn occurrences(
    event: &Event,
    zone: &TimeZone,
    now: Timestamp,
    window_end: Timestamp,
    overrides: &BTreeMap<String, HashSet<String>>,
) -> Result<Vec<Entry>, Skipped> {
    let Some(uid) = event.get_uid().map(str::trim).filter(|u| !u.is_empty()) else {
        let what = event.get_summary().map(|s| format!(" {:?}", line(s, 60))).unwrap_or_default();
        return Err(Skipped { key: None, reason: format!("an event{what} has no UID") });
    };
    let skip = |reason: &str| Skipped { key: Some(uid.to_owned()), reason: format!("event {uid}: {reason}") };
    if event.property_value("STATUS").is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED")) {
        return Ok(Vec::new());
    }
    let start_property = event.properties().get("DTSTART").ok_or_else(|| skip("no DTSTART"))?;
    let start = start_of(start_property, zone).ok_or_else(|| skip("its DTSTART is not a date"))?;
    let length = length(event, &start, zone).map_err(|reason| skip(&reason))?;
    let title = event.get_summary().map(|s| line(s, MAX_TITLE_CHARS)).filter(|t| !t.is_empty());
    let title = title.ok_or_else(|| skip("no SUMMARY"))?;
    let template = Template {
        title,
        body: event
            .get_description()
            .map(|d| clip(&plain(&unescape(d)), MAX_FEED_BODY_CHARS))
            .unwrap_or_default(),
        place: event
            .get_location()
            .map(|l| line(&unescape(l), MAX_SHORT_TEXT_CHARS))
            .filter(|p| !p.is_empty()),
        link: event.get_url().and_then(web_address),
        picture: picture(event),
    };
    let recurring =
        event.properties().contains_key("RRULE") || event.multi_properties().contains_key("RDATE");
    let is_override = event.properties().contains_key("RECURRENCE-ID");
    let starts: Vec<Start> = if recurring && !is_override {
        expand(event, &start, zone, now - length.max(SignedDuration::ZERO), window_end)
            .map_err(|reason| skip(&reason))?
    } else {
        vec![start.clone()]
    };
    let replaced = overrides.get(uid);
    let mut entries = Vec::new();
    for occurrence in starts {
        // The key of an occurrence is its original start, so a moved one keeps its identity.
        let key = if is_override {
            let original = event.properties().get("RECURRENCE-ID").and_then(|p| start_of(p, zone));
            original.map_or_else(|| uid.to_owned(), |o| occurrence_key(uid, &o))
        } else if recurring {
            let key = occurrence_key(uid, &occurrence);
            if replaced.is_some_and(|r| r.contains(&key)) {
                continue;
            }
            key
        } else {
            uid.to_owned()
        };
        if let Some(entry) = template.entry(key, &occurrence, length, zone, now, window_end) {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// What every occurrence of an event says.
struct Template {
    title: String,
    body: String,
    place: Option<String>,
    link: Option<String>,
    picture: Option<String>,
}

impl Template {
    fn entry(
        &self,
        key: String,
        start: &Start,
        length: SignedDuration,
        zone: &TimeZone,
        now: Timestamp,
        window_end: Timestamp,
    ) -> Option<Entry> {
        let (starts_at, ends_at) = match start {
            Start::Day(day) => {
                let days = (length.as_hours() / 24).max(1);
                let first = day.to_zoned(zone.clone()).ok()?.timestamp();
                let after = day
                    .checked_add(jiff::Span::new().days(days))
                    .ok()?
                    .to_zoned(zone.clone())
                    .ok()?
                    .timestamp();
                (first, Some(after))
            }
            Start::At(at, _) => (*at, (length > SignedDuration::ZERO).then(|| *at + length)),
        };
        let valid_until = ends_at.unwrap_or(starts_at + DEFAULT_EVENT_LENGTH);
        if valid_until <= now || starts_at >= window_end {
            return None;
        }
        Some(Entry {
            key,
            title: self.title.clone(),
            body: self.body.clone(),
            link: self.link.clone(),
            picture: self.picture.clone(),
            valid_from: starts_at - EVENT_HORIZON,
            valid_until,
            details: EntryDetails::Event { starts_at, ends_at, place: self.place.clone() },
        })
    }
}

/// `uid` alone names a single event; a recurring one's occurrence adds its start.
fn occurrence_key(uid: &str, start: &Start) -> String {
    match start {
        Start::Day(day) => format!("{uid}|{day}"),
        Start::At(at, _) => format!("{uid}|{at}"),
    }
}

/// A DTSTART, DTEND or RECURRENCE-ID: a whole day, or an instant in its zone (a TZID the
/// zone database knows; otherwise, and for floating times, `zone`).
fn start_of(property: &Property, zone: &TimeZone) -> Option<Start> {
    match DatePerhapsTime::from_property(property)? {
        DatePerhapsTime::Date(date) => Some(Start::Day(civil_date(date)?)),
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(at)) => {
            Some(Start::At(timestamp(&at)?, TimeZone::UTC))
        }
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            let tz = known_zone(&tzid).unwrap_or_else(|| zone.clone());
            let at = civil(date_time)?.to_zoned(tz.clone()).ok()?.timestamp();
            Some(Start::At(at, tz))
        }
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(date_time)) => {
            Some(Start::At(civil(date_time)?.to_zoned(zone.clone()).ok()?.timestamp(), zone.clone()))
        }
    }
}

/// An IANA zone name, as exporters write it (some prefix a '/').
fn known_zone(tzid: &str) -> Option<TimeZone> {
    let name = tzid.trim().trim_matches('"').trim_start_matches('/');
    TimeZone::get(name).ok()
}

fn civil_date(date: chrono::NaiveDate) -> Option<Date> {
    use chrono::Datelike;
    Date::new(i16::try_from(date.year()).ok()?, date.month() as i8, date.day() as i8).ok()
}

fn civil(at: chrono::NaiveDateTime) -> Option<DateTime> {
    use chrono::Timelike;
    let date = civil_date(at.date())?;
    Some(date.at(at.hour() as i8, at.minute() as i8, at.second().min(59) as i8, 0))
}

/// How long the event lasts: DTEND − DTSTART, else DURATION, else nothing (a day for a
/// whole-day event).
fn length(event: &Event, start: &Start, zone: &TimeZone) -> Result<SignedDuration, String> {
    if let Some(end) = event.properties().get("DTEND") {
        let end = start_of(end, zone).ok_or("its DTEND is not a date")?;
        let length = match (start, &end) {
            (Start::Day(a), Start::Day(b)) => {
                SignedDuration::from_hours(24 * i64::from(a.until(*b).map_err(|e| e.to_string())?.get_days()))
            }
            (Start::At(a, _), Start::At(b, _)) => b.duration_since(*a),
            (Start::Day(a), Start::At(b, _)) => {
                b.duration_since(a.to_zoned(zone.clone()).map_err(|e| e.to_string())?.timestamp())
            }
            (Start::At(..), Start::Day(_)) => return Err("DTSTART is a time and DTEND a date".into()),
        };
        if length < SignedDuration::ZERO {
            return Err("it ends before it starts".into());
        }
        return Ok(length);
    }
    if let Some(duration) = event.property_value("DURATION") {
        let span: jiff::Span =
            duration.trim().parse().map_err(|_| format!("DURATION {duration:?} is not a duration"))?;
        let hours =
            i64::from(span.get_weeks()) * 168 + i64::from(span.get_days()) * 24 + i64::from(span.get_hours());
        let length = SignedDuration::from_hours(hours)
            + SignedDuration::from_mins(span.get_minutes())
            + SignedDuration::from_secs(span.get_seconds());
        return Ok(length.max(SignedDuration::ZERO));
    }
    Ok(match start {
        Start::Day(_) => SignedDuration::from_hours(24),
        Start::At(..) => SignedDuration::ZERO,
    })
}

/// The occurrences of a recurring event that may overlap `[from, until)`.
fn expand(
    event: &Event,
    start: &Start,
    zone: &TimeZone,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<Start>, String> {
    // Whole days recur at midnight in the calendar's zone; instants in their own zone.
    let (tz, local) = match start {
        Start::Day(day) => (zone.clone(), day.at(0, 0, 0, 0)),
        Start::At(at, tz) => (tz.clone(), at.to_zoned(tz.clone()).datetime()),
    };
    let tz_name = tz.iana_name().unwrap_or("UTC").to_owned();
    let chrono_tz: chrono_tz::Tz =
        tz_name.parse().map_err(|_| format!("time zone {tz_name} is unknown to the recurrence rules"))?;
    let mut text = format!("DTSTART;TZID={tz_name}:{}\n", compact(local));
    match event.property_value("RRULE") {
        Some(rule) => text.push_str(&format!("RRULE:{}\n", until_in_utc(rule, &tz))),
        // Without a rule the start is an occurrence beside the RDATEs (RFC 5545 §3.8.5.2).
        None => text.push_str(&format!("RDATE;TZID={tz_name}:{}\n", compact(local))),
    }
    for (name, lines) in
        [("RDATE", event.multi_properties().get("RDATE")), ("EXDATE", event.multi_properties().get("EXDATE"))]
    {
        for property in lines.into_iter().flatten() {
            for value in property.value().split(',').filter(|v| !v.trim().is_empty()) {
                let single = Property::new(name, value.trim());
                let mut single = single;
                for (key, param) in property.params() {
                    single.add_parameter(key, param.value());
                }
                let Some(at) = start_of(&single, &tz) else {
                    return Err(format!("{name} {value:?} is not a date"));
                };
                let local = match at {
                    Start::Day(day) => day.at(0, 0, 0, 0),
                    Start::At(at, _) => at.to_zoned(tz.clone()).datetime(),
                };
                text.push_str(&format!("{name};TZID={tz_name}:{}\n", compact(local)));
            }
        }
    }
    let set: rrule::RRuleSet = text
        .trim_end()
        .parse()
        .map_err(|e: rrule::RRuleError| format!("its recurrence cannot be read: {e}"))?;
    let to_chrono = |at: Timestamp| rrule::Tz::Tz(chrono_tz).timestamp_opt(at.as_second(), 0).single();
    let (Some(after), Some(before)) = (to_chrono(from), to_chrono(until)) else {
        return Err("its recurrence falls outside the calendar".into());
    };
    let dates = set.after(after).before(before).all(MAX_OCCURRENCES).dates;
    Ok(dates
        .into_iter()
        .filter_map(|d| {
            let at = timestamp(&d)?;
            Some(match start {
                Start::Day(_) => Start::Day(at.to_zoned(tz.clone()).date()),
                Start::At(..) => Start::At(at, tz.clone()),
            })
        })
        .collect())
}

/// `20261025T100000`.
fn compact(local: DateTime) -> String {
    local.strftime("%Y%m%dT%H%M%S").to_string()
}

/// RFC 5545 wants UNTIL in UTC when the start names a zone; exports often give a date or a
/// local time. Either is read in the event's zone (a date as the end of that day) and
/// written in UTC, which the recurrence crate requires.
fn until_in_utc(rule: &str, tz: &TimeZone) -> String {
    let parts: Vec<String> = rule
        .split(';')
        .map(|part| {
            let Some(value) = part.strip_prefix("UNTIL=") else { return part.to_owned() };
            if value.ends_with('Z') {
                return part.to_owned();
            }
            let local = if value.len() == 8 {
                Date::strptime("%Y%m%d", value).ok().map(|d| d.at(23, 59, 59, 0))
            } else {
                DateTime::strptime("%Y%m%dT%H%M%S", value).ok()
            };
            match local.and_then(|l| l.to_zoned(tz.clone()).ok()) {
                Some(zoned) => format!("UNTIL={}", zoned.timestamp().strftime("%Y%m%dT%H%M%SZ")),
                None => part.to_owned(),
            }
        })
        .collect();
    parts.join(";")
}

/// An event's picture: IMAGE (RFC 7986), else an image ATTACH, as a web address.
fn picture(event: &Event) -> Option<String> {
    for name in ["IMAGE", "ATTACH"] {
        let found =
            event.multi_properties().get(name).into_iter().flatten().chain(event.properties().get(name));
        for property in found {
            let image = name == "IMAGE"
                || property.params().get("FMTTYPE").is_some_and(|t| t.value().starts_with("image/"));
            if let Some(address) = web_address(property.value()).filter(|_| image) {
                return Some(address);
            }
        }
    }
    None
}

/// iCalendar's text escapes (`\n`, `\,`, `\;`, `\\`), when the parser left them.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests;
