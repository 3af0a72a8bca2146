//! Proof of play through the real binary: plays survive restarts of the daemon and outages
//! of the platform, leave the journal only once acknowledged, and count once.

use jiff::{SignedDuration, Timestamp};
use palier_content::PlaysJournal;
use palier_content::wire::{PlayRecord, PlayTrigger};
use palier_platform::Role;

use crate::support::*;

fn play(n: usize) -> PlayRecord {
    PlayRecord {
        id: format!("play-{n:04}"),
        item_id: "promo-cafe".into(),
        item_version: 1,
        screen: "lift".into(),
        role: "lift".into(),
        started_at: Timestamp::now() - SignedDuration::from_secs(3600 - n as i64),
        duration_ms: 8000,
        trigger: PlayTrigger::Rotation,
        clock_trusted: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_survive_restarts_and_the_platform_counts_each_once() {
    let mut platform = Platform::start().await;
    let building = platform.building("Résidence Les Tilleuls").await;
    let shop = platform.publisher(Role::Shop, &[&building]).await;
    platform.publish(&shop, &promo("promo-cafe", &[])).await;
    let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
    let first = run_binary(&board.config_path, &["sync-once"]).await;
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));

    // The player recorded 700 plays (more than one batch) and one the platform will refuse.
    let journal_path = board.data().journal();
    let journal = PlaysJournal::open(&journal_path).unwrap();
    for n in 0..700 {
        journal.append(&play(n)).unwrap();
    }
    journal.append(&PlayRecord { id: "play-broken".into(), duration_ms: 0, ..play(999) }).unwrap();

    // The platform is away: the round fails, the binary says so, nothing leaves the journal.
    platform.pause().await;
    let offline = run_binary(&board.config_path, &["sync-once"]).await;
    assert!(!offline.status.success(), "a failed round exits non-zero");
    assert!(String::from_utf8_lossy(&offline.stderr).contains("error"), "{offline:?}");
    assert_eq!(journal.pending_count().unwrap(), 701, "nothing removed without an acknowledgement");

    // Back on the same port: a restarted daemon uploads everything, in batches.
    platform.restart().await;
    let online = run_binary(&board.config_path, &["sync-once"]).await;
    assert!(online.status.success(), "{}", String::from_utf8_lossy(&online.stderr));
    assert!(String::from_utf8_lossy(&online.stdout).contains("700 plays uploaded, 0 pending"), "{online:?}");
    assert_eq!(journal.pending_count().unwrap(), 0, "acknowledged and rejected records left the journal");
    assert_eq!(platform.plays(&shop, "promo-cafe").await["total"], 700);

    // An acknowledgement lost on the way (records still in the journal): uploaded again,
    // counted once.
    for n in 0..100 {
        journal.append(&play(n)).unwrap();
    }
    let again = run_binary(&board.config_path, &["sync-once"]).await;
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(journal.pending_count().unwrap(), 0);
    let proof = platform.plays(&shop, "promo-cafe").await;
    assert_eq!(proof["total"], 700, "{}", proof["screens"]);
}
