//! The whole chain with real processes: a landlord's urgent flash on every screen within
//! seconds, online and offline, withdrawn, a neighbour leaving, a board without network and a
//! board restarting after a power cut; the lift company's monitoring, and an item for a
//! neighbourhood reaching the boards of two buildings.
//!
//! Scenarios run one at a time: each starts a platform and two boards (a lift screen and a
//! three-screen lobby unit), and timing claims need the machine's two cores.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use palier_tests::{Board, LIFT, LOBBY, Platform, offer, urgent_flash, wait_until};
use serde_json::json;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A served platform with a lift board and a lobby board, both running and synced.
fn building(poll_interval_s: u64) -> (Platform, Board, Board) {
    let mut platform = Platform::init();
    platform.serve();
    let mut lift = Board::new(&platform, &platform.device_code("lift"), LIFT, poll_interval_s);
    let mut lobby = Board::new(
        &platform,
        &platform.device_code("lobby-left,lobby-centre,lobby-right"),
        LOBBY,
        poll_interval_s,
    );
    for board in [&mut lift, &mut lobby] {
        board.start_sync();
        board.start_player();
    }
    for board in [&lift, &lobby] {
        let ready = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(Duration::from_secs(60), "both boards are enrolled and play", || {
                board.data.credentials().exists() && board.statuses().len() == board.screens.len()
            })
        }));
        ready.unwrap_or_else(|_| panic!("the board did not start: {:?}\n{}", board.statuses(), board.logs()));
    }
    (platform, lift, lobby)
}

fn wait_all_show(board: &Board, id: &str, timeout: Duration) -> Duration {
    let mut last = Vec::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until(timeout, &format!("every screen shows {id:?}"), || {
            last = board.statuses();
            board.all_show(id)
        })
    }));
    result.unwrap_or_else(|_| panic!("not every screen shows {id:?}: {last:?}\n{}", board.logs()))
}

fn wait_none_shows(board: &Board, id: &str, timeout: Duration) -> Duration {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until(timeout, &format!("no screen shows {id:?}"), || board.none_shows(id))
    }));
    result.unwrap_or_else(|_| panic!("{id:?} still shows: {:?}\n{}", board.statuses(), board.logs()))
}

#[test]
fn an_urgent_flash_reaches_every_screen_and_its_plays_say_where() {
    let _serial = serial();
    let (platform, lift, lobby) = building(10);
    platform.publish(&platform.landlord, urgent_flash("flash-lift", "Ascenseur à l'arrêt", 30));
    for board in [&lift, &lobby] {
        wait_all_show(board, "flash-lift", Duration::from_secs(20));
    }
    // The boards upload their plays; the landlord sees every screen of the building.
    let expected: HashSet<&str> = ["lift", "lobby-left", "lobby-centre", "lobby-right"].into();
    wait_until(Duration::from_secs(120), "the platform lists every screen", || {
        let plays = platform.plays(&platform.landlord, "flash-lift");
        let screens: HashSet<String> = plays["screens"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["screen"].as_str().map(str::to_owned))
            .collect();
        expected.iter().all(|s| screens.contains(*s))
    });
}

#[test]
fn a_flash_leaves_at_valid_until_while_the_platform_is_down() {
    let _serial = serial();
    let (mut platform, lift, lobby) = building(60);
    let now = Timestamp::now();
    let until = now + jiff::SignedDuration::from_secs(12);
    let mut flash = urgent_flash("flash-short", "Coupure d'eau imminente", 1);
    flash["valid_until"] = json!(until.to_string());
    platform.publish(&platform.landlord, flash);
    for board in [&lift, &lobby] {
        wait_all_show(board, "flash-short", Duration::from_secs(10));
    }
    platform.stop();
    for board in [&lift, &lobby] {
        wait_none_shows(board, "flash-short", Duration::from_secs(20));
    }
    let late = Timestamp::now().duration_since(until);
    assert!(late < jiff::SignedDuration::from_secs(3), "the flash left {late} after valid_until");
}

#[test]
fn a_withdrawn_flash_leaves_every_screen_after_the_change_hint() {
    let _serial = serial();
    // Polling every ten minutes: only the change hint can explain a quick withdrawal.
    let (platform, lift, lobby) = building(600);
    platform.publish(&platform.landlord, urgent_flash("flash-wrong", "Réunion annulée", 30));
    for board in [&lift, &lobby] {
        wait_all_show(board, "flash-wrong", Duration::from_secs(15));
    }
    platform.withdraw(&platform.landlord, "flash-wrong");
    for board in [&lift, &lobby] {
        wait_none_shows(board, "flash-wrong", Duration::from_secs(10));
    }
}

#[test]
fn a_neighbour_who_leaves_disappears_with_their_photos() {
    let _serial = serial();
    let (platform, lift, lobby) = building(600);
    let photo = std::fs::read(palier_tests::demo_dir().join("media/voisin-pinceaux.jpg")).unwrap();
    let sha = platform.upload_media(photo);
    platform.publish(&platform.neighbourhood, offer("offre-karim", "p-karim", "Karim", Some(&sha)));
    platform.publish(&platform.neighbourhood, offer("offre-lea", "p-lea", "Léa", None));
    for board in [&lift, &lobby] {
        wait_until(Duration::from_secs(20), "the offers and the photo reach the board", || {
            board.media_files().iter().any(|f| f.starts_with(&sha))
                && board.statuses().iter().any(|s| s.item_id.starts_with("offre-"))
        });
    }
    platform.forget_person("p-karim");
    for board in [&lift, &lobby] {
        wait_none_shows(board, "offre-karim", Duration::from_secs(10));
        wait_until(Duration::from_secs(10), "Karim's photo leaves the board", || {
            !board.media_files().iter().any(|f| f.starts_with(&sha))
        });
        wait_until(Duration::from_secs(20), "Léa's offer still shows", || {
            board.statuses().iter().any(|s| s.item_id == "offre-lea")
        });
    }
}

#[test]
fn plays_recorded_offline_are_counted_once_when_the_platform_returns() {
    let _serial = serial();
    let (mut platform, mut lift, _lobby) = building(5);
    platform.publish(&platform.neighbourhood, offer("offre-a", "p-a", "Anne", None));
    platform.publish(&platform.neighbourhood, offer("offre-b", "p-b", "Bruno", None));
    wait_until(Duration::from_secs(20), "both offers rotate on the lift", || {
        lift.statuses().iter().any(|s| s.item_id.starts_with("offre-"))
    });
    platform.stop();
    let offline_since = Timestamp::now();
    // The screen keeps rotating and recording while the platform is away.
    wait_until(Duration::from_secs(60), "the lift records two showings offline", || {
        lift.pending_plays().iter().filter(|p| p.started_at >= offline_since).count() >= 2
    });
    lift.stop_player();
    let pending = lift.pending_plays();
    let offline: Vec<_> = pending.iter().filter(|p| p.started_at >= offline_since).cloned().collect();
    assert!(offline.len() >= 2, "plays recorded offline since {offline_since}: {pending:?}\n{}", lift.logs());
    platform.serve();
    wait_until(Duration::from_secs(60), "every pending play is uploaded", || lift.pending_plays().is_empty());
    let mut counted: HashMap<String, usize> = HashMap::new();
    for id in ["offre-a", "offre-b"] {
        let plays = platform.plays(&platform.neighbourhood, id);
        for play in plays["plays"].as_array().into_iter().flatten() {
            *counted.entry(play["id"].as_str().unwrap_or_default().to_owned()).or_default() += 1;
        }
    }
    for play in offline.iter().filter(|p| p.item_id.starts_with("offre-")) {
        assert_eq!(counted.get(&play.id), Some(&1), "play {} counted once", play.id);
    }
}

#[test]
fn a_board_without_network_shows_the_fallback_then_content() {
    let _serial = serial();
    let mut platform = Platform::init();
    // Served once so its address is known, then gone before the board ever starts.
    platform.serve();
    platform.stop();
    let mut lobby =
        Board::new(&platform, &platform.device_code("lobby-left,lobby-centre,lobby-right"), LOBBY, 5);
    // No cache and no platform: the player starts on the fallback slide and keeps probing.
    lobby.start_player();
    wait_all_show(&lobby, "", Duration::from_secs(10));
    lobby.start_sync();
    platform.serve();
    platform.publish(&platform.landlord, urgent_flash("flash-hello", "Bienvenue aux nouveaux voisins", 30));
    wait_all_show(&lobby, "flash-hello", Duration::from_secs(40));
}

#[test]
fn a_board_restarted_after_a_power_cut_shows_content_before_any_network_round() {
    let _serial = serial();
    let (mut platform, mut lift, _lobby) = building(60);
    platform.publish(&platform.landlord, urgent_flash("flash-works", "Travaux dans le hall", 30));
    wait_all_show(&lift, "flash-works", Duration::from_secs(15));
    lift.kill_all();
    platform.stop();
    // Only the player comes back: no daemon, no platform, only the cache on disk.
    lift.start_player();
    let took = wait_all_show(&lift, "flash-works", Duration::from_secs(10));
    assert!(took < Duration::from_secs(10), "content after {took:?}");
}

#[test]
fn a_lift_out_of_service_shows_on_its_screens_and_leaves_when_it_runs_again() {
    let _serial = serial();
    let (platform, lift, lobby) = building(60);
    let lift_id = palier_tests::printed_value(&platform.admin(&[
        "lift",
        "add",
        "--building",
        &platform.building,
        "--name",
        "Ascenseur A",
    ]));
    let company = palier_tests::printed_value(&platform.admin(&[
        "publisher",
        "add",
        "--role",
        "lift",
        "--building",
        &platform.building,
        "--name",
        "Ascenseurs Rhône",
    ]));
    let path = format!("/v1/lift/{lift_id}/status");
    let down = json!({"status": "out_of_service", "expected_return": (Timestamp::now() + jiff::SignedDuration::from_hours(3)).to_string()});
    for _ in 0..3 {
        platform.post(&path, &company, down.clone());
    }
    let (on_lift, in_hall) = (format!("{lift_id}-arret"), format!("{lift_id}-arret-hall"));
    let took = wait_all_show(&lift, &on_lift, Duration::from_secs(20));
    wait_all_show(&lobby, &in_hall, Duration::from_secs(20));
    eprintln!("out of service on the lift screen after {took:?}");
    let answer = platform.post(&path, &company, json!({"status": "in_service"}));
    assert_eq!(answer["withdrawn"].as_array().map(Vec::len), Some(2), "{answer}");
    wait_none_shows(&lift, &on_lift, Duration::from_secs(20));
    wait_none_shows(&lobby, &in_hall, Duration::from_secs(20));
    wait_all_show(&lift, &format!("{lift_id}-retour"), Duration::from_secs(20));
}

#[test]
fn an_item_for_a_neighbourhood_reaches_the_boards_of_its_buildings() {
    let _serial = serial();
    let mut platform = Platform::init();
    let other = palier_tests::printed_value(&platform.admin(&[
        "building",
        "add",
        "--name",
        "Résidence Les Acacias",
        "--time-zone",
        "Europe/Paris",
    ]));
    let area = palier_tests::printed_value(&platform.admin(&[
        "area",
        "add",
        "--name",
        "Quartier des Pentes",
        "--kind",
        "neighbourhood",
        "--building",
        &platform.building,
    ]));
    platform.admin(&["area", "join", &area, "--building", &other]);
    let app = palier_tests::printed_value(&platform.admin(&[
        "publisher",
        "add",
        "--role",
        "landlord",
        "--area",
        &area,
    ]));
    platform.serve();
    let mut here = Board::new(&platform, &platform.device_code("lift"), LIFT, 60);
    let mut there = Board::new(&platform, &platform.device_code_in(&other, "lift"), LIFT, 60);
    for board in [&mut here, &mut there] {
        board.start_sync();
        board.start_player();
    }
    for board in [&here, &there] {
        wait_until(Duration::from_secs(60), "both boards are enrolled and play", || {
            board.data.credentials().exists() && board.statuses().len() == board.screens.len()
        });
    }
    let mut flash = urgent_flash("flash-quartier", "Coupure d'eau dans tout le quartier", 30);
    flash["areas"] = json!([area]);
    let published = platform.publish(&app, flash);
    assert_eq!(published["reach"].as_array().map(Vec::len), Some(2), "{published}");
    for board in [&here, &there] {
        wait_all_show(board, "flash-quartier", Duration::from_secs(20));
    }
}
