//! Every part of the reliability soak, a few iterations long, so `bench/soak` cannot rot:
//! the same code as the long runs, against the real platform, daemon and player binaries.

use std::time::Duration;

use palier_bench::soak::{self, PartReport};
use palier_bench::windowed::Backend;

fn passed(report: &PartReport) {
    println!("{}", report.table());
    assert!(report.passed(), "{} failed:\n{}", report.part, report.failures.join("\n"));
}

#[test]
fn a_few_kills_during_a_publishing_stream_leave_the_cache_whole() {
    let settings = soak::crashes::Settings { kills: 4, seed: 19, longest_run: Duration::from_millis(1500) };
    let report = soak::crashes::run(&settings);
    passed(&report);
    let figures = &report.json;
    assert_eq!(figures["integrity_ok"].as_u64().unwrap() + figures["no_cache_yet"].as_u64().unwrap(), 4);
    assert_eq!(figures["settled"], 4);
    assert!(figures["plays_appended"].as_u64().unwrap() > 0);
    assert!(figures["reader_snapshots"].as_u64().unwrap() > 0);
}

#[test]
fn three_offline_days_through_a_clock_change_keep_every_window() {
    let report = soak::offline::run(&soak::offline::Settings { days: 3, items: 8, seed: 7 });
    passed(&report);
    let figures = &report.json;
    let (start, end, change) = (
        figures["start"].as_str().unwrap().to_owned(),
        figures["end"].as_str().unwrap().to_owned(),
        figures["dst_change"].as_str().unwrap().to_owned(),
    );
    let at = |t: &str| t.parse::<jiff::Timestamp>().unwrap();
    assert!(at(&start) < at(&change) && at(&change) < at(&end), "{start} {change} {end}");
    assert!(figures["showings"].as_u64().unwrap() > 1000);
    assert!(figures["fallback"].as_u64().unwrap() > 0, "the empty day and a half shows the fallback");
    assert_eq!(figures["plays_on_platform"], figures["item_plays_journaled"]);
}

#[test]
fn a_few_dozen_boards_hear_every_publish() {
    let settings = soak::boards::Settings {
        boards: 40,
        duration: Duration::from_secs(20),
        poll: Duration::from_secs(5),
        publish_every: Duration::from_secs(11),
        seed: 3,
    };
    let report = soak::boards::run(&settings);
    passed(&report);
    assert!(report.json["publishes"].as_u64().unwrap() >= 1);
    assert!(report.json["polls"].as_u64().unwrap() >= 40);
}

#[test]
fn the_windowed_player_rotates_a_few_dozen_slides() {
    let work = tempfile::tempdir().unwrap();
    let settings = soak::rotation::Settings {
        crossfades: 24,
        backend: Backend::Vulkan,
        sample_every: Duration::from_secs(2),
        monitor: (1920, 1080),
    };
    let report =
        soak::rotation::run(&settings, &palier_testkit::processes::binary("palier-player"), work.path());
    passed(&report);
    assert!(report.json["slide_changes"].as_u64().unwrap() >= 24);
    assert!(report.json["frames"].as_u64().unwrap() > 24, "crossfades draw frames");
}

#[test]
fn the_soak_command_writes_its_table_and_json() {
    let out = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_palier-soak"))
        .arg("--out")
        .arg(out.path())
        .args(["offline", "--days", "2", "--items", "4", "--seed", "5"])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("| showings checked |"), "{printed}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("offline.json")).unwrap()).unwrap();
    assert_eq!(json["part"], "offline");
    assert!(json["run"]["commit"].is_string());
    assert!(json["failures"].as_array().unwrap().is_empty());
}
