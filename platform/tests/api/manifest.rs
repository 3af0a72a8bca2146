//! The per-device manifest: contents, roles, signature, ETag and 304, gzip, generations.

use std::io::Read;

use flate2::read::GzDecoder;
use jiff::{SignedDuration, Timestamp};
use palier_content::parse_manifest;
use palier_platform::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_device_gets_its_buildings_items_for_its_roles_signed() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let b = p.building("Les Acacias").await;
    let landlord = p.publisher(Role::Landlord, &[&a, &b]).await;
    let shop = p.publisher(Role::Shop, &[&a]).await;
    let mut for_a = flash("x");
    for_a["buildings"] = json!([a]);
    p.publish(&landlord, &for_a).await;
    let mut for_b = flash("flash-b");
    for_b["buildings"] = json!([b]);
    p.publish(&landlord, &for_b).await;
    let mut lobby_only = promo("promo-lobby");
    lobby_only["roles"] = json!(["lobby-left"]);
    p.publish(&shop, &lobby_only).await;
    let mut lift_and_lobby = promo("promo-lift");
    lift_and_lobby["roles"] = json!(["lift", "lobby-left"]);
    p.publish(&shop, &lift_and_lobby).await;

    let lift = p.enrol(&a, &["lift"]).await;
    let response = p.get("/v1/device/manifest", &lift.token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert!(response.headers().get("content-encoding").is_none(), "gzip only when asked");
    assert!(response.headers().contains_key("date"));
    let etag = header(&response, "etag");
    assert!(etag.starts_with("\"g") && etag.ends_with('"'), "{etag}");
    let signature = header(&response, "x-palier-signature");
    assert_eq!(signature.len(), 88);
    let body = response.bytes().await.unwrap().to_vec();
    assert!(verify(&p.public_key, &body, &signature));
    let mut tampered = body.clone();
    let at = tampered.iter().position(|&c| c == b'T').unwrap();
    tampered[at] = b'U';
    assert!(!verify(&p.public_key, &tampered, &signature), "one changed byte breaks the signature");

    // The board's own parser accepts it, with nothing quarantined.
    let parsed = parse_manifest(&body).unwrap();
    assert!(parsed.quarantined.is_empty(), "{:?}", parsed.quarantined);
    assert_eq!(parsed.device_id, lift.device_id);
    assert_eq!(parsed.roles, ["lift"]);
    assert_eq!(parsed.building.id, a);
    assert_eq!(parsed.building.name, "Les Tilleuls");
    assert_eq!(parsed.expires_at, parsed.issued_at + SignedDuration::from_hours(7 * 24));
    assert!(parsed.issued_at.duration_until(Timestamp::now()).as_secs().abs() < 60);
    let ids: Vec<&str> = parsed.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["promo-lift", "x"]);
    assert_eq!(
        etag,
        format!("\"g{}-{}\"", parsed.generation, &etag[etag.find('-').unwrap() + 1..etag.len() - 1])
    );

    let lobby = p.enrol(&a, &["lobby-left"]).await;
    assert_eq!(p.item_ids(&lobby.token).await, ["promo-lift", "promo-lobby", "x"]);
    let other = p.enrol(&b, &["lift"]).await;
    assert_eq!(p.item_ids(&other.token).await, ["flash-b"]);
}

#[tokio::test]
async fn etag_changes_only_with_the_generation() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let landlord = p.publisher(Role::Landlord, &[&a]).await;
    let device = p.enrol(&a, &["lift"]).await;
    let first = p.get("/v1/device/manifest", &device.token).await;
    let etag = header(&first, "etag");
    let generation = first.json::<serde_json::Value>().await.unwrap()["generation"].as_u64().unwrap();
    let again = p.get("/v1/device/manifest", &device.token).await;
    assert_eq!(header(&again, "etag"), etag, "re-issuing alone keeps the ETag");

    let conditional = p
        .http
        .get(p.url("/v1/device/manifest"))
        .bearer_auth(&device.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(conditional.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&conditional, "etag"), etag);
    assert!(conditional.bytes().await.unwrap().is_empty());
    let stale = p
        .http
        .get(p.url("/v1/device/manifest"))
        .bearer_auth(&device.token)
        .header("if-none-match", "\"g1-000000\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);

    p.publish(&landlord, &flash("flash-eau")).await;
    let changed = p
        .http
        .get(p.url("/v1/device/manifest"))
        .bearer_auth(&device.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(header(&changed, "etag"), etag);
    let manifest: serde_json::Value = changed.json().await.unwrap();
    assert!(manifest["generation"].as_u64().unwrap() > generation);
    assert_eq!(manifest["items"][0]["id"], "flash-eau");
}

#[tokio::test]
async fn gzip_when_asked_and_the_signature_covers_the_plain_bytes() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let landlord = p.publisher(Role::Landlord, &[&a]).await;
    p.publish(&landlord, &flash("flash-eau")).await;
    let device = p.enrol(&a, &["lift"]).await;
    // reqwest is built without its gzip feature: the bytes arrive as the server sent them.
    let response = p
        .http
        .get(p.url("/v1/device/manifest"))
        .bearer_auth(&device.token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-encoding"), "gzip");
    assert_eq!(header(&response, "vary"), "Accept-Encoding");
    let signature = header(&response, "x-palier-signature");
    let compressed = response.bytes().await.unwrap();
    assert_eq!(&compressed[..2], b"\x1f\x8b");
    let mut plain = Vec::new();
    GzDecoder::new(&compressed[..]).read_to_end(&mut plain).unwrap();
    assert!(verify(&p.public_key, &plain, &signature));
    assert!(!verify(&p.public_key, &compressed, &signature));
    assert_eq!(parse_manifest(&plain).unwrap().items[0].id, "flash-eau");
}

#[tokio::test]
async fn generations_come_from_one_sequence_and_a_new_device_starts_above() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let b = p.building("Les Acacias").await;
    let landlord = p.publisher(Role::Landlord, &[&a, &b]).await;
    let old = p.enrol(&a, &["lift"]).await;
    let g_old = p.manifest(&old.token).await["generation"].as_u64().unwrap();
    let mut to_b = flash("flash-b");
    to_b["buildings"] = json!([b]);
    let published = p.publish(&landlord, &to_b).await;
    assert!(published["generation"].as_u64().unwrap() > g_old);
    assert_eq!(
        p.manifest(&old.token).await["generation"].as_u64().unwrap(),
        g_old,
        "B's change leaves A alone"
    );
    // The same board enrolled again under a new id never sees a lower generation.
    let again = p.enrol(&a, &["lift"]).await;
    let g_new = p.manifest(&again.token).await["generation"].as_u64().unwrap();
    assert!(g_new > published["generation"].as_u64().unwrap(), "{g_new}");
}

#[tokio::test]
async fn housekeeping_takes_expired_items_out() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let landlord = p.publisher(Role::Landlord, &[&a]).await;
    let mut short = flash("flash-short");
    short["valid_until"] = json!((Timestamp::now() + SignedDuration::from_hours(2)).to_string());
    p.publish(&landlord, &short).await;
    p.publish(&landlord, &flash("flash-long")).await;
    let device = p.enrol(&a, &["lift"]).await;
    let before = p.manifest(&device.token).await;
    p.state.housekeeping().await.unwrap();
    assert_eq!(p.manifest(&device.token).await["generation"], before["generation"], "nothing expired yet");
    p.advance(SignedDuration::from_hours(3));
    p.state.housekeeping().await.unwrap();
    let after = p.manifest(&device.token).await;
    assert!(after["generation"].as_u64() > before["generation"].as_u64());
    assert_eq!(p.item_ids(&device.token).await, ["flash-long"]);
}
