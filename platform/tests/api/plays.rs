//! Proof of play: idempotent uploads, per-record rejection, and the publisher's view.

use palier_platform::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn play(id: &str, item: &str, started_at: &str) -> Value {
    json!({"id": id, "item_id": item, "item_version": 1, "screen": "lift", "role": "lift",
           "started_at": started_at, "duration_ms": 8000, "trigger": "rotation", "clock_trusted": true})
}

#[tokio::test]
async fn plays_uploaded_twice_count_once_and_show_as_proof() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let shop = p.publisher(Role::Shop, &[&a]).await;
    p.publish(&shop, &promo("promo-cafe")).await;
    let lift = p.enrol(&a, &["lift"]).await;
    let lobby = p.enrol(&a, &["lobby-left"]).await;
    let batch = json!({"plays": [
        play("01M868NTA0SABR24PA3EYWNYP2", "promo-cafe", "2026-11-24T07:52:40Z"),
        play("01M868P2407RHYG5G075CMMCW9", "promo-cafe", "2026-11-24T07:58:40Z"),
        {"id": "01M868PBWG5SYJR0X9A1XE4SFC", "item_id": "", "item_version": 0, "screen": "lift", "role": "lift",
         "started_at": "2026-11-24T07:59:00Z", "duration_ms": 5000, "trigger": "fallback", "clock_trusted": false}
    ]});
    for _ in 0..2 {
        let answer = p.post_json("/v1/device/plays", Some(&lift.token), &batch).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let ack: Value = answer.json().await.unwrap();
        assert_eq!(
            ack,
            json!({"acknowledged": ["01M868NTA0SABR24PA3EYWNYP2", "01M868P2407RHYG5G075CMMCW9", "01M868PBWG5SYJR0X9A1XE4SFC"],
                   "rejected": []})
        );
    }
    // The same record id from another device is another play.
    let mut lobby_play = play("01M868NTA0SABR24PA3EYWNYP2", "promo-cafe", "2026-11-24T08:00:00Z");
    lobby_play["screen"] = json!("lobby-left");
    lobby_play["role"] = json!("lobby-left");
    let answer = p.post_json("/v1/device/plays", Some(&lobby.token), &json!({"plays": [lobby_play]})).await;
    assert_eq!(answer.status(), StatusCode::OK);

    let proof: Value = p.get("/v1/publish/items/promo-cafe/plays", &shop).await.json().await.unwrap();
    assert_eq!(proof["total"], 3);
    assert_eq!(proof["plays"].as_array().unwrap().len(), 3);
    assert_eq!(proof["truncated"], false);
    let screens = proof["screens"].as_array().unwrap();
    let lift_screen = screens.iter().find(|s| s["device_id"] == lift.device_id.as_str()).unwrap();
    assert_eq!(lift_screen["count"], 2);
    assert_eq!(lift_screen["screen"], "lift");
    assert_eq!(lift_screen["building_id"], a.as_str());
    assert_eq!(lift_screen["total_duration_ms"], 16000);
    assert_eq!(lift_screen["first_shown"], "2026-11-24T07:52:40Z");
    assert_eq!(lift_screen["last_shown"], "2026-11-24T07:58:40Z");
    let lobby_screen = screens.iter().find(|s| s["device_id"] == lobby.device_id.as_str()).unwrap();
    assert_eq!(lobby_screen["count"], 1);
    assert_eq!(proof["plays"][0]["started_at"], "2026-11-24T07:52:40Z");
    assert_eq!(proof["plays"][0]["trigger"], "rotation");

    error(p.get("/v1/publish/items/promo-nothing/plays", &shop).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    let other_shop = p.publisher(Role::Shop, &[&a]).await;
    error(p.get("/v1/publish/items/promo-cafe/plays", &other_shop).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
}

#[tokio::test]
async fn bad_records_are_rejected_one_by_one_and_bad_batches_refused() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let device = p.enrol(&a, &["lift"]).await;
    let mut zero = play("zero", "promo-cafe", "2026-11-24T07:52:40Z");
    zero["duration_ms"] = json!(0);
    let mut trigger = play("trigger", "promo-cafe", "2026-11-24T07:52:40Z");
    trigger["trigger"] = json!("whim");
    let mut fallback_with_item = play("fallback", "promo-cafe", "2026-11-24T07:52:40Z");
    fallback_with_item["trigger"] = json!("fallback");
    let empty_item = play("empty", "", "2026-11-24T07:52:40Z");
    let bad_id = play("has space", "promo-cafe", "2026-11-24T07:52:40Z");
    let mut missing = play("missing", "promo-cafe", "2026-11-24T07:52:40Z");
    missing.as_object_mut().unwrap().remove("started_at");
    let good = play("good", "promo-cafe", "2026-11-24T07:52:40Z");
    let batch = json!({"plays": [zero, trigger, fallback_with_item, empty_item, bad_id, missing, good]});
    let ack: Value = p.post_json("/v1/device/plays", Some(&device.token), &batch).await.json().await.unwrap();
    assert_eq!(ack["acknowledged"], json!(["good"]));
    let rejected: Vec<(&str, &str)> = ack["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    let ids: Vec<&str> = rejected.iter().map(|r| r.0).collect();
    assert_eq!(ids, ["zero", "trigger", "fallback", "empty", "has space", "missing"]);
    assert_eq!(rejected[0].1, "duration_ms is 0; a play lasts at least 1 ms");
    assert!(rejected[1].1.contains("whim"), "{}", rejected[1].1);
    assert!(rejected[5].1.contains("started_at"), "{}", rejected[5].1);

    let no_id = json!({"plays": [{"item_id": "x"}]});
    let message = error(
        p.post_json("/v1/device/plays", Some(&device.token), &no_id).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.contains("plays[0].id"), "{message}");
    error(
        p.post_json("/v1/device/plays", Some(&device.token), &json!({"records": []})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    let many: Vec<Value> = (0..501).map(|i| play(&format!("p{i}"), "x", "2026-11-24T07:52:40Z")).collect();
    error(
        p.post_json("/v1/device/plays", Some(&device.token), &json!({"plays": many})).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
}
