//! The lift company's monitoring: statuses become flashes on the lift and lobby screens.

use palier_platform::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn a_lift_out_of_service_reaches_its_screens_once_and_leaves_when_it_runs_again() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let b = p.building("Les Acacias").await;
    let lift = p.admin().add_lift(&OPERATOR, &a, "Ascenseur A", None).await.unwrap();
    assert_eq!(lift.id.as_str(), "lift-les-tilleuls-ascenseur-a");
    let company = p.publisher(Role::Lift, &[&a]).await;
    let lift_board = p.enrol(&a, &["lift"]).await;
    let lobby_board = p.enrol(&a, &["lobby-left", "lobby-right"]).await;
    let path = format!("/v1/lift/{}/status", lift.id);

    let down = json!({"status": "out_of_service", "expected_return": "2030-01-01T15:00:00Z"});
    let answer: Value = p.post_json(&path, Some(&company), &down).await.json().await.unwrap();
    assert_eq!(answer["changed"], true, "{answer}");
    let on_lift = p.manifest(&lift_board.token).await;
    let shown = &on_lift["items"][0];
    assert_eq!((shown["severity"].as_str(), shown["roles"].clone()), (Some("urgent"), json!(["lift"])));
    assert!(
        shown["title"].as_str().unwrap().starts_with("Ascenseur A à l’arrêt — retour prévu vers"),
        "{shown}"
    );
    assert_eq!(shown["origin"], "test");
    let in_lobby = p.manifest(&lobby_board.token).await;
    assert_eq!(in_lobby["items"].as_array().unwrap().len(), 1);
    assert_eq!(in_lobby["items"][0]["severity"], "important");
    assert_eq!(in_lobby["items"][0]["roles"], json!(["lobby-left", "lobby-right"]));

    // The monitoring repeats itself: nothing new is published, no generation moves.
    let generation = on_lift["generation"].as_u64().unwrap();
    for _ in 0..5 {
        let again: Value = p.post_json(&path, Some(&company), &down).await.json().await.unwrap();
        assert_eq!(again["changed"], false);
    }
    assert_eq!(p.manifest(&lift_board.token).await["generation"].as_u64().unwrap(), generation);

    let up: Value =
        p.post_json(&path, Some(&company), &json!({"status": "in_service"})).await.json().await.unwrap();
    assert_eq!(up["withdrawn"].as_array().unwrap().len(), 2, "{up}");
    let on_lift = p.manifest(&lift_board.token).await;
    assert_eq!(on_lift["items"].as_array().unwrap().len(), 1);
    assert_eq!(on_lift["items"][0]["severity"], "info");
    assert!(on_lift["items"][0]["title"].as_str().unwrap().contains("de nouveau en service"));

    // Refusals: an unknown lift names itself; another building's company and a landlord are refused.
    let message = error(
        p.post_json("/v1/lift/lift-nowhere/status", Some(&company), &down).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(message.contains("lift-nowhere"), "{message}");
    let other_company = p.publisher(Role::Lift, &[&b]).await;
    error(p.post_json(&path, Some(&other_company), &down).await, StatusCode::FORBIDDEN, "forbidden").await;
    let landlord = p.publisher(Role::Landlord, &[&a]).await;
    error(p.post_json(&path, Some(&landlord), &down).await, StatusCode::FORBIDDEN, "forbidden").await;
    let typo = json!({"status": "broken"});
    error(p.post_json(&path, Some(&company), &typo).await, StatusCode::BAD_REQUEST, "bad_request").await;

    // A manual flash of the lift company goes to the lift screens, never elsewhere.
    let mut visit = flash("flash-visite");
    visit["title"] = json!("Visite de maintenance mardi 14 h – 16 h");
    let published = p.publish(&company, &visit).await;
    assert_eq!(published["item"]["roles"], json!(["lift"]));
    visit["id"] = json!("flash-cave");
    visit["roles"] = json!(["cellar"]);
    error(p.post_json("/v1/publish/items", Some(&company), &visit).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
}
