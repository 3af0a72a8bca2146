use jiff::ToSpan;
use serde_json::json;

use super::*;
use crate::model::MediaRef;
use crate::model::{Details, OfferCategory, Severity};
use crate::sample;

#[test]
fn bad_items_are_quarantined_and_the_rest_applies() {
    type Spoil = fn(&mut Item);
    let cases: &[(&str, Spoil, &str)] = &[
        ("empty id", |i| i.id.clear(), "id"),
        ("id with a slash", |i| i.id = "a/b".into(), "id"),
        ("version 0", |i| i.version = 0, "version"),
        ("window reversed", |i| i.valid_until = i.valid_from - 1.hour(), "valid_until"),
        ("window empty", |i| i.valid_until = i.valid_from, "valid_until"),
        ("weight 0", |i| i.weight = 0, "weight"),
        ("weight huge", |i| i.weight = 1000, "weight"),
        ("hot-loop duration", |i| i.duration_s = Some(0), "duration_s"),
        ("endless duration", |i| i.duration_s = Some(100_000), "duration_s"),
        ("long title", |i| i.title = "x".repeat(201), "title"),
        ("blank title", |i| i.title = "  ".into(), "title"),
        ("control char", |i| i.title = "a\u{7}b".into(), "U+0007"),
        ("long body", |i| i.body = "é".repeat(2001), "body"),
        ("bad role", |i| i.roles = vec!["Lift!".into()], "role"),
        ("short sha", |i| i.media = vec![MediaRef { sha256: "abc".into(), ..sample::media(1) }], "sha256"),
        ("upper sha", |i| i.media = vec![MediaRef { sha256: "AB".repeat(32), ..sample::media(1) }], "sha256"),
        ("svg", |i| i.media = vec![MediaRef { mime: "image/svg+xml".into(), ..sample::media(1) }], "type"),
        ("huge media", |i| i.media = vec![MediaRef { bytes: 1 << 30, ..sample::media(1) }], "bytes"),
        (
            "image bomb",
            |i| i.media = vec![MediaRef { width: 8000, height: 8000, ..sample::media(1) }],
            "pixels",
        ),
        ("zero width", |i| i.media = vec![MediaRef { width: 0, ..sample::media(1) }], "sides"),
        ("five media", |i| i.media = vec![sample::media(1); 5], "media"),
        ("javascript link", |i| i.link = Some("javascript:alert(1)".into()), "link"),
        ("link with space", |i| i.link = Some("https://a b".into()), "link"),
    ];
    for (name, spoil, needle) in cases {
        let mut bad = sample::news("bad");
        spoil(&mut bad);
        let manifest = sample::manifest(1, &[sample::news("good"), bad]);
        let validated = validate_manifest(manifest).unwrap();
        assert_eq!(validated.items.len(), 1, "{name}: the good item stays");
        assert_eq!(validated.items[0].id, "good", "{name}");
        assert_eq!(validated.quarantined.len(), 1, "{name}: the bad item is quarantined");
        let reason = &validated.quarantined[0].reason;
        assert!(reason.contains(needle), "{name}: reason {reason:?} should mention {needle:?}");
    }
}

#[test]
fn offers_carry_a_first_name_only() {
    let cases = [
        ("Sophie", true),
        ("Jean-Marc", true),
        ("Marie Claire", true),
        ("", false),
        ("sophie@example.org", false),
        ("Sophie 06 12 34 56 78", false),
        ("Anne Marie Louise Dupont Durand", false),
    ];
    for (name, ok) in cases {
        let validated = validate_manifest(sample::manifest(1, &[sample::offer("o", name)])).unwrap();
        assert_eq!(validated.items.len() == 1, ok, "first name {name:?}");
    }
}

#[test]
fn unknown_kinds_are_skipped_and_unreadable_items_quarantined() {
    let mut manifest = sample::manifest(1, &[sample::flash("f", Severity::Info)]);
    manifest.items.push(json!({"id": "poll-1", "version": 1, "kind": "poll", "question": "?"}));
    manifest.items.push(json!({"id": "o-2", "version": 3, "kind": "offer", "title": "no fields"}));
    manifest.items.push(json!("not even an object"));
    let validated = validate_manifest(manifest).unwrap();
    assert_eq!(validated.items.len(), 1);
    assert_eq!(validated.skipped, vec![SkippedItem { id: "poll-1".into(), kind: "poll".into() }]);
    let quarantined: Vec<_> = validated.quarantined.iter().map(|q| (q.id.as_str(), q.version)).collect();
    assert_eq!(quarantined, vec![("o-2", Some(3)), ("", None)], "a bare string has no kind");
    assert!(validated.quarantined[1].reason.contains("kind"));
}

#[test]
fn duplicate_ids_keep_the_first() {
    let mut second = sample::news("n");
    second.title = "second".into();
    let validated = validate_manifest(sample::manifest(1, &[sample::news("n"), second])).unwrap();
    assert_eq!(validated.items.len(), 1);
    assert_ne!(validated.items[0].title, "second");
    assert_eq!(validated.quarantined[0].reason, "a second item with the same id");
}

#[test]
fn item_count_is_capped() {
    let items: Vec<_> = (0..MAX_ITEMS + 3).map(|i| sample::news(&format!("n{i}"))).collect();
    let validated = validate_manifest(sample::manifest(1, &items)).unwrap();
    assert_eq!(validated.items.len(), MAX_ITEMS);
    assert_eq!(validated.quarantined.len(), 3);
}

#[test]
fn manifest_level_faults_reject_the_whole_manifest() {
    let mut wrong_protocol = sample::manifest(1, &[]);
    wrong_protocol.protocol = 2;
    let mut bad_zone = sample::manifest(1, &[]);
    bad_zone.building.time_zone = "Mars/Olympus".into();
    let mut empty_window = sample::manifest(1, &[]);
    empty_window.expires_at = empty_window.issued_at;
    let cases = [(wrong_protocol, "update Palier"), (bad_zone, "IANA"), (empty_window, "window")];
    for (manifest, needle) in cases {
        let err = validate_manifest(manifest).unwrap_err().to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    }
    let err = parse_manifest(b"{\"protocol\": 1,").unwrap_err();
    assert!(matches!(err, ManifestError::Json(_)), "{err}");
    let huge = vec![b' '; MAX_MANIFEST_BYTES + 1];
    assert!(matches!(parse_manifest(&huge), Err(ManifestError::TooLarge { .. })));
}

#[test]
fn unknown_fields_everywhere_are_ignored() {
    let mut value = serde_json::to_value(sample::manifest(1, &[sample::offer("o", "Léa")])).unwrap();
    value["new_envelope_field"] = json!({"x": 1});
    value["building"]["new_building_field"] = json!(true);
    value["items"][0]["new_item_field"] = json!([1, 2]);
    value["items"][0]["category"] = json!("plant_swap");
    let validated = parse_manifest(value.to_string().as_bytes()).unwrap();
    assert_eq!(validated.items.len(), 1);
    let Details::Offer(offer) = &validated.items[0].details else { panic!("offer") };
    assert_eq!(offer.category, OfferCategory::Other);
}
