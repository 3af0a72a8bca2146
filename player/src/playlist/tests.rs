//! Table-driven tests of the rotation: what shows when, for how long, and how fairly.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp, ToSpan};
use palier_content::config::{Rotation, ScreenConfig};
use palier_content::{Channel, DailyHours, Item, Schedule, Severity, Snapshot, Weekday, sample};

use super::*;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").unwrap()
}

fn screen(role: &str, channels: &[Channel]) -> ScreenConfig {
    ScreenConfig {
        name: role.to_owned(),
        role: role.to_owned(),
        channels: channels.to_vec(),
        width: 1080,
        height: 1920,
        rotation: Rotation::R0,
        output: None,
        max_per_origin: palier_content::config::DEFAULT_MAX_PER_ORIGIN,
    }
}

fn lift() -> ScreenConfig {
    screen("lift", &Channel::ALL)
}

/// A snapshot holding `items`, all cached at `arrival`.
fn snapshot(items: Vec<Item>, arrival: Timestamp) -> Snapshot {
    let mut snapshot = Snapshot::empty("/nonexistent/media".into());
    snapshot.building = Some(sample::building());
    for item in items {
        snapshot.cached_at.insert(item.id.clone(), arrival);
        snapshot.items.push(item);
    }
    snapshot.items.sort_by(|a, b| a.id.cmp(&b.id));
    snapshot
}

fn playlist(items: Vec<Item>) -> Playlist {
    Playlist::new(&snapshot(items, at("2026-01-01T00:00:00Z")), &lift(), &paris(), &HashSet::new())
}

fn long_lived(mut item: Item) -> Item {
    item.valid_from = at("2025-01-01T00:00:00Z");
    item.valid_until = at("2028-01-01T00:00:00Z");
    item
}

fn ids(showings: &[Showing]) -> Vec<&str> {
    showings.iter().map(|s| s.item_id().unwrap_or("fallback")).collect()
}

/// Every showing is what `showing_at` answers at its start, middle and last millisecond,
/// and showings tile time without gaps.
fn assert_consistent(playlist: &Playlist, showings: &[Showing]) {
    for pair in showings.windows(2) {
        assert_eq!(pair[0].end, pair[1].start, "showings tile: {:?} then {:?}", pair[0], pair[1]);
    }
    for s in showings {
        assert!(s.start < s.end, "{s:?}");
        let middle = s.start + s.duration() / 2;
        let last = s.end - SignedDuration::from_millis(1);
        for probe in [s.start, middle, last] {
            assert_eq!(&playlist.showing_at(probe), s, "showing_at({probe})");
        }
    }
}

#[test]
fn an_empty_cache_shows_the_fallback_on_an_hourly_grid() {
    let p = playlist(Vec::new());
    let s = p.showing_at(at("2026-11-24T09:41:07Z"));
    assert_eq!(s.slide, SlideRef::Fallback);
    assert_eq!(s.trigger, PlayTrigger::Fallback);
    assert_eq!((s.start, s.end), (at("2026-11-24T09:00:00Z"), at("2026-11-24T10:00:00Z")));
}

#[test]
fn one_item_shows_alone_for_its_reading_time() {
    let p = playlist(vec![long_lived(sample::news("n"))]);
    let t = at("2026-11-24T09:00:00Z");
    let showings = p.showings(t, t + 2.minutes());
    assert!(showings.iter().all(|s| s.item_id() == Some("n") && s.trigger == PlayTrigger::Rotation));
    assert!(showings[1..].iter().all(|s| s.duration() == reading_time(&sample::news("n"))));
    assert_consistent(&p, &showings);
}

#[test]
fn reading_time_follows_word_count_within_bounds() {
    let mut short = sample::news("a");
    short.title = "Bonjour".into();
    let mut long = sample::news("b");
    long.body = "mot ".repeat(80);
    let mut fixed = sample::news("c");
    fixed.duration_s = Some(45);
    let mut medium = sample::news("d");
    medium.title = "Un deux trois quatre cinq six sept huit neuf dix onze douze".into();
    let cases = [(short, 6), (long, 20), (fixed, 45), (medium, 12)];
    for (item, seconds) in cases {
        assert_eq!(reading_time(&item), SignedDuration::from_secs(seconds), "{}", item.id);
    }
}

#[test]
fn airtime_follows_weight_and_nobody_starves() {
    let mut items = Vec::new();
    for (id, weight) in [("a", 1), ("b", 2), ("c", 3)] {
        let mut item = long_lived(sample::offer(id, "Léa"));
        item.weight = weight;
        item.duration_s = Some(10);
        items.push(item);
    }
    let p = playlist(items);
    let t = at("2026-11-24T09:00:00Z");
    let cycle = p.cycle_length(t);
    assert_eq!(cycle, SignedDuration::from_secs(60));
    // Ten whole cycles from a cycle boundary.
    let start = Timestamp::from_second(t.as_second() / 60 * 60).unwrap();
    let showings = p.showings(start, start + cycle * 10);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for s in &showings {
        *counts.entry(s.item_id().unwrap()).or_default() += 1;
    }
    assert_eq!(counts, HashMap::from([("a", 10), ("b", 20), ("c", 30)]));
    assert_consistent(&p, &showings);
}

#[test]
fn consecutive_slides_change_channel_when_the_mix_allows() {
    let mut items = Vec::new();
    for i in 0..4 {
        items.push(long_lived(sample::flash(&format!("f{i}"), Severity::Info)));
        items.push(long_lived(sample::offer(&format!("o{i}"), "Karim")));
        items.push(long_lived(sample::promo(&format!("p{i}"), "Primeur")));
    }
    let p = playlist(items);
    let t = at("2026-11-24T09:00:00Z");
    let showings = p.showings(t, t + p.cycle_length(t) * 2);
    let channel = |s: &Showing| s.item_id().unwrap().as_bytes()[0];
    for pair in showings.windows(2) {
        assert_ne!(channel(&pair[0]), channel(&pair[1]), "{:?}", ids(&showings));
    }
}

#[test]
fn shops_keep_a_share_among_many_neighbour_offers() {
    let mut items: Vec<Item> =
        (0..30).map(|i| long_lived(sample::offer(&format!("o{i:02}"), "Léa"))).collect();
    items.push(long_lived(sample::promo("promo", "Primeur")));
    let p = playlist(items);
    let t = at("2026-11-24T09:00:00Z");
    let showings = p.showings(t, t + p.cycle_length(t) * 3);
    let promos = showings.iter().filter(|s| s.item_id() == Some("promo")).count();
    let share = promos as f64 / showings.len() as f64;
    assert!(share >= 0.24, "promo share {share:.2} of {} showings", showings.len());
    let offers: HashSet<_> =
        showings.iter().filter_map(|s| s.item_id()).filter(|id| id.starts_with('o')).collect();
    assert_eq!(offers.len(), 30, "every offer still shows");
}

#[test]
fn five_hundred_items_all_show_within_one_cycle() {
    let items: Vec<Item> = (0..500)
        .map(|i| {
            let mut item = match i % 3 {
                0 => sample::offer(&format!("o{i:03}"), "Léa"),
                1 => sample::promo(&format!("p{i:03}"), "Primeur"),
                _ => sample::news(&format!("n{i:03}")),
            };
            item.weight = 1 + (i % 4) as u32;
            long_lived(item)
        })
        .collect();
    let p = playlist(items);
    let t = at("2026-11-24T09:00:00Z");
    let showings = p.showings(t, t + p.cycle_length(t) + 1.minute());
    let shown: HashSet<_> = showings.iter().filter_map(|s| s.item_id()).collect();
    assert_eq!(shown.len(), 500);
    assert_consistent(&p, &showings[..50]);
}

#[test]
fn validity_windows_are_enforced_to_the_instant() {
    let mut leaving = long_lived(sample::offer("leaving", "Karim"));
    leaving.valid_until = at("2026-11-24T09:00:30Z");
    let mut coming = long_lived(sample::news("coming"));
    coming.valid_from = at("2026-11-24T09:01:00Z");
    let p = playlist(vec![leaving, coming]);
    let cases = [
        ("2026-11-24T09:00:10Z", Some("leaving")),
        ("2026-11-24T09:00:45Z", None),
        ("2026-11-24T09:01:05Z", Some("coming")),
    ];
    for (t, expected) in cases {
        assert_eq!(p.showing_at(at(t)).item_id(), expected, "at {t}");
    }
    let showings = p.showings(at("2026-11-24T09:00:00Z"), at("2026-11-24T09:01:30Z"));
    let last_leaving = showings.iter().rfind(|s| s.item_id() == Some("leaving")).unwrap();
    assert_eq!(last_leaving.end, at("2026-11-24T09:00:30Z"));
    let gap = p.showing_at(at("2026-11-24T09:00:45Z"));
    assert_eq!(
        (gap.slide, gap.start, gap.end),
        (SlideRef::Fallback, at("2026-11-24T09:00:30Z"), at("2026-11-24T09:01:00Z"))
    );
    assert_consistent(&p, &showings);
}

/// A promo open 09:00–12:00 local, Monday to Saturday, around both daylight-saving changes
/// of Europe/Paris (29 March and 25 October 2026).
#[test]
fn daily_hours_follow_daylight_saving_in_the_building_time_zone() {
    let mut promo = long_lived(sample::promo("promo", "Café"));
    promo.schedule = Some(Schedule {
        weekdays: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat],
        hours: vec![DailyHours { from: jiff::civil::time(9, 0, 0, 0), to: jiff::civil::time(12, 0, 0, 0) }],
    });
    let p = playlist(vec![promo, long_lived(sample::news("news"))]);
    let shows_promo =
        |t: &str| p.showings(at(t), at(t) + 2.minutes()).iter().any(|s| s.item_id() == Some("promo"));
    let cases = [
        ("2026-03-28T08:30:00Z", true),  // Saturday 09:30 CET
        ("2026-03-28T11:30:00Z", false), // Saturday 12:30 CET
        ("2026-03-29T08:30:00Z", false), // Sunday: closed
        ("2026-03-30T07:30:00Z", true),  // Monday 09:30 CEST
        ("2026-03-30T09:30:00Z", true),  // Monday 11:30 CEST
        ("2026-03-30T10:30:00Z", false), // Monday 12:30 CEST
        ("2026-03-30T06:30:00Z", false), // Monday 08:30 CEST
        ("2026-10-24T07:30:00Z", true),  // Saturday 09:30 CEST
        ("2026-10-26T07:30:00Z", false), // Monday 08:30 CET
        ("2026-10-26T08:30:00Z", true),  // Monday 09:30 CET
    ];
    for (t, expected) in cases {
        assert_eq!(shows_promo(t), expected, "at {t}");
    }
    // The promo leaves at 12:00 local sharp on each side of the change.
    for (inside, closing) in
        [("2026-03-27T10:59:00Z", "2026-03-27T11:00:00Z"), ("2026-03-30T09:59:00Z", "2026-03-30T10:00:00Z")]
    {
        let showings = p.showings(at(inside), at(closing) + 1.minute());
        let last_promo = showings.iter().rfind(|s| s.item_id() == Some("promo"));
        if let Some(last) = last_promo {
            assert!(last.end <= at(closing), "{last:?}");
        }
        assert!(
            showings.iter().any(|s| s.start == at(closing) || s.end == at(closing)),
            "a boundary at {closing}"
        );
    }
}

#[test]
fn overnight_hours_cross_midnight_and_the_spring_gap() {
    let mut item = long_lived(sample::news("night"));
    item.schedule = Some(Schedule {
        weekdays: vec![Weekday::Sat],
        hours: vec![DailyHours { from: jiff::civil::time(23, 0, 0, 0), to: jiff::civil::time(3, 0, 0, 0) }],
    });
    let p = playlist(vec![item, long_lived(sample::offer("o", "Léa"))]);
    let shows = |t: &str| p.showings(at(t), at(t) + 1.minute()).iter().any(|s| s.item_id() == Some("night"));
    let cases = [
        ("2026-03-28T21:30:00Z", false), // Saturday 22:30 CET
        ("2026-03-28T22:30:00Z", true),  // Saturday 23:30 CET
        ("2026-03-29T00:30:00Z", true),  // Sunday 01:30 CET, started Saturday
        ("2026-03-29T01:30:00Z", false), // Sunday 03:30 CEST: the range ended at 03:00 local
        ("2026-03-27T22:30:00Z", false), // Friday 23:30
    ];
    for (t, expected) in cases {
        assert_eq!(shows(t), expected, "at {t}");
    }
}

#[test]
fn an_urgent_flash_preempts_on_arrival_returns_every_minute_and_leaves_a_banner() {
    let arrival = at("2026-11-24T09:00:07.250Z");
    let mut flash = long_lived(sample::flash("lift-down", Severity::Urgent));
    flash.duration_s = Some(10);
    let others = vec![long_lived(sample::offer("o", "Karim")), long_lived(sample::promo("p", "Primeur"))];
    let mut snap = snapshot(others, at("2026-01-01T00:00:00Z"));
    snap.items.push(flash.clone());
    snap.items.sort_by(|a, b| a.id.cmp(&b.id));
    snap.cached_at.insert(flash.id.clone(), arrival);
    let p = Playlist::new(&snap, &lift(), &paris(), &HashSet::new());

    let before = p.showing_at(arrival - 1.second());
    assert_ne!(before.item_id(), Some("lift-down"));
    assert_eq!(before.end, arrival, "the showing before is cut at the arrival");
    let cases = [
        (0, Some(PlayTrigger::Preempt)),
        (900, Some(PlayTrigger::Preempt)),
        (9_999, Some(PlayTrigger::Preempt)),
        (10_000, None),
        (59_999, None),
        (60_000, Some(PlayTrigger::Preempt)),
        (125_000, Some(PlayTrigger::Preempt)),
        (135_000, None),
    ];
    for (ms, urgent) in cases {
        let s = p.showing_at(arrival + SignedDuration::from_millis(ms));
        match urgent {
            Some(trigger) => {
                assert_eq!(s.item_id(), Some("lift-down"), "+{ms} ms");
                assert_eq!(s.trigger, trigger);
                assert_eq!(s.banner, None);
            }
            None => {
                assert_ne!(s.item_id(), Some("lift-down"), "+{ms} ms");
                assert_eq!(s.banner.as_deref(), Some("lift-down"), "+{ms} ms: banner");
            }
        }
    }
    let showings = p.showings(arrival, arrival + 10.minutes());
    assert_consistent(&p, &showings);
    // The flash does not split a slide in two: what follows it is not what preceded it.
    for triple in showings.windows(3) {
        if triple[1].trigger == PlayTrigger::Preempt {
            assert_ne!(triple[0].item_id(), triple[2].item_id(), "{triple:?}");
        }
    }
    // The rotation underneath keeps turning: both other items show between the flashes.
    let shown: HashSet<_> = showings.iter().filter_map(|s| s.item_id()).collect();
    assert_eq!(shown, HashSet::from(["lift-down", "o", "p"]));
}

#[test]
fn an_urgent_flash_leaves_at_valid_until_and_takes_its_banner_along() {
    let mut flash = long_lived(sample::flash("water", Severity::Urgent));
    flash.valid_until = at("2026-11-24T09:30:00Z");
    let p = playlist(vec![flash, long_lived(sample::news("n"))]);
    let before = p.showing_at(at("2026-11-24T09:29:59Z"));
    assert!(before.item_id() == Some("water") || before.banner.as_deref() == Some("water"));
    assert!(before.end <= at("2026-11-24T09:30:00Z"));
    let after = p.showing_at(at("2026-11-24T09:30:00Z"));
    assert_eq!((after.item_id(), after.banner.as_deref()), (Some("n"), None));
}

#[test]
fn urgent_flashes_alone_fill_every_minute() {
    let mut a = long_lived(sample::flash("a", Severity::Urgent));
    a.duration_s = Some(10);
    let mut b = long_lived(sample::flash("b", Severity::Urgent));
    b.duration_s = Some(10);
    let p = playlist(vec![a, b]);
    let t = at("2026-11-24T09:00:00Z");
    let showings = p.showings(t, t + 3.minutes());
    assert!(showings.iter().all(|s| s.trigger == PlayTrigger::Preempt), "{showings:?}");
    let shown: HashSet<_> = showings.iter().filter_map(|s| s.item_id()).collect();
    assert_eq!(shown.len(), 2);
    assert_consistent(&p, &showings);
}

#[test]
fn screens_show_their_roles_and_channels_but_urgent_flashes_everywhere() {
    let mut lift_only = long_lived(sample::news("lift-only"));
    lift_only.roles = vec!["lift".into()];
    let items = vec![
        lift_only,
        long_lived(sample::promo("promo", "Café")),
        long_lived(sample::flash("urgent", Severity::Urgent)),
    ];
    let snap = snapshot(items, at("2026-01-01T00:00:00Z"));
    let t = at("2026-11-24T09:00:00Z");
    let cases = [
        (screen("lift", &Channel::ALL), vec!["lift-only", "promo", "urgent"]),
        (screen("lobby-left", &Channel::ALL), vec!["promo", "urgent"]),
        (screen("lobby-right", &[Channel::Neighbourhood]), vec!["urgent"]),
    ];
    for (screen, expected) in cases {
        let p = Playlist::new(&snap, &screen, &paris(), &HashSet::new());
        let mut shown: Vec<_> =
            p.showings(t, t + 5.minutes()).iter().filter_map(|s| s.item_id().map(str::to_owned)).collect();
        shown.sort();
        shown.dedup();
        assert_eq!(shown, expected, "screen {}", screen.name);
    }
}

#[test]
fn excluded_items_are_skipped_and_the_rotation_goes_on() {
    let snap = snapshot(
        vec![long_lived(sample::news("a")), long_lived(sample::news("b"))],
        at("2026-01-01T00:00:00Z"),
    );
    let excluded = HashSet::from(["a".to_owned()]);
    let p = Playlist::new(&snap, &lift(), &paris(), &excluded);
    let t = at("2026-11-24T09:00:00Z");
    assert!(p.showings(t, t + 2.minutes()).iter().all(|s| s.item_id() == Some("b")));
}

#[test]
fn the_same_snapshot_gives_the_same_answer_on_every_screen_and_after_a_restart() {
    let items: Vec<Item> = (0..12).map(|i| long_lived(sample::offer(&format!("o{i}"), "Léa"))).collect();
    let first = playlist(items.clone());
    let restarted = playlist(items);
    for minute in 0..200 {
        let t = at("2026-11-24T09:00:00Z") + (minute * 7).minutes() + 13.seconds();
        assert_eq!(first.showing_at(t), restarted.showing_at(t));
    }
}

#[test]
fn short_pieces_at_boundaries_are_merged_not_flashed() {
    let mut items: Vec<Item> = (0..3).map(|i| long_lived(sample::news(&format!("n{i}")))).collect();
    // A new item becomes valid at an instant unrelated to the slot grid.
    let mut late = long_lived(sample::news("late"));
    late.valid_from = at("2026-11-24T09:00:01.500Z");
    items.push(late);
    let p = playlist(items);
    let t = at("2026-11-24T08:58:00Z");
    let showings = p.showings(t, t + 10.minutes());
    assert_consistent(&p, &showings);
    for s in &showings[1..showings.len() - 1] {
        assert!(s.duration() >= MIN_PIECE, "{s:?} is too short");
    }
}

/// The demo pack on the lift screen: one full rotation never shows the same item twice in a
/// row, and changes channel whenever the mix allows.
#[test]
fn the_demo_rotation_varies_items_and_channels() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo");
    let now = sample::now();
    let pack = palier_content::demo::DemoPack::load(&dir, now).unwrap();
    let items: Vec<Item> = pack.manifest.items.into_iter().filter(|i| !i.is_urgent()).collect();
    let p = Playlist::new(&snapshot(items.clone(), now - 1.hour()), &lift(), &paris(), &HashSet::new());
    let channel: HashMap<&str, Channel> = items.iter().map(|i| (i.id.as_str(), i.channel)).collect();
    let showings = p.showings(now, now + p.cycle_length(now) * 2);
    let order = ids(&showings);
    for pair in order.windows(2) {
        assert_ne!(pair[0], pair[1], "the same item twice in a row: {order:?}");
        assert_ne!(channel[pair[0]], channel[pair[1]], "the same channel twice in a row: {order:?}");
    }
}

#[test]
fn one_origin_with_many_items_rotates_its_soonest_only() {
    let t0 = at("2026-11-24T08:00:00Z");
    // Twenty city events a day apart, three neighbour offers and an unnamed flash.
    let mut items: Vec<Item> = (0..20)
        .map(|n| {
            let mut event = long_lived(sample::event(&format!("event-{n:02}")));
            event.origin = Some("Ville de Lyon — agenda".into());
            if let Details::Event(e) = &mut event.details {
                e.starts_at = t0 + SignedDuration::from_hours(24 * (20 - n));
            }
            event
        })
        .collect();
    items.extend((0..3).map(|n| long_lived(sample::offer(&format!("offer-{n}"), "Camille"))));
    items.push(long_lived(sample::flash("flash-eau", Severity::Info)));
    // (cap, how many events rotate, which come first)
    for (cap, events, first) in [(8, 8, "event-19"), (3, 3, "event-19"), (0, 20, "event-00")] {
        let mut screen = lift();
        screen.max_per_origin = cap;
        let playlist = Playlist::new(&snapshot(items.clone(), t0), &screen, &paris(), &HashSet::new());
        let mut seen: Vec<String> = playlist
            .showings(t0, t0 + SignedDuration::from_hours(2))
            .iter()
            .filter_map(|s| s.item_id().map(str::to_owned))
            .filter(|id| id.starts_with("event-"))
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), events, "cap {cap}: {seen:?}");
        // The soonest events are the kept ones (event-19 starts first, event-00 last).
        assert_eq!(seen.last().map(String::as_str), Some("event-19"), "cap {cap}");
        assert!(seen.iter().any(|id| id == first), "cap {cap}");
        let others: usize = playlist
            .showings(t0, t0 + SignedDuration::from_hours(2))
            .iter()
            .filter(|s| s.item_id().is_some_and(|id| !id.starts_with("event-")))
            .count();
        assert!(others > 0, "cap {cap}: the offers and the flash still show");
    }
}
