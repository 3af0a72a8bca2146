//! Template tests: every kind in both orientations stays inside the slide, text boxes never
//! overlap, and each template shows what its kind promises.

use jiff::Zoned;
use jiff::tz::TimeZone;
use palier_content::{Item, Severity, sample};

use super::*;
use crate::locale::NNBSP;

fn now() -> Zoned {
    // Saturday 21 November 2026, 14:05 in Lyon.
    "2026-11-21T13:05:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .to_zoned(TimeZone::get("Europe/Paris").unwrap())
}

fn context(width: u32, height: u32, banner: Option<&'static str>) -> SlideContext<'static> {
    SlideContext {
        width,
        height,
        now: now(),
        locale: Locale::French,
        building: None,
        building_name: "Résidence Les Tilleuls",
        banner,
        media_paths: vec![Some("/media/photo.jpg".into())],
        fallback_image: Some("/assets/fallback.png".into()),
    }
}

const SIZES: [(u32, u32); 3] = [(1080, 1920), (1920, 1080), (720, 1280)];

fn every_kind() -> Vec<Item> {
    let mut flash = sample::flash("flash", Severity::Important);
    if let palier_content::Details::Flash(f) = &mut flash.details {
        f.starts_at = Some("2026-11-24T08:00:00Z".parse().unwrap());
        f.ends_at = Some("2026-11-24T11:00:00Z".parse().unwrap());
    }
    let mut promo = sample::promo("promo", "Primeur Carnot");
    promo.media = vec![sample::media(1)];
    promo.link = Some("https://primeur.example.org/".into());
    let mut offer = sample::offer("offer", "Karim");
    offer.body = "Perceuse-visseuse avec un jeu de mèches.".into();
    offer.media = vec![sample::media(2)];
    vec![
        flash,
        sample::flash("urgent", Severity::Urgent),
        offer,
        promo,
        sample::event("event"),
        sample::news("news"),
    ]
}

fn assert_well_formed(scene: &Scene, what: &str) {
    let slide = Rect::new(0.0, 0.0, scene.width as f32, scene.height as f32);
    for rect in scene.rects() {
        assert!(slide.contains(&rect), "{what}: {rect:?} leaves the {}×{} slide", scene.width, scene.height);
        assert!(rect.w >= 0.0 && rect.h >= 0.0, "{what}: {rect:?}");
    }
    // Boxes placed by the template (texts and columns) must not overlap; the texts inside a
    // column are stacked at layout.
    let texts: Vec<TextBox> = scene
        .elements
        .iter()
        .filter_map(|e| match e {
            Element::Text(t) => Some(t.clone()),
            Element::Column { rect, texts, .. } => {
                assert!(
                    texts.iter().all(|t| rect.contains(&t.rect)),
                    "{what}: column texts stay in the column"
                );
                Some(TextBox { rect: *rect, ..texts[0].clone() })
            }
            _ => None,
        })
        .collect();
    for (i, a) in texts.iter().enumerate() {
        assert!(a.size_range.0 >= a.size_range.1 && a.size_range.1 > 0.0, "{what}: {a:?}");
        for b in &texts[i + 1..] {
            assert!(!a.rect.overlaps(&b.rect), "{what}: {:?} overlaps {:?}", a.text, b.text);
        }
    }
}

fn has_text(scene: &Scene, needle: &str) -> bool {
    scene.texts().any(|t| t.text.contains(needle))
}

#[test]
fn every_template_fits_portrait_and_landscape() {
    for item in every_kind() {
        for (w, h) in SIZES {
            for banner in [None, Some("Ascenseur à l'arrêt")] {
                let ctx = context(w, h, banner);
                let scene = build(SlideContent::Item(&item), &ctx);
                let what = format!("{} {w}×{h} banner={banner:?}", item.id);
                assert_well_formed(&scene, &what);
                assert!(has_text(&scene, "14:05"), "{what}: the header clock");
                assert!(has_text(&scene, "Samedi 21 novembre"), "{what}: the header date");
                assert!(has_text(&scene, &Locale::French.typeset(&item.title)), "{what}: the title");
                assert_eq!(banner.is_some(), has_text(&scene, "URGENT  ·"), "{what}: the banner");
            }
        }
    }
}

#[test]
fn templates_show_what_their_kind_promises() {
    let items = every_kind();
    let ctx = context(1080, 1920, None);
    let scene_of = |id: &str| build(SlideContent::Item(items.iter().find(|i| i.id == id).unwrap()), &ctx);
    let n = NNBSP;

    let flash = scene_of("flash");
    assert!(has_text(&flash, "Important"));
    assert!(
        has_text(&flash, &format!("Mardi 24 novembre, 9{n}h – 12{n}h")),
        "{:?}",
        flash.texts().map(|t| &t.text).collect::<Vec<_>>()
    );
    assert!(
        flash.elements.iter().any(
            |e| matches!(e, Element::Rect { color, .. } if *color == theme::severity(Severity::Important))
        )
    );

    let urgent = scene_of("urgent");
    assert_eq!(urgent.background, theme::URGENT_BACKGROUND);
    assert!(has_text(&urgent, "Urgent"));

    let offer = scene_of("offer");
    assert!(has_text(&offer, "Propose · Prêt"));
    assert!(has_text(&offer, "Karim"));
    assert!(has_text(&offer, "Bâtiment B · Votre voisin"));
    assert!(has_text(&offer, "Scannez pour répondre"));
    let qr = offer.elements.iter().find_map(|e| {
        if let Element::Qr { size, modules, rect } = e { Some((*size, modules.len(), *rect)) } else { None }
    });
    let (size, count, rect) = qr.expect("an offer with a link has a QR code");
    assert_eq!(count, size * size);
    assert!(rect.w >= 250.0, "the QR code is large enough to scan from a step away");
    assert!(offer.elements.iter().any(|e| matches!(e, Element::Image { .. })), "the photo");

    let promo = scene_of("promo");
    for needle in ["Primeur Carnot", "1 €", "Jusqu’au"] {
        assert!(has_text(&promo, needle), "promo: {needle}");
    }

    let event = scene_of("event");
    assert!(has_text(&event, "Événement") && has_text(&event, "Cour intérieure") && has_text(&event, "28"));
    assert!(
        has_text(&event, &format!("Samedi 28 novembre, 9{n}h")),
        "{:?}",
        event.texts().map(|t| &t.text).collect::<Vec<_>>()
    );

    let news = scene_of("news");
    assert!(has_text(&news, "Actualité du quartier"));
}

#[test]
fn a_missing_photo_leaves_room_for_text_instead_of_a_hole() {
    let items = every_kind();
    let offer = items.iter().find(|i| i.id == "offer").unwrap();
    let mut ctx = context(1920, 1080, None);
    ctx.media_paths = vec![None];
    let scene = build(SlideContent::Item(offer), &ctx);
    assert!(!scene.elements.iter().any(|e| matches!(e, Element::Image { .. })));
    assert_well_formed(&scene, "offer without its photo");
}

#[test]
fn the_fallback_slide_names_the_building_and_tells_the_time() {
    for (w, h) in SIZES {
        let mut ctx = context(w, h, None);
        let building = sample::building();
        ctx.building = Some(&building);
        let scene = build(SlideContent::Fallback, &ctx);
        assert_well_formed(&scene, "fallback");
        assert!(has_text(&scene, "Résidence Les Tilleuls") && has_text(&scene, "12 rue des Tilleuls"));
        assert!(has_text(&scene, "14:05") && has_text(&scene, "Samedi 21 novembre"));
        assert!(matches!(scene.elements[0], Element::Image { .. }), "the fallback picture is drawn first");
    }
}

#[test]
fn pathological_text_is_bounded_before_layout() {
    let mut item = sample::news("huge");
    item.body = "ب".repeat(100_000);
    item.title = "🚧 ".repeat(5_000);
    let scene = build(SlideContent::Item(&item), &context(1080, 1920, None));
    assert!(scene.texts().all(|t| t.text.chars().count() <= 2000));
    assert_well_formed(&scene, "huge");
}
