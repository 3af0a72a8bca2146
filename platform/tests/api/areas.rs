//! Neighbourhoods and cities: one publication reaches every building of an area, including
//! buildings added later, with manifests, change hints and proof of play following.

use std::time::Duration;

use palier_platform::Role;
use palier_platform::ids::ItemId;
use palier_platform::publishing::Actor;
use palier_platform::store::{AreaKind, Via};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn an_item_for_a_neighbourhood_reaches_its_buildings_and_those_added_later() {
    let p = Platform::start().await;
    let [a, b, c, elsewhere] = [
        p.building("Les Tilleuls").await,
        p.building("Les Acacias").await,
        p.building("Les Platanes").await,
        p.building("Le Beffroi").await,
    ];
    let city = p.admin().add_area(&OPERATOR, "Lyon", AreaKind::City, None, &[], None).await.unwrap();
    let pentes = p
        .admin()
        .add_area(
            &OPERATOR,
            "Quartier des Pentes",
            AreaKind::Neighbourhood,
            Some(city.area.id.as_str()),
            &[a.clone(), b.clone()],
            None,
        )
        .await
        .unwrap();
    assert_eq!(pentes.area.id.as_str(), "area-quartier-des-pentes");
    assert_eq!(pentes.reach.len(), 2);
    let app = p.publisher(Role::Neighbourhood, &[pentes.area.id.as_str()]).await;
    let board_a = p.enrol(&a, &["lift"]).await;
    let board_b = p.enrol(&b, &["lobby-left"]).await;
    let board_c = p.enrol(&c, &["lift"]).await;
    let board_far = p.enrol(&elsewhere, &["lift"]).await;
    let since = p.manifest(&board_b.token).await["generation"].as_u64().unwrap();
    let mut hints_b = Events::open(&p, &board_b.token, Some(since)).await;
    assert_eq!(hints_b.next().await.unwrap().get("retry"), Some("5000"));

    // Without targets, an area-scoped publisher publishes to its area.
    let published = p.publish(&app, &event("event-brocante", "res-1")).await;
    assert_eq!(published["areas"], json!([pentes.area.id]), "{published}");
    assert_eq!(published["buildings"], json!([]));
    assert_eq!(published["reach"], json!([b, a]), "sorted ids: bld-les-acacias, bld-les-tilleuls");
    for board in [&board_a, &board_b] {
        assert_eq!(p.item_ids(&board.token).await, ["event-brocante"]);
    }
    assert!(p.item_ids(&board_c.token).await.is_empty());
    assert!(p.item_ids(&board_far.token).await.is_empty());
    let hint = hints_b.changed(Duration::from_secs(1)).await;
    assert_eq!(hint.generation, published["generation"].as_u64().unwrap());

    // A building joining the neighbourhood receives it at once.
    p.admin().join_area(&OPERATOR, &pentes.area.id, std::slice::from_ref(&c)).await.unwrap();
    assert_eq!(p.item_ids(&board_c.token).await, ["event-brocante"]);
    let read: Value = p.get("/v1/publish/items/event-brocante", &app).await.json().await.unwrap();
    assert_eq!(read["reach"].as_array().unwrap().len(), 3, "{read}");

    // Proof of play covers the screens of every building it reaches.
    let publisher =
        p.store.publishers().await.unwrap().into_iter().find(|e| e.publisher.areas.len() == 1).unwrap();
    let actor = Actor::new(publisher.publisher, Via::Api);
    let proof =
        p.state.publishing().proof_of_play(&actor, &ItemId::parse("event-brocante").unwrap()).await.unwrap();
    let mut devices: Vec<&str> = proof.screens.iter().map(|s| s.device_id.as_str()).collect();
    devices.sort();
    let mut expected =
        vec![board_a.device_id.as_str(), board_b.device_id.as_str(), board_c.device_id.as_str()];
    expected.sort();
    assert_eq!(devices, expected);

    // Scope: not the city it lies in, not another building, not an unknown area.
    let mut to_city = event("event-ville", "res-1");
    to_city["areas"] = json!([city.area.id]);
    let refused = error(
        p.post_json("/v1/publish/items", Some(&app), &to_city).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(refused.contains("area-lyon"), "{refused}");
    let mut to_far = event("event-loin", "res-1");
    to_far["buildings"] = json!([elsewhere]);
    error(p.post_json("/v1/publish/items", Some(&app), &to_far).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    let mut to_nowhere = event("event-nulle-part", "res-1");
    to_nowhere["areas"] = json!(["area-atlantide"]);
    let missing = error(
        p.post_json("/v1/publish/items", Some(&app), &to_nowhere).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(missing.contains("area-atlantide"), "{missing}");

    // A city publisher reaches the neighbourhood within it, and the building it names.
    let city_app = p.publisher(Role::Neighbourhood, &[city.area.id.as_str(), elsewhere.as_str()]).await;
    let mut both = event("event-fete", "res-2");
    both["areas"] = json!([pentes.area.id]);
    both["buildings"] = json!([elsewhere]);
    let published = p.publish(&city_app, &both).await;
    assert_eq!(published["reach"].as_array().unwrap().len(), 4, "{published}");
    assert!(p.item_ids(&board_far.token).await.contains(&"event-fete".to_owned()));

    // A new version naming no target stays where it is.
    let mut again = both.clone();
    again.as_object_mut().unwrap().remove("areas");
    again.as_object_mut().unwrap().remove("buildings");
    again["title"] = json!("Fête de quartier, samedi");
    let updated: Value =
        p.put_json("/v1/publish/items/event-fete", &city_app, &again).await.json().await.unwrap();
    assert_eq!(
        (updated["areas"].clone(), updated["buildings"].clone()),
        (json!([pentes.area.id]), json!([elsewhere]))
    );
    p.stop().await;
}
