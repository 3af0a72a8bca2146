//! The daemon in this process: change hints, and a platform that goes away and comes back.

use std::time::Duration;

use palier_platform::Role;

use crate::support::*;

#[tokio::test]
async fn a_publish_reaches_the_cache_through_the_change_hint() {
    let platform = Platform::start().await;
    let building = platform.building("Résidence Les Tilleuls").await;
    let landlord = platform.publisher(Role::Landlord, &[&building]).await;
    platform.publish(&landlord, &flash("flash-eau", "Coupure d’eau mardi, 9 h – 12 h")).await;
    let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
    // An hour between polls: only the hint can explain a second round within the deadline.
    let (mut status, stop, task) = spawn_daemon(board.fast_config(Duration::from_secs(3600)));
    let first = wait_for(&mut status, "a first round and an open stream", |s| {
        s.last_round_ok == Some(true) && s.stream_connected
    })
    .await;

    let generation = platform.publish(&landlord, &flash("flash-ascenseur", "Ascenseur en maintenance")).await
        ["generation"]
        .as_u64()
        .unwrap();
    assert!(generation > first.generation);
    let later = wait_for(&mut status, "the published generation", |s| s.generation >= generation).await;
    assert!(later.rounds >= 2, "{later:?}");
    assert!(board.snapshot().item("flash-ascenseur").is_some(), "the new flash is in the cache");

    let _ = stop.send(());
    within("daemon shutdown", task).await.unwrap().unwrap();
    platform.stop().await;
}

#[tokio::test]
async fn a_platform_that_goes_away_leaves_the_content_and_is_retried_until_it_returns() {
    let mut platform = Platform::start().await;
    let building = platform.building("Résidence Les Tilleuls").await;
    let shop = platform.publisher(Role::Shop, &[&building]).await;
    let picture = platform.upload(&shop, jpeg(800, 600, 3)).await;
    platform.publish(&shop, &promo("promo-cafe", &[&picture])).await;
    let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
    let (mut status, stop, task) = spawn_daemon(board.fast_config(Duration::from_millis(300)));
    wait_for(&mut status, "a first round", |s| s.last_round_ok == Some(true)).await;
    let before = board.snapshot();
    let files = board.media_files();

    platform.pause().await;
    let down = wait_for(&mut status, "a failed round", |s| s.last_round_ok == Some(false)).await;
    let failed_rounds = down.rounds;
    wait_for(&mut status, "a retry", |s| s.rounds >= failed_rounds + 2).await;
    assert_eq!(board.snapshot(), before, "the content stays while the platform is away");
    assert_eq!(board.media_files(), files);
    assert!(board.last_error().is_some());

    platform.restart().await;
    let generation =
        platform.publish(&shop, &promo("promo-fleuriste", &[])).await["generation"].as_u64().unwrap();
    wait_for(&mut status, "recovery to the new generation", |s| {
        s.generation >= generation && s.last_round_ok == Some(true)
    })
    .await;
    assert!(board.snapshot().item("promo-fleuriste").is_some());
    assert_eq!(board.last_error(), None);

    let _ = stop.send(());
    within("daemon shutdown", task).await.unwrap().unwrap();
}
