//! Golden images: every template in portrait and landscape, and the fallback slide, drawn by
//! the real renderer on the machine's GPU adapter (Mesa's software rasterizer in CI) and
//! compared with images checked by eye once.
//!
//! `PALIER_UPDATE_GOLDENS=1 cargo test -p palier-player --test golden` rewrites the goldens;
//! look at every one before committing it. On a mismatch the actual image and a diff are
//! written to `target/golden-failures/`.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use palier_content::config::{BackendChoice, BoardConfig, Rotation, ScreenConfig};
use palier_content::demo::DemoPack;
use palier_content::{Cache, CacheReader, Channel, wire::PlayTrigger};
use palier_player::board::Board;
use palier_player::headless::{Headless, one_rotation, tile_instant, tile_label};
use palier_player::playlist::{Showing, SlideRef};
use palier_player::render::Gpu;
use palier_player::source::{Assets, demo_config};

/// Tuesday 24 November 2026, 09:00 in Lyon.
fn now() -> Timestamp {
    "2026-11-24T08:00:00Z".parse().unwrap()
}

fn gpu() -> Gpu {
    Gpu::headless(BackendChoice::Auto).unwrap_or_else(|e| {
        panic!("{e}\nThe golden tests draw on a real GPU adapter; on a machine without a GPU install Mesa's software one.")
    })
}

/// The demo pack installed as of `now()`, in a temporary board directory.
fn demo_board(dir: &Path) -> (Board, BoardConfig) {
    demo_board_arrived(dir, now() - SignedDuration::from_hours(1))
}

/// The demo pack, arrived in the cache at `arrival`.
fn demo_board_arrived(dir: &Path, arrival: Timestamp) -> (Board, BoardConfig) {
    let assets = Assets::locate(None).unwrap();
    let pack = DemoPack::load(&assets.demo_pack(), now()).unwrap();
    let cache_path = dir.join("cache.sqlite");
    let mut cache = Cache::open(&cache_path).unwrap();
    pack.install(&mut cache, arrival).unwrap();
    let snapshot = CacheReader::open(&cache_path).unwrap().snapshot().unwrap();
    let config = demo_config(dir);
    (Board::new(snapshot, &config, &assets), config)
}

fn screen(width: u32, height: u32) -> ScreenConfig {
    ScreenConfig {
        name: format!("{width}x{height}"),
        role: "lift".to_owned(),
        channels: Channel::ALL.to_vec(),
        width,
        height,
        rotation: Rotation::R0,
        output: None,
        max_per_origin: palier_content::config::DEFAULT_MAX_PER_ORIGIN,
    }
}

fn showing(board: &Board, id: Option<&str>, banner: Option<&str>) -> Showing {
    let slide = match id {
        Some(id) => SlideRef::Item { id: id.to_owned(), version: board.snapshot.item(id).unwrap().version },
        None => SlideRef::Fallback,
    };
    Showing {
        slide,
        start: now(),
        end: now() + SignedDuration::from_secs(10),
        trigger: PlayTrigger::Rotation,
        banner: banner.map(str::to_owned),
    }
}

/// Pixels whose largest channel difference exceeds this count as different.
const CHANNEL_TOLERANCE: u8 = 24;
/// At most this share of pixels may differ (antialiasing between rasterizers).
const PIXEL_SHARE: f64 = 0.004;

fn compare(name: &str, actual: &image::RgbaImage) -> Result<(), String> {
    let golden_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.png"));
    if std::env::var_os("PALIER_UPDATE_GOLDENS").is_some() {
        actual.save(&golden_path).unwrap();
        return Ok(());
    }
    let golden = image::open(&golden_path)
        .map_err(|e| {
            format!(
                "{name}: golden {} unreadable ({e}); run with PALIER_UPDATE_GOLDENS=1 and look at it",
                golden_path.display()
            )
        })?
        .into_rgba8();
    if golden.dimensions() != actual.dimensions() {
        return Err(format!("{name}: size {:?}, golden {:?}", actual.dimensions(), golden.dimensions()));
    }
    let mut diff = image::RgbaImage::new(golden.width(), golden.height());
    let mut differing = 0usize;
    for (x, y, a) in actual.enumerate_pixels() {
        let g = golden.get_pixel(x, y);
        let worst = (0..3).map(|c| a.0[c].abs_diff(g.0[c])).max().unwrap_or(0);
        if worst > CHANNEL_TOLERANCE {
            differing += 1;
            diff.put_pixel(x, y, image::Rgba([255, 0, 255, 255]));
        } else {
            let grey = (a.0[0] as u16 + a.0[1] as u16 + a.0[2] as u16) / 12;
            diff.put_pixel(x, y, image::Rgba([grey as u8, grey as u8, grey as u8, 255]));
        }
    }
    let share = differing as f64 / (golden.width() * golden.height()) as f64;
    if share > PIXEL_SHARE {
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/golden-failures");
        std::fs::create_dir_all(&out).unwrap();
        actual.save(out.join(format!("{name}.actual.png"))).unwrap();
        diff.save(out.join(format!("{name}.diff.png"))).unwrap();
        return Err(format!("{name}: {:.2} % of pixels differ; see {}", share * 100.0, out.display()));
    }
    Ok(())
}

/// A board holding these items only.
fn board_with(dir: &Path, items: &[palier_content::Item]) -> Board {
    let assets = Assets::locate(None).unwrap();
    let cache_path = dir.join("cache.sqlite");
    let mut cache = Cache::open(&cache_path).unwrap();
    let manifest = palier_content::sample::manifest(1, items);
    let validated = palier_content::validate_manifest(manifest).unwrap();
    assert!(validated.quarantined.is_empty(), "{:?}", validated.quarantined);
    cache.apply(&validated, now() - SignedDuration::from_hours(1)).unwrap();
    let snapshot = CacheReader::open(&cache_path).unwrap().snapshot().unwrap();
    Board::new(snapshot, &demo_config(dir), &assets)
}

/// What residents really write: Arabic, French mixed with Arabic, emoji, Chinese.
#[test]
fn every_script_residents_write_matches_its_golden_image() {
    use palier_content::sample;
    let mut arabic = sample::offer("offre-arabe", "فاطمة");
    arabic.title = "أعير مثقابي للجيران".into();
    arabic.body = "مثقاب كهربائي مع مجموعة لقم. اتصلوا بي عبر رمز الاستجابة السريعة.".into();
    let mut mixed = sample::flash("flash-bilingue", palier_content::Severity::Important);
    mixed.title = "Cours d’arabe le mercredi — دروس اللغة العربية".into();
    mixed.body = "Salle commune, 18 h – 19 h 30. Pour les enfants de 6 à 12 ans.".into();
    let mut emoji = sample::offer("offre-emoji", "Inès");
    emoji.title = "Fête des voisins samedi 🎉🍕".into();
    emoji.body = "Apportez un plat à partager 🥗🍰 et votre bonne humeur ☀️".into();
    let mut chinese = sample::offer("offre-chinois", "李娜");
    chinese.title = "我可以借出我的电钻".into();
    chinese.body = "周末可以使用，请扫描二维码联系我。".into();
    let dir = tempfile::tempdir().unwrap();
    let mut board = board_with(dir.path(), &[arabic, mixed, emoji, chinese]);
    let mut headless = Headless::new(gpu());
    let mut failures = Vec::new();
    for (name, id) in [
        ("script-arabic", "offre-arabe"),
        ("script-french-arabic", "flash-bilingue"),
        ("script-emoji", "offre-emoji"),
        ("script-chinese", "offre-chinois"),
    ] {
        for (orientation, size) in [("portrait", (540, 960)), ("landscape", (960, 540))] {
            let screen = screen(size.0, size.1);
            let showing = showing(&board, Some(id), None);
            let frame =
                headless.showing_frame(&mut board, &screen, &showing, now()).unwrap().expect("showable");
            if let Err(e) = compare(&format!("{name}-{orientation}"), &frame) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_template_matches_its_golden_image() {
    let dir = tempfile::tempdir().unwrap();
    let (mut board, _) = demo_board(dir.path());
    let mut headless = Headless::new(gpu());
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("flash-important", Some("flash-eau"), None),
        ("flash-urgent", Some("flash-ascenseur"), None),
        ("offer-photo", Some("demande-chat"), None),
        ("offer-banner", Some("offre-perceuse"), Some("flash-ascenseur")),
        ("promo", Some("promo-fleurs"), None),
        ("event", Some("event-jardin"), None),
        ("news", Some("news-marche"), None),
        ("fallback", None, None),
    ];
    let mut failures = Vec::new();
    for &(name, id, banner) in cases {
        for (orientation, size) in [("portrait", (540, 960)), ("landscape", (960, 540))] {
            let screen = screen(size.0, size.1);
            let showing = showing(&board, id, banner);
            let frame =
                headless.showing_frame(&mut board, &screen, &showing, now()).unwrap().expect("showable");
            if let Err(e) = compare(&format!("{name}-{orientation}"), &frame) {
                failures.push(e);
            }
        }
    }
    assert_eq!(palier_player::render::gpu::error_count(), 0, "GPU errors were logged");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every tile of a contact sheet is the frame its label names: drawing the screen at the
/// label's instant (as `render --at` does) gives the tile's slide, fully in. The pack arrives
/// off a whole second, so slides start between seconds, as on a board.
#[test]
fn every_sheet_tile_is_the_frame_its_label_names() {
    let dir = tempfile::tempdir().unwrap();
    let arrival = now() - SignedDuration::from_hours(1) + SignedDuration::from_millis(851);
    let (mut board, config) = demo_board_arrived(dir.path(), arrival);
    let mut headless = Headless::new(gpu());
    let crossfade = SignedDuration::from_millis(i64::from(config.player.crossfade_ms));
    let day = now().to_zoned(board.tz.clone()).date();
    let mut tiles = 0;
    for screen in config.screens.clone() {
        let playlist = board.playlist(&screen);
        for showing in one_rotation(&playlist, now(), 60) {
            let at = tile_instant(&showing, crossfade);
            let id = showing.item_id().unwrap_or("fallback").to_owned();
            let label = tile_label(at, &board.tz, &id, 200);
            let (time, named) = label.split_once('\n').unwrap();
            assert_eq!(named, id);
            // What `render --at HH:MM:SS` reads: the building's local time on that day.
            let named_at =
                day.to_datetime(time.parse().unwrap()).to_zoned(board.tz.clone()).unwrap().timestamp();
            assert_eq!(named_at, at, "the label {time} names the instant drawn");
            let drawn = headless.frame(&mut board, &config, &screen, named_at, false).unwrap();
            let meant = headless.showing_frame(&mut board, &screen, &showing, named_at).unwrap().unwrap();
            assert!(drawn == meant, "{} at {time}: the tile is not the slide of {id}", screen.name);
            tiles += 1;
        }
    }
    assert!(tiles > 20, "{tiles} tiles");
}

#[test]
fn the_whole_demo_rotation_renders_on_every_screen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut board, mut config) = demo_board(dir.path());
    for screen in &mut config.screens {
        screen.width /= 4;
        screen.height /= 4;
    }
    let mut shown = std::collections::HashSet::new();
    for screen in &config.screens {
        let playlist = board.playlist(screen);
        for showing in one_rotation(&playlist, now(), 100) {
            shown.insert(showing.item_id().unwrap_or("fallback").to_owned());
        }
    }
    let eligible: Vec<&str> = board
        .snapshot
        .items
        .iter()
        .filter(|item| item.is_valid_at(now()))
        .map(|item| item.id.as_str())
        .collect();
    for id in &eligible {
        assert!(shown.contains(*id), "{id} is not in any screen's rotation: {shown:?}");
    }
    let mut headless = Headless::new(gpu());
    let mut png = Vec::new();
    let size = headless.write_sheet(&mut board, &config, now(), &mut png).unwrap();
    let sheet = image::load_from_memory(&png).expect("a whole PNG file").to_rgba8();
    assert_eq!(sheet.dimensions(), size);
    // Taller than one band: the sheet was written in several.
    assert!(size.1 > palier_player::headless::SHEET_BAND * 2, "{size:?}");
    assert!(sheet.width() >= 1000 && sheet.height() >= 400, "{:?}", sheet.dimensions());
    let distinct: std::collections::HashSet<[u8; 4]> = sheet.pixels().step_by(97).map(|p| p.0).collect();
    assert!(distinct.len() > 500, "the sheet shows pictures and text, not a flat colour");
}

/// A running player holds few textures however many pictures its cache has: the slides on
/// screen or drawn ahead, and decoded pictures only until the slides that need them are
/// drawn.
#[test]
fn a_rotation_holds_only_the_slides_and_pictures_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let (board, _) = demo_board(dir.path());
    let gpu = gpu();
    let mut slides = palier_player::slides::SlideStore::new(&gpu, palier_player::render::SLIDE_FORMAT, || {});
    let lift = screen(1080, 1920);
    let with_pictures: Vec<&str> =
        board.snapshot.items.iter().filter(|i| !i.media.is_empty()).map(|i| i.id.as_str()).collect();
    assert!(with_pictures.len() >= 3, "the demo has items with pictures: {with_pictures:?}");
    let mut previous: Option<palier_player::slides::SlideKey> = None;
    for (n, id) in with_pictures.iter().enumerate() {
        let on_screen = showing(&board, Some(id), None);
        let key = palier_player::slides::SlideKey::new(0, &on_screen, now(), n as u64);
        // The next slide's pictures are asked for ahead, then it is drawn.
        slides.prefetch(&board, &lift, &on_screen, now());
        slides.ensure(&gpu, &board, &lift, &on_screen, &key, now()).expect("a demo slide draws");
        // Keep what is on screen and what fades out, as the windows do.
        let keep: std::collections::HashSet<_> = previous.iter().cloned().chain([key.clone()]).collect();
        slides.retain(&keep);
        let (held_slides, held_pictures) = slides.held();
        assert!(held_slides <= 2, "after {id}: {held_slides} slides held");
        assert_eq!(held_pictures, 0, "after {id}: pictures of drawn slides are dropped");
        previous = Some(key);
    }
}
