use super::*;
use crate::feeds::MAX_FEED_ITEMS;

const AGENDA: &str = include_str!("../../../../tests/fixtures/feeds/agenda.ics");

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").unwrap()
}

fn event_of(entry: &Entry) -> (Timestamp, Option<Timestamp>, Option<String>) {
    match &entry.details {
        EntryDetails::Event { starts_at, ends_at, place } => (*starts_at, *ends_at, place.clone()),
        EntryDetails::News => panic!("not an event"),
    }
}

#[test]
fn a_city_agenda_becomes_the_occurrences_of_the_next_weeks() {
    let read = read(AGENDA, &TimeZone::UTC, at("2026-10-20T12:00:00Z")).unwrap();
    assert_eq!(read.listed, 9);
    let got: Vec<(String, Timestamp, Option<Timestamp>)> = read
        .entries
        .iter()
        .map(|e| {
            let (start, end, _) = event_of(e);
            (e.key.clone(), start, end)
        })
        .collect();
    let atelier = "atelier-conversation@agenda.lyon.example";
    let marche = "marche-createurs@agenda.lyon.example";
    // (key, start, end): 10 h in Paris before and after the change to winter time on 25
    // October, 31 October left out (EXDATE), 7 November moved to the afternoon, the whole
    // days from local midnight to local midnight.
    let expected = vec![
        (
            format!("{atelier}|2026-10-24T08:00:00Z"),
            at("2026-10-24T08:00:00Z"),
            Some(at("2026-10-24T09:30:00Z")),
        ),
        (format!("{marche}|2026-10-25"), at("2026-10-24T22:00:00Z"), Some(at("2026-10-25T23:00:00Z"))),
        (
            "20261029-concert-quatuor@agenda.lyon.example".into(),
            at("2026-10-29T19:00:00Z"),
            Some(at("2026-10-29T20:30:00Z")),
        ),
        (format!("{marche}|2026-11-01"), at("2026-10-31T23:00:00Z"), Some(at("2026-11-01T23:00:00Z"))),
        (
            "fete-des-lumieres-2026@agenda.lyon.example".into(),
            at("2026-11-04T23:00:00Z"),
            Some(at("2026-11-08T23:00:00Z")),
        ),
        (
            format!("{atelier}|2026-11-07T09:00:00Z"),
            at("2026-11-07T13:00:00Z"),
            Some(at("2026-11-07T14:30:00Z")),
        ),
        (format!("{marche}|2026-11-08"), at("2026-11-07T23:00:00Z"), Some(at("2026-11-08T23:00:00Z"))),
        (
            format!("{atelier}|2026-11-14T09:00:00Z"),
            at("2026-11-14T09:00:00Z"),
            Some(at("2026-11-14T10:30:00Z")),
        ),
    ];
    assert_eq!(got, expected);
    let reasons: Vec<&str> = read.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("\"Visite sans identifiant\" has no UID")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("date-impossible") && r.contains("DTSTART")), "{reasons:?}");
    assert!(!got.iter().any(|(key, ..)| key.contains("annulee")), "cancelled events are left out");
}

#[test]
fn text_is_plain_and_places_links_and_pictures_are_kept() {
    let read = read(AGENDA, &TimeZone::UTC, at("2026-10-20T12:00:00Z")).unwrap();
    let concert = read.entries.iter().find(|e| e.key.starts_with("20261029-concert")).unwrap();
    assert_eq!(concert.title, "Concert du quatuor Debussy");
    assert_eq!(concert.body, "Un programme Ravel & Debussy.\n\nEntrée libre dans la limite des places.");
    assert_eq!(concert.link.as_deref(), Some("https://agenda.lyon.example/evenements/concert-quatuor"));
    assert_eq!(concert.picture.as_deref(), Some("http://127.0.0.1:0/pictures/concert.jpg"));
    let atelier = read.entries.iter().find(|e| e.key.ends_with("2026-10-24T08:00:00Z")).unwrap();
    assert_eq!(event_of(atelier).2.as_deref(), Some("Bibliothèque du 1er, 7 rue Saint-Polycarpe"));
    assert!(
        atelier
            .body
            .starts_with("Chaque samedi matin, on se retrouve pour parler français autour d'un café."),
        "{}",
        atelier.body
    );
    assert_eq!(atelier.valid_from, at("2026-10-24T08:00:00Z") - EVENT_HORIZON);
    assert_eq!(atelier.valid_until, at("2026-10-24T09:30:00Z"));
    let moved = read.entries.iter().find(|e| e.key.ends_with("2026-11-07T09:00:00Z")).unwrap();
    assert_eq!(moved.title, "Atelier de conversation (l'après-midi exceptionnellement)");
}

#[test]
fn the_same_document_reads_the_same_and_a_later_now_drops_what_ended() {
    let first = read(AGENDA, &TimeZone::UTC, at("2026-10-20T12:00:00Z")).unwrap();
    let again = read(AGENDA, &TimeZone::UTC, at("2026-10-20T12:10:00Z")).unwrap();
    let prints = |r: &Read| r.entries.iter().map(Entry::fingerprint).collect::<Vec<_>>();
    assert_eq!(prints(&first), prints(&again), "fingerprints do not depend on the fetch time");
    let later = read(AGENDA, &TimeZone::UTC, at("2026-11-09T12:00:00Z")).unwrap();
    let keys: Vec<&str> = later.entries.iter().map(|e| e.key.as_str()).collect();
    assert!(keys.iter().all(|k| !k.starts_with("fete-des-lumieres")), "ended: {keys:?}");
    assert!(keys.iter().any(|k| k.ends_with("2026-11-21T09:00:00Z")), "the window moved on: {keys:?}");
}

#[test]
fn times_without_a_zone_follow_the_calendar_or_the_feeds_zone() {
    let floating = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261120T180000\r\n\
                    SUMMARY:Lecture\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let in_paris = read(floating, &paris(), at("2026-11-01T00:00:00Z")).unwrap();
    assert_eq!(event_of(&in_paris.entries[0]).0, at("2026-11-20T17:00:00Z"));
    let in_utc = read(floating, &TimeZone::UTC, at("2026-11-01T00:00:00Z")).unwrap();
    assert_eq!(event_of(&in_utc.entries[0]).0, at("2026-11-20T18:00:00Z"));
}

#[test]
fn broken_documents_are_refused_whole() {
    let now = at("2026-10-20T12:00:00Z");
    let cases = [
        ("<html><body>Erreur 500</body></html>", "not an iCalendar document"),
        ("", "not an iCalendar document"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "cannot be read"),
    ];
    for (document, expected) in cases {
        let error = read(document, &TimeZone::UTC, now).unwrap_err().to_string();
        assert!(error.contains(expected), "{document:?}: {error}");
    }
    let mut many = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n");
    for n in 0..(MAX_DOCUMENT_ENTRIES + 1) {
        many.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{n}\r\nDTSTART:20261101T100000Z\r\nSUMMARY:E{n}\r\nEND:VEVENT\r\n"
        ));
    }
    many.push_str("END:VCALENDAR\r\n");
    assert_eq!(
        read(&many, &TimeZone::UTC, now).unwrap_err(),
        FeedError::TooManyEntries { listed: MAX_DOCUMENT_ENTRIES + 1 }
    );
}

#[test]
fn a_large_agenda_keeps_its_soonest_events() {
    let mut doc = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n");
    for n in 0..300 {
        let day = 1 + n % 28;
        doc.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:e{n}\r\nDTSTART:202611{day:02}T{:02}0000Z\r\nSUMMARY:Événement {n}\r\nEND:VEVENT\r\n",
            8 + n / 28
        ));
    }
    doc.push_str("END:VCALENDAR\r\n");
    let read = read(&doc, &TimeZone::UTC, at("2026-10-31T00:00:00Z")).unwrap();
    // The ten events of 28 November start after the four weeks; 290 remain, 200 are kept.
    assert_eq!((read.entries.len(), read.capped), (MAX_FEED_ITEMS, 90));
    let last_kept = event_of(read.entries.last().unwrap()).0;
    assert!(read.entries.windows(2).all(|w| event_of(&w[0]).0 <= event_of(&w[1]).0));
    assert!(last_kept < at("2026-11-28T00:00:00Z"));
}

#[test]
fn until_is_read_in_the_events_zone() {
    let cases = [
        ("FREQ=WEEKLY;UNTIL=20261108", "FREQ=WEEKLY;UNTIL=20261108T225959Z"),
        ("FREQ=WEEKLY;UNTIL=20260701T100000", "FREQ=WEEKLY;UNTIL=20260701T080000Z"),
        ("FREQ=DAILY;UNTIL=20261108T000000Z;COUNT=3", "FREQ=DAILY;UNTIL=20261108T000000Z;COUNT=3"),
        ("FREQ=DAILY;COUNT=3", "FREQ=DAILY;COUNT=3"),
    ];
    for (rule, expected) in cases {
        assert_eq!(until_in_utc(rule, &paris()), expected, "{rule}");
    }
}
