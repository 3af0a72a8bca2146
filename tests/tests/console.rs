//! The publisher console in a real browser (Debian's Chromium through chromedriver), against
//! the real `palier-platform serve` and, for the landlord's flash, a real board.
//!
//! Each page visited is checked with axe-core (no serious or critical violation) and saved
//! under `target/console-screens/` to be looked at. Waits poll the page, the only place the
//! state shows; nothing sleeps.

use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use palier_content::config::{BoardConfig, Rotation, ScreenConfig};
use palier_content::wire::{Manifest, PROTOCOL_VERSION};
use palier_content::{Cache, CacheReader, Channel, DataDir};
use palier_tests::browser::Browser;
use palier_tests::{Board, LIFT, Platform, binary, offer, wait_until};
use serde_json::json;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

const PASSWORD: &str = "un mot de passe assez long";
const WAIT: Duration = Duration::from_secs(30);

/// Follows the link `user add` printed, sets the password, then logs in.
fn set_password_and_log_in(
    browser: &Browser,
    platform: &Platform,
    link: &str,
    email: &str,
    shot: Option<&str>,
) {
    browser.goto(&format!("{}{link}", platform.url));
    if let Some(name) = shot {
        browser.assert_accessible("the password page");
        browser.screenshot(&format!("{name}-password"));
    }
    browser.fill("#password", PASSWORD);
    browser.fill("#again", PASSWORD);
    browser.click_and_load("button[type=submit]");
    assert_eq!(browser.script("return location.pathname", vec![]), json!("/login"));
    assert!(browser.page_text().contains("Mot de passe enregistré"), "{}", browser.page_text());
    if let Some(name) = shot {
        browser.assert_accessible("the login page");
        browser.screenshot(&format!("{name}-login"));
    }
    log_in(browser, email, PASSWORD);
    assert_eq!(browser.script("return location.pathname", vec![]), json!("/"), "{}", browser.page_text());
}

fn log_in(browser: &Browser, email: &str, password: &str) {
    browser.fill("#email", email);
    browser.fill("#password", password);
    browser.click_and_load("button[type=submit]");
}

/// The PNG a `data:` URI of the page holds.
fn data_uri_png(uri: &str) -> Vec<u8> {
    STANDARD.decode(uri.strip_prefix("data:image/png;base64,").expect("a PNG data URI")).expect("base64")
}

/// Draws `item` alone (or nothing) on a 1080×1920 lift screen at `at` with
/// `palier-player render`, from a cache written here, independently of the platform's code.
fn render_alone(
    item: Option<&palier_content::Item>,
    building: &palier_content::Building,
    at: jiff::Timestamp,
) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path().join("data"));
    std::fs::create_dir_all(data.media()).unwrap();
    let manifest = Manifest {
        protocol: PROTOCOL_VERSION,
        device_id: "check".into(),
        generation: 1,
        issued_at: at,
        expires_at: at + jiff::SignedDuration::from_hours(24),
        building: building.clone(),
        roles: vec!["lift".into(), "lobby-centre".into()],
        items: item.iter().map(|i| serde_json::to_value(i).unwrap()).collect(),
        system_update: None,
    };
    let mut cache = Cache::open(&data.cache()).unwrap();
    // Arrived a second before, as the console's preview has it.
    let arrival = at - jiff::SignedDuration::from_secs(1);
    cache.apply(&palier_content::validate_manifest(manifest).unwrap(), arrival).unwrap();
    drop(cache);
    let config = BoardConfig {
        data_dir: data.path().to_path_buf(),
        building_name: Some(building.name.clone()),
        time_zone: building.time_zone.clone(),
        screens: vec![ScreenConfig {
            name: "lift".into(),
            role: "lift".into(),
            channels: Channel::ALL.to_vec(),
            width: 1080,
            height: 1920,
            rotation: Rotation::R0,
            output: None,
            max_per_origin: palier_content::config::DEFAULT_MAX_PER_ORIGIN,
        }],
        player: Default::default(),
        sync: Default::default(),
    };
    let path = dir.path().join("palier.toml");
    std::fs::write(&path, toml_text(&config)).unwrap();
    let out = dir.path().join("lift.png");
    let status = Command::new(binary("palier-player"))
        .arg("--config")
        .arg(&path)
        .args(["render", "--screen", "lift", "--at", &at.to_string(), "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

fn toml_text(config: &BoardConfig) -> String {
    // The board file format, written field by field (the tests crate has no toml writer).
    let mut text = format!(
        "data_dir = {:?}\nbuilding_name = {:?}\ntime_zone = {:?}\n",
        config.data_dir,
        config.building_name.clone().unwrap_or_default(),
        config.time_zone
    );
    for s in &config.screens {
        text.push_str(&format!(
            "\n[[screen]]\nname = {:?}\nrole = {:?}\nwidth = {}\nheight = {}\n",
            s.name, s.role, s.width, s.height
        ));
    }
    text
}

/// How many pixels of two same-sized PNGs differ by more than `tolerance` in any channel.
fn differing_pixels(a: &[u8], b: &[u8], tolerance: u8) -> usize {
    let a = image::load_from_memory(a).unwrap().to_rgba8();
    let b = image::load_from_memory(b).unwrap().to_rgba8();
    assert_eq!(a.dimensions(), b.dimensions());
    a.pixels()
        .zip(b.pixels())
        .filter(|(p, q)| p.0.iter().zip(q.0).any(|(x, y)| x.abs_diff(y) > tolerance))
        .count()
}

#[test]
fn a_landlord_publishes_an_urgent_flash_proves_it_and_withdraws_it() {
    let _serial = serial();
    let mut platform = Platform::init();
    platform.serve();
    let mut lift = Board::new(&platform, &platform.device_code("lift"), LIFT, 5);
    lift.start_sync();
    lift.start_player();
    wait_until(Duration::from_secs(60), "the lift board is enrolled and plays", || {
        lift.data.credentials().exists() && lift.statuses().len() == 1
    });

    let browser = Browser::start(1280, 900);
    let link = platform.add_person("syndic@example.org", "landlord");
    set_password_and_log_in(&browser, &platform, &link, "syndic@example.org", Some("landlord"));
    browser.assert_accessible("the start page");
    browser.screenshot("landlord-home");

    browser.click_and_load("a.button[href*='kind=flash']");
    browser.fill("#title", "Ascenseur à l’arrêt");
    browser.fill("#body", "Le technicien arrive vers 16 h. Merci de votre patience.");
    browser.click("input[name=severity][value=urgent]");
    // The page's script redraws the preview as one types.
    browser.wait_for(
        Duration::from_secs(90),
        "the preview of the typed flash",
        "return document.querySelectorAll('#preview img').length === 2 && !window.palierPreviewBusy;",
    );
    // Preview once more by the button (the path without script), to hold a stable result.
    browser.click_and_load("button[value=preview]");
    browser.wait_for(
        Duration::from_secs(90),
        "the preview page",
        "return document.querySelectorAll('#preview img').length === 2 && !window.palierPreviewBusy;",
    );
    browser.assert_accessible("the flash form with its preview");
    browser.screenshot("landlord-flash-form");
    let shown = browser.script(
        "const p = document.getElementById('preview'); return [p.dataset.at, p.querySelector('img[data-screen=\"0\"]').src];",
        vec![],
    );
    let preview_at: jiff::Timestamp = shown[0].as_str().unwrap().parse().unwrap();
    let lift_preview = data_uri_png(shown[1].as_str().unwrap());

    browser.click_and_load("button[value=publish]");
    assert!(browser.exists(".confirm"), "{}", browser.page_text());
    browser.assert_accessible("the urgent confirmation");
    browser.screenshot("landlord-flash-confirm");
    browser.click_and_load("button[name=confirm_urgent]");
    let id = browser.url().rsplit('/').next().unwrap().to_owned();
    assert!(browser.page_text().contains("Publié"), "{}", browser.page_text());

    // It reaches the board, and the preview was exactly what the board's renderer draws.
    let shown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until(Duration::from_secs(30), "the lift shows the flash", || lift.all_show(&id))
    }));
    shown.unwrap_or_else(|_| {
        panic!("the flash {id} did not reach the lift: {:?}\n{}", lift.statuses(), lift.logs())
    });
    let snapshot = CacheReader::open(&lift.data.cache()).unwrap().snapshot().unwrap();
    let stored = snapshot.items.iter().find(|i| i.id == id).expect("the flash in the board's cache");
    let building = snapshot.building.as_ref().unwrap();
    let independent = render_alone(Some(stored), building, preview_at);
    let nothing = render_alone(None, building, preview_at);
    let shots = &browser.shots;
    std::fs::write(shots.join("landlord-preview-lift.png"), &lift_preview).unwrap();
    std::fs::write(shots.join("landlord-render-lift.png"), &independent).unwrap();
    assert!(
        differing_pixels(&lift_preview, &nothing, 2) > 10_000,
        "the preview shows the flash, not the fallback"
    );
    assert_eq!(differing_pixels(&lift_preview, &independent, 2), 0, "the preview is the screen's picture");

    // Its proof of play: the board uploads the plays, the page counts them.
    browser.wait_for_text_at(
        &format!("{}/items/{id}", platform.url),
        Duration::from_secs(60),
        "Affiché sur 1 écran(s) sur 1",
    );
    browser.assert_accessible("the item page");
    browser.screenshot("landlord-item");
    let csv = browser.runtime_fetch(&format!("/items/{id}/plays.csv"));
    assert!(csv.contains("screen,bld-residence-les-tilleuls") && csv.contains(",lift,"), "{csv}");

    browser.goto(&format!("{}/b/{}/screens", platform.url, platform.building));
    browser.wait_for(
        WAIT,
        "the screens page's thumbnail",
        "const i = document.querySelector('.screen img'); return !!i && i.complete && i.naturalWidth > 0;",
    );
    assert!(browser.page_text().contains("En ligne"), "{}", browser.page_text());
    browser.assert_accessible("the screens page");
    browser.screenshot("landlord-screens");

    browser.goto(&format!("{}/items/{id}/withdraw", platform.url));
    browser.assert_accessible("the withdraw confirmation");
    browser.screenshot("landlord-withdraw");
    browser.click_and_load("main button[type=submit]");
    assert!(browser.page_text().contains("Retiré"), "{}\n{}", browser.page_text(), platform.logs());
    wait_until(Duration::from_secs(30), "the lift drops the flash", || lift.none_shows(&id));
    browser.goto(&format!("{}/b/{}/items", platform.url, platform.building));
    browser.assert_accessible("the items page");
    browser.screenshot("landlord-items");
}

#[test]
fn caretakers_moderators_shops_and_admins_each_see_their_part() {
    let _serial = serial();
    let mut platform = Platform::init();
    platform.serve();
    platform.admin(&["building", "moderation", "--building", &platform.building, "--kinds", "offer"]);
    let browser = Browser::start(360, 780);

    // A caretaker of the whole neighbourhood, on a phone, publishes a flash; nothing spills
    // past the screen's width, and the form offers the building or the whole neighbourhood.
    let area = platform.admin(&[
        "area",
        "add",
        "--name",
        "Quartier des Pentes",
        "--kind",
        "neighbourhood",
        "--building",
        &platform.building,
    ]);
    let link = platform.add_person_scoped("gardien@example.org", "caretaker", &["--area", area.trim()]);
    set_password_and_log_in(&browser, &platform, &link, "gardien@example.org", None);
    // A page asked for without a session leads to the login, then back to it.
    browser.click_and_load("button.link");
    let items = format!("{}/b/{}/items?state=live", platform.url, platform.building);
    browser.goto(&items);
    assert_eq!(browser.script("return location.pathname", vec![]), json!("/login"));
    log_in(&browser, "gardien@example.org", PASSWORD);
    assert_eq!(browser.url(), items, "back where the person was going");
    browser.goto(&format!("{}/", platform.url));
    browser.click_and_load("a.button[href*='kind=flash']");
    browser.fill("#title", "Nettoyage des vitres jeudi");
    let reach = browser.script(
        "return [...document.querySelectorAll('input[name=reach]')].map(i => i.value + (i.checked ? '*' : ''))",
        vec![],
    );
    assert_eq!(reach, json!(["building*", area.trim()]), "this building by default, or the neighbourhood");
    browser.assert_accessible("the flash form on a phone");
    assert_eq!(browser.script(WIDER_THAN_THE_SCREEN, vec![]), json!([]), "nothing wider than a phone");
    browser.screenshot("caretaker-flash-form-360");
    browser.script("document.querySelector('input[name=reach]').scrollIntoView({block: 'center'})", vec![]);
    browser.screenshot("caretaker-flash-reach-360");
    browser.resize(1280, 900);
    browser.script("document.querySelector('input[name=reach]').scrollIntoView({block: 'center'})", vec![]);
    browser.screenshot("caretaker-flash-reach");
    browser.resize(360, 780);
    // A title left empty comes back with the field named and the rest kept.
    browser.fill("#title", "");
    browser.fill("#body", "Merci de dégager les rebords.");
    browser.click_and_load("button[value=publish]");
    assert!(browser.page_text().contains("Indiquez un titre."), "{}", browser.page_text());
    assert_eq!(
        browser.script("return document.getElementById('body').value", vec![]),
        json!("Merci de dégager les rebords.")
    );
    browser.assert_accessible("the form with an error");
    browser.screenshot("caretaker-form-error-360");
    browser.fill("#title", "Nettoyage des vitres jeudi");
    let picture = palier_tests::demo_dir().join("media/voisin-pinceaux.jpg");
    browser.choose_file("#picture", &picture);
    // The same form sent twice (a double tap, a resent request) publishes once.
    let statuses = browser.script_async(
        "const done = arguments[0]; const form = document.getElementById('item-form');
         const send = () => { const data = new FormData(form); data.set('intent', 'publish');
                              return fetch(form.action, {method: 'POST', body: data}).then(r => r.url); };
         send().then(a => send().then(b => done([a, b])));",
    );
    assert_eq!(statuses[0], statuses[1], "{statuses}");
    browser.click_and_load("button[value=publish]");
    assert_eq!(json!(browser.url()), statuses[0], "the third submission lands on the same item");
    assert_eq!(browser.script(WIDER_THAN_THE_SCREEN, vec![]), json!([]), "nothing wider than a phone");
    assert!(browser.exists("img.photo"), "the picture went with the flash");
    browser.assert_accessible("the item page on a phone");
    browser.screenshot("caretaker-item-360");
    browser.goto(&format!("{}/b/{}/items", platform.url, platform.building));
    assert_eq!(
        browser.page_text().matches("Nettoyage des vitres jeudi").count(),
        1,
        "{}",
        browser.page_text()
    );
    browser.assert_accessible("the items page on a phone");
    browser.screenshot("caretaker-items-360");
    // A form posted without its CSRF token is refused.
    let status = browser.script_async(
        "const done = arguments[0]; fetch('/logout', {method: 'POST', body: new URLSearchParams({})}).then(r => done(r.status));",
    );
    assert_eq!(status, json!(403));
    browser.click_and_load("button.link");
    assert_eq!(browser.script("return location.pathname", vec![]), json!("/login"));

    // A moderator approves one offer and rejects another with a reason.
    browser.resize(1280, 900);
    platform.publish(&platform.neighbourhood, offer("offre-perceuse", "p-1", "Karim", None));
    platform.publish(&platform.neighbourhood, offer("offre-chiot", "p-2", "Léa", None));
    let link = platform.add_person("moderation@example.org", "moderator");
    set_password_and_log_in(&browser, &platform, &link, "moderation@example.org", None);
    browser.goto(&format!("{}/moderation", platform.url));
    browser.assert_accessible("the moderation queue");
    browser.screenshot("moderator-queue");
    browser.click_and_load("#item-offre-perceuse form:not(.reject) button");
    assert!(browser.page_text().contains("Approuvé"), "{}", browser.page_text());
    browser.fill("#reason-offre-chiot", "Les annonces d’animaux passent par le refuge du quartier.");
    browser.click_and_load("#item-offre-chiot form.reject button");
    assert!(browser.page_text().contains("Refusé"), "{}", browser.page_text());
    assert!(browser.page_text().contains("Rien à modérer"), "{}", browser.page_text());
    let state = platform.read_item(&platform.neighbourhood, "offre-chiot");
    assert_eq!(
        state["moderation"],
        json!({"state": "rejected", "reason": "Les annonces d’animaux passent par le refuge du quartier."})
    );
    assert_eq!(
        platform.read_item(&platform.neighbourhood, "offre-perceuse")["moderation"]["state"],
        "approved"
    );
    browser.click_and_load("button.link");

    // A shop neither sees nor changes the landlord's items.
    let flash = platform
        .publish(&platform.landlord, palier_tests::urgent_flash("flash-syndic", "Assemblée générale", 60));
    let flash_id = flash["item"]["id"].as_str().unwrap().to_owned();
    let link = platform.add_person("cafe@example.org", "shop");
    set_password_and_log_in(&browser, &platform, &link, "cafe@example.org", None);
    browser.goto(&format!("{}/items/{flash_id}", platform.url));
    assert!(browser.page_text().contains("Accès refusé"), "{}", browser.page_text());
    let status = browser.script_async(&format!(
        "const done = arguments[0]; fetch('/items/{flash_id}').then(r => done(r.status));"
    ));
    assert_eq!(status, json!(403));
    browser.assert_accessible("the 403 page");
    browser.screenshot("shop-forbidden");
    browser.goto(&format!("{}/b/{}/items", platform.url, platform.building));
    assert!(!browser.page_text().contains("Assemblée générale"), "{}", browser.page_text());
    browser.click_and_load("button.link");

    // Wrong passwords: after five, even the right one waits.
    for _ in 0..5 {
        log_in(&browser, "cafe@example.org", "pas le bon mot de passe");
        assert!(browser.page_text().contains("incorrect"), "{}", browser.page_text());
    }
    log_in(&browser, "cafe@example.org", PASSWORD);
    assert!(browser.page_text().contains("Trop de tentatives"), "{}", browser.page_text());
    browser.assert_accessible("the 429 page");

    // An admin: people, the audit log, in English too.
    let link = platform.add_person("admin@example.org", "admin");
    set_password_and_log_in(&browser, &platform, &link, "admin@example.org", None);
    browser.goto(&format!("{}/people", platform.url));
    browser.assert_accessible("the people page");
    browser.screenshot("admin-people");
    browser.goto(&format!("{}/audit", platform.url));
    let audit = browser.page_text();
    assert!(audit.contains("reject") && audit.contains("approve") && audit.contains("console"), "{audit}");
    browser.assert_accessible("the audit log");
    browser.screenshot("admin-audit");
    browser.goto(&format!("{}/b/{}/settings?lang=en", platform.url, platform.building));
    assert!(browser.page_text().contains("Residents' posts to approve"), "{}", browser.page_text());
    browser.assert_accessible("the settings page");
    browser.screenshot("admin-settings-en");
}

/// The elements that stick out past the right edge of the window (a phone's page must not
/// scroll sideways), named so that a failure says which.
const WIDER_THAN_THE_SCREEN: &str = "return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right + window.scrollX > document.documentElement.clientWidth + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
        + ' ' + Math.round(e.getBoundingClientRect().right + window.scrollX) + 'px')
    .slice(0, 8)";
