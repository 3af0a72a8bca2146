//! `kill -9` of the real daemon at random moments of its rounds: the cache must always pass
//! SQLite's integrity check, hold the old generation or the new one, and reference only
//! pictures that are on disk under their own hash. Partial downloads resume afterwards.

use std::time::Instant;

use palier_platform::Role;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags};

use crate::support::*;

/// The manifest generation in the cache, after checking the file's integrity; 0 before the
/// first commit.
fn checked_generation(board: &TestBoard) -> u64 {
    let path = board.data().cache();
    if !path.exists() {
        return 0;
    }
    let db = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE).unwrap();
    let verdict: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(verdict, "ok");
    let tables: i64 =
        db.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'state'", [], |r| r.get(0)).unwrap();
    if tables == 0 {
        return 0; // killed while creating the schema
    }
    db.query_row("SELECT source_generation FROM state", [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_leaves_the_old_or_the_new_generation() {
    let platform = Platform::start().await;
    let building = platform.building("Résidence Les Tilleuls").await;
    let shop = platform.publisher(Role::Shop, &[&building]).await;
    let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
    // PALIER_CRASH_SEED=N draws the same kill moments again (the round's timing still varies).
    let seed: u64 =
        std::env::var("PALIER_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("kill moments drawn with seed {seed} (PALIER_CRASH_SEED={seed} draws them again)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    // A round's length, measured once (it brings two big pictures and their renditions).
    let publish_round = |n: u32| {
        let (platform, shop) = (&platform, &shop);
        async move {
            let a = platform.upload(shop, jpeg(1000, 700, 2 * n)).await;
            let b = platform.upload(shop, jpeg(700, 1000, 2 * n + 1)).await;
            let item = promo(&format!("promo-{}", n % 3), &[&a, &b]);
            let answer =
                if n < 3 { platform.publish(shop, &item).await } else { platform.update(shop, &item).await };
            answer["generation"].as_u64().unwrap()
        }
    };
    let mut latest = publish_round(0).await;
    let started = Instant::now();
    let calibration = run_binary(&board.config_path, &["sync-once"]).await;
    let full_run = started.elapsed();
    assert!(calibration.status.success(), "{}", String::from_utf8_lossy(&calibration.stderr));
    // Enrolment gave the device a generation of its own, above the publish before it.
    assert!(checked_generation(&board) >= latest);
    println!("an uninterrupted sync-once takes {full_run:?}");

    let mut outcomes = (0, 0);
    for n in 1..=20 {
        let old = checked_generation(&board);
        latest = publish_round(n).await;
        // Up to one and a half rounds: most kills land inside a round, some after it.
        let moment = full_run.mul_f64(1.5 * rng.random::<f64>());
        let mut child = palier_sync(&board.config_path, &["sync-once"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(moment).await; // the kill moment, not a wait for readiness
        let _ = child.kill(); // SIGKILL
        within("the killed daemon", async {
            tokio::task::spawn_blocking(move || child.wait()).await.unwrap()
        })
        .await
        .unwrap();

        let held = checked_generation(&board);
        assert!(
            held == old || held == latest,
            "kill {n} at {moment:?}: generation {held}, not {old} or {latest}"
        );
        if held == latest {
            outcomes.1 += 1
        } else {
            outcomes.0 += 1
        }
        if held > 0 {
            assert_media_verified(&board.snapshot());
        }
    }
    println!("after 20 kills: {} rounds left the old generation, {} the new one", outcomes.0, outcomes.1);

    // The next uninterrupted round finishes the work, resuming what was left.
    let last = run_binary(&board.config_path, &["sync-once"]).await;
    assert!(last.status.success(), "{}", String::from_utf8_lossy(&last.stderr));
    assert_eq!(checked_generation(&board), latest);
    let snapshot = board.snapshot();
    assert_eq!(snapshot.items.len(), 3);
    assert_media_verified(&snapshot);
    assert!(board.media_files().iter().all(|f| !f.ends_with(".partial")), "{:?}", board.media_files());
}
