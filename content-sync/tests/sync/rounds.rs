//! Single rounds through the library: the first sync, withdrawals, corrupted media, a
//! foreign signature.

use palier_content::cache::rendition_path;
use palier_platform::Role;
use palier_platform::signing::ManifestSigner;
use palier_sync::board::Board;
use palier_sync::{BoardError, SyncError};

use crate::support::*;

/// A platform with a building, a shop with a big and a small picture, a landlord's flash.
async fn stocked() -> (Platform, String, String, String) {
    let platform = Platform::start().await;
    let building = platform.building("Résidence Les Tilleuls").await;
    let shop = platform.publisher(Role::Shop, &[&building]).await;
    let landlord = platform.publisher(Role::Landlord, &[&building]).await;
    let big = platform.upload(&shop, jpeg(1200, 800, 1)).await;
    let small = platform.upload(&shop, png(300, 200)).await;
    platform.publish(&shop, &promo("promo-cafe", &[&big, &small])).await;
    platform.publish(&landlord, &flash("flash-eau", "Coupure d’eau mardi, 9 h – 12 h")).await;
    (platform, building, shop, landlord)
}

#[tokio::test]
async fn the_first_sync_fills_the_cache_and_the_second_costs_a_304() {
    let (platform, building, _shop, _landlord) = stocked().await;
    let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
    let opened = Board::open(board.config()).unwrap();
    let (report, _) = within("first sync", opened.sync_once()).await.unwrap();
    assert_eq!((report.added, report.quarantined, report.held_back), (2, 0, 0), "{report:?}");
    assert!(report.changed && report.bytes_downloaded > 10_000, "{report:?}");

    let snapshot = board.snapshot();
    let ids: Vec<&str> = snapshot.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["flash-eau", "promo-cafe"]);
    assert_eq!(snapshot.building.as_ref().unwrap().name, "Résidence Les Tilleuls");
    assert_media_verified(&snapshot);
    let promo = snapshot.item("promo-cafe").unwrap();
    let (big, small) = (&promo.media[0], &promo.media[1]);
    let rendition = std::fs::read(rendition_path(&snapshot.media_dir, &big.sha256)).unwrap();
    let rendition = image::load_from_memory(&rendition).unwrap();
    assert_eq!((rendition.width(), rendition.height()), (SIDE, 427), "fitted to the screen side");
    assert!(!rendition_path(&snapshot.media_dir, &small.sha256).exists(), "a small picture is used as it is");
    assert_eq!(
        board.media_files().len(),
        3,
        "two pictures and one rendition, no partial: {:?}",
        board.media_files()
    );

    let (again, _) = opened.sync_once().await.unwrap();
    assert!(again.not_modified, "the stored ETag makes the second round a 304: {again:?}");
    assert_eq!(board.snapshot().generation, snapshot.generation);

    // The heartbeat reached the platform and names what the board holds.
    let reports = platform.store.device_reports(None).await.unwrap();
    let (_, beat) = reports[0].heartbeat.clone().expect("a heartbeat arrived");
    assert_eq!(beat.generation, report.generation);
    assert!(beat.last_sync_at.is_some() && beat.free_disk_bytes > 0 && beat.clock.trusted, "{beat:?}");
}

#[tokio::test]
async fn a_withdrawn_item_leaves_with_its_pictures() {
    let (platform, building, shop, _landlord) = stocked().await;
    let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
    let opened = Board::open(board.config()).unwrap();
    opened.sync_once().await.unwrap();
    assert_eq!(board.media_files().len(), 3);

    platform.withdraw(&shop, "promo-cafe").await;
    let (report, _) = opened.sync_once().await.unwrap();
    assert_eq!((report.removed, report.added), (1, 0), "{report:?}");
    let ids: Vec<String> = board.snapshot().items.into_iter().map(|i| i.id).collect();
    assert_eq!(ids, ["flash-eau"]);
    assert_eq!(board.media_files(), Vec::<String>::new(), "pictures and rendition collected");
}

#[tokio::test]
async fn corrupted_media_never_reach_the_cache_and_quarantine_their_item() {
    // (how the platform's stored copy is damaged, words of the quarantine reason)
    type Damage = fn(&mut Vec<u8>);
    let cases: [(&str, Damage, &str); 3] = [
        ("a flipped byte", |b| b[500] ^= 0x55, "hash to sha256"),
        ("extra bytes", |b| b.extend_from_slice(&[0; 4096]), "more than the"),
        ("a truncated file", |b| b.truncate(b.len() / 2), "served"),
    ];
    for (case, damage, reason) in cases {
        let (platform, building, shop, _landlord) = stocked().await;
        let bad = platform.upload(&shop, jpeg(900, 600, 2)).await;
        platform.publish(&shop, &promo("promo-boulangerie", &[&bad])).await;
        let path = platform.media_file(&bad);
        let original = std::fs::read(&path).unwrap();
        let mut bytes = original.clone();
        damage(&mut bytes);
        std::fs::write(&path, bytes).unwrap();

        let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
        let opened = Board::open(board.config()).unwrap();
        let (report, _) = opened.sync_once().await.unwrap();
        assert_eq!((report.added, report.quarantined), (2, 1), "{case}: {report:?}");
        let snapshot = board.snapshot();
        assert!(snapshot.item("promo-boulangerie").is_none(), "{case}");
        let quarantined = &snapshot.quarantined[0];
        assert_eq!(quarantined.id, "promo-boulangerie");
        assert!(
            quarantined.reason.contains(&bad) && quarantined.reason.contains(reason),
            "{case}: {quarantined:?}"
        );
        assert!(
            !board.media_files().iter().any(|f| f.starts_with(&bad)),
            "{case}: {:?}",
            board.media_files()
        );
        assert_media_verified(&snapshot);

        // No ETag was kept: once the platform's copy is repaired, the next round brings it.
        std::fs::write(&path, &original).unwrap();
        let (repaired, _) = opened.sync_once().await.unwrap();
        assert!(!repaired.not_modified && repaired.complete(), "{case}: {repaired:?}");
        assert!(board.snapshot().item("promo-boulangerie").is_some(), "{case}");
        assert!(board.snapshot().quarantined.is_empty(), "{case}");
    }
}

#[tokio::test]
async fn a_manifest_signed_by_another_key_changes_nothing() {
    let (platform, building, _shop, landlord) = stocked().await;
    let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
    Board::open(board.config()).unwrap().sync_once().await.unwrap();
    let before = board.snapshot();

    platform.publish(&landlord, &flash("flash-ascenseur", "Ascenseur en maintenance")).await;
    let impostor = ManifestSigner::generate().public_key();
    let error = Board::open(board.rekeyed(&impostor)).unwrap().sync_once().await.unwrap_err();
    assert!(matches!(error, BoardError::Sync(SyncError::Signature(_))), "{error}");
    assert!(error.to_string().contains("sync.platform_key"), "{error}");
    assert_eq!(board.snapshot(), before, "nothing changed");
    assert!(board.last_error().unwrap().contains("signature"), "the refusal is recorded for the heartbeat");

    // The right key takes the same manifest.
    let (report, _) = Board::open(board.config()).unwrap().sync_once().await.unwrap();
    assert_eq!(report.added, 1);
    assert_eq!(board.last_error(), None);
}

#[tokio::test]
async fn a_picture_out_of_reach_holds_its_item_back_and_the_cached_version_stays() {
    let (platform, building, shop, _landlord) = stocked().await;
    let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
    let opened = Board::open(board.config()).unwrap();
    opened.sync_once().await.unwrap();
    let cached = board.snapshot().item("promo-cafe").unwrap().clone();

    // The platform loses the files of a new version and of a new item: it answers 500.
    let replacement = platform.upload(&shop, jpeg(700, 500, 9)).await;
    let newcomer = platform.upload(&shop, jpeg(500, 700, 10)).await;
    platform.update(&shop, &promo("promo-cafe", &[&replacement])).await;
    platform.publish(&shop, &promo("promo-fleuriste", &[&newcomer])).await;
    let files: Vec<_> = [&replacement, &newcomer].iter().map(|sha| platform.media_file(sha)).collect();
    let saved: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    files.iter().for_each(|f| std::fs::remove_file(f).unwrap());

    let (report, _) = opened.sync_once().await.unwrap();
    assert_eq!((report.held_back, report.quarantined), (2, 0), "{report:?}");
    assert!(!report.complete());
    let snapshot = board.snapshot();
    assert_eq!(snapshot.item("promo-cafe"), Some(&cached), "the cached version stays");
    assert!(snapshot.item("promo-fleuriste").is_none(), "a new item waits for its picture");
    assert_media_verified(&snapshot);

    // The files come back: the next round (no ETag was kept) completes the work.
    files.iter().zip(&saved).for_each(|(f, bytes)| std::fs::write(f, bytes).unwrap());
    let (report, _) = opened.sync_once().await.unwrap();
    assert!(report.complete() && !report.not_modified, "{report:?}");
    let snapshot = board.snapshot();
    assert_eq!(snapshot.item("promo-cafe").unwrap().media[0].sha256, replacement);
    assert!(snapshot.item("promo-fleuriste").is_some());
    assert_media_verified(&snapshot);
    assert_eq!(
        board.media_files().len(),
        4,
        "two pictures and their renditions; the old ones were collected: {:?}",
        board.media_files()
    );
}
