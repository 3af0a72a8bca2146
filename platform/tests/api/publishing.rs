//! The publishing API: versions, scopes, validation, privacy, withdrawals.

use palier_platform::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn publish_update_and_versions() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let landlord = p.publisher(Role::Landlord, &[&a]).await;
    let created = p.publish(&landlord, &flash("flash-eau")).await;
    assert_eq!(created["item"]["version"], 1);
    assert_eq!(created["item"]["channel"], "building");
    assert_eq!(created["buildings"], json!([a]));
    assert!(created["item"].get("buildings").is_none());

    let again = p.post_json("/v1/publish/items", Some(&landlord), &flash("flash-eau")).await;
    let message = error(again, StatusCode::CONFLICT, "conflict").await;
    assert!(message.contains("PUT /v1/publish/items/flash-eau"), "{message}");

    let mut edit = flash("flash-eau");
    edit["severity"] = json!("urgent");
    let updated = p.put_json("/v1/publish/items/flash-eau", &landlord, &edit).await;
    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["item"]["version"], 2);
    assert_eq!(updated["item"]["severity"], "urgent");
    assert!(updated["generation"].as_u64() > created["generation"].as_u64());

    // A given version must be the next one; the id may come from the path alone.
    let mut stale = flash("flash-eau");
    stale["version"] = json!(2);
    let message = error(
        p.put_json("/v1/publish/items/flash-eau", &landlord, &stale).await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
    assert!(message.contains("next version is 3"), "{message}");
    let mut next = flash("flash-eau");
    next.as_object_mut().unwrap().remove("id");
    next["version"] = json!(3);
    let answer: Value =
        p.put_json("/v1/publish/items/flash-eau", &landlord, &next).await.json().await.unwrap();
    assert_eq!(answer["item"]["version"], 3);
    let mismatch = p.put_json("/v1/publish/items/flash-eau", &landlord, &flash("flash-autre")).await;
    error(mismatch, StatusCode::BAD_REQUEST, "bad_request").await;
    error(
        p.put_json("/v1/publish/items/flash-inconnu", &landlord, &flash("flash-inconnu")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let device = p.enrol(&a, &["lift"]).await;
    let manifest = p.manifest(&device.token).await;
    assert_eq!(manifest["items"][0]["version"], 3);
    assert_eq!(manifest["items"][0]["severity"], "important");
}

#[tokio::test]
async fn tokens_are_scoped_to_roles_and_buildings() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let b = p.building("Les Acacias").await;
    let landlord_a = p.publisher(Role::Landlord, &[&a]).await;
    let landlord_b = p.publisher(Role::Landlord, &[&b]).await;
    let shop = p.publisher(Role::Shop, &[&a]).await;
    let neighbourhood = p.publisher(Role::Neighbourhood, &[&a]).await;

    let message = error(
        p.post_json("/v1/publish/items", Some(&shop), &flash("f")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(message.contains("a shop publisher may publish promo, not flash"), "{message}");
    error(
        p.post_json("/v1/publish/items", Some(&neighbourhood), &promo("p")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    error(
        p.post_json("/v1/publish/items", Some(&landlord_a), &offer("o", "person-1")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let mut to_b = flash("flash-b");
    to_b["buildings"] = json!([b]);
    let message = error(
        p.post_json("/v1/publish/items", Some(&landlord_a), &to_b).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(message.contains(&b), "{message}");
    let mut nowhere = flash("flash-x");
    nowhere["buildings"] = json!(["bld-nowhere"]);
    error(
        p.post_json("/v1/publish/items", Some(&landlord_a), &nowhere).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let mut wrong_channel = promo("p");
    wrong_channel["channel"] = json!("building");
    error(
        p.post_json("/v1/publish/items", Some(&shop), &wrong_channel).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // Landlords publish news too; the neighbourhood app publishes news, events and offers.
    let mut news = json!({"id": "news-syndic", "kind": "news", "title": "Assemblée générale le 3 décembre",
                          "valid_from": flash("x")["valid_from"], "valid_until": flash("x")["valid_until"]});
    p.publish(&landlord_a, &news).await;
    news["id"] = json!("news-quartier");
    p.publish(&neighbourhood, &news).await;
    p.publish(&neighbourhood, &event("event-lampions", "asso-1")).await;
    p.publish(&shop, &promo("promo-cafe")).await;
    p.publish(&landlord_b, &to_b).await;

    // Nobody touches another publisher's items.
    error(
        p.put_json("/v1/publish/items/flash-b", &landlord_a, &flash("flash-b")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    error(p.delete("/v1/publish/items/flash-b", &landlord_a).await, StatusCode::FORBIDDEN, "forbidden").await;
    error(p.get("/v1/publish/items/flash-b/plays", &landlord_a).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    let device = p.enrol(&b, &["lift"]).await;
    assert_eq!(p.item_ids(&device.token).await, ["flash-b"]);
}

#[tokio::test]
async fn bad_items_are_refused_with_the_field_named() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let landlord = p.publisher(Role::Landlord, &[&a]).await;
    let neighbourhood = p.publisher(Role::Neighbourhood, &[&a]).await;
    let refuse = |token: String, item: Value| {
        let p = &p;
        async move {
            error(
                p.post_json("/v1/publish/items", Some(&token), &item).await,
                StatusCode::BAD_REQUEST,
                "bad_request",
            )
            .await
        }
    };
    let mut weight = flash("f");
    weight["weight"] = json!(0);
    assert!(refuse(landlord.clone(), weight).await.contains("weight 0"));
    let mut instant = flash("f");
    instant["valid_from"] = json!("mardi");
    assert!(refuse(landlord.clone(), instant).await.contains("valid_from"));
    let mut untitled = flash("f");
    untitled.as_object_mut().unwrap().remove("title");
    assert!(refuse(landlord.clone(), untitled).await.contains("title"));
    let mut severity = flash("f");
    severity["severity"] = json!("apocalyptic");
    let message = refuse(landlord.clone(), severity).await;
    assert!(message.contains("apocalyptic"), "{message}");
    let mut past = flash("f");
    past["valid_from"] = json!("2020-01-01T00:00:00Z");
    past["valid_until"] = json!("2020-01-02T00:00:00Z");
    assert!(refuse(landlord.clone(), past).await.contains("already past"));
    let mut buildings = flash("f");
    buildings["buildings"] = json!("bld-a");
    assert!(refuse(landlord.clone(), buildings).await.contains("buildings"));
    let mut empty = flash("f");
    empty["buildings"] = json!([]);
    assert!(refuse(landlord.clone(), empty).await.contains("buildings and areas are empty"));
    assert!(refuse(landlord.clone(), json!({"id": "f", "title": "x"})).await.contains("kind is missing"));
    assert!(refuse(landlord.clone(), json!([1, 2])).await.contains("JSON object"));
    let mut with_author = flash("f");
    with_author["author"] = json!({"person_id": "p1"});
    assert!(refuse(landlord.clone(), with_author).await.contains("author"));
    let mut anonymous = offer("o", "p1");
    anonymous.as_object_mut().unwrap().remove("author");
    assert!(refuse(neighbourhood.clone(), anonymous).await.contains("author"));
    let mut direct = offer("o", "p1");
    direct["author_first_name"] = json!("Camille");
    assert!(refuse(neighbourhood.clone(), direct).await.contains("author.first_name"));
    let mut no_person = offer("o", "p1");
    no_person["author"] = json!({"first_name": "Camille"});
    assert!(refuse(neighbourhood.clone(), no_person).await.contains("person_id"));

    let url = p.url("/v1/publish/items");
    let not_json = p
        .http
        .post(&url)
        .bearer_auth(&landlord)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await;
    error(not_json.unwrap(), StatusCode::BAD_REQUEST, "bad_request").await;
    let text =
        p.http.post(&url).bearer_auth(&landlord).header("content-type", "text/plain").body("{}").send().await;
    error(text.unwrap(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let mut huge = flash("f");
    huge["padding"] = json!("x".repeat(300_000));
    error(
        p.post_json("/v1/publish/items", Some(&landlord), &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    error(
        p.post_json("/v1/publish/items", None, &flash("f")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    error(
        p.post_json("/v1/publish/items", Some("pp1_forged"), &flash("f")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;

    let device = p.enrol(&a, &["lift"]).await;
    assert!(p.item_ids(&device.token).await.is_empty(), "nothing partial was stored");
}

#[tokio::test]
async fn contact_details_never_reach_a_screen() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let landlord = p.publisher(Role::Landlord, &[&a]).await;
    let neighbourhood = p.publisher(Role::Neighbourhood, &[&a]).await;
    let mut mail = offer("o1", "p1");
    mail["body"] = json!("Écrivez-moi : camille.martin@example.org");
    let message = error(
        p.post_json("/v1/publish/items", Some(&neighbourhood), &mail).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.starts_with("body contains an e-mail address (camille.martin@example.org)"), "{message}");
    let mut phone = flash("f1");
    phone["title"] = json!("Gardien joignable au 06 12 34 56 78");
    let message = error(
        p.post_json("/v1/publish/items", Some(&landlord), &phone).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.starts_with("title contains a phone number (06 12 34 56 78)"), "{message}");
    let mut name = offer("o2", "p1");
    name["author"]["first_name"] = json!("camille@example.org");
    let message = error(
        p.post_json("/v1/publish/items", Some(&neighbourhood), &name).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.contains("first name only"), "{message}");
    let mut full_name = offer("o3", "p1");
    full_name["author"]["first_name"] = json!("Camille Marie Louise Martin");
    error(
        p.post_json("/v1/publish/items", Some(&neighbourhood), &full_name).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;

    let published = p.publish(&neighbourhood, &offer("offer-perceuse", "person-secret-42")).await;
    assert_eq!(published["item"]["author_first_name"], "Camille");
    assert_eq!(published["item"]["author_building"], "Bâtiment B");
    let device = p.enrol(&a, &["lift"]).await;
    let raw = p.get("/v1/device/manifest", &device.token).await.text().await.unwrap();
    assert!(raw.contains("\"author_first_name\":\"Camille\""), "{raw}");
    assert!(
        !raw.contains("person-secret-42") && !raw.contains("person_id") && !raw.contains("\"author\""),
        "{raw}"
    );
}

#[tokio::test]
async fn withdrawing_an_item_or_a_person_empties_the_manifests_at_once() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let b = p.building("Les Acacias").await;
    let landlord = p.publisher(Role::Landlord, &[&a, &b]).await;
    let neighbourhood = p.publisher(Role::Neighbourhood, &[&a, &b]).await;
    p.publish(&landlord, &flash("flash-eau")).await;
    p.publish(&neighbourhood, &offer("offer-perceuse", "camille")).await;
    p.publish(&neighbourhood, &offer("offer-velo", "camille")).await;
    p.publish(&neighbourhood, &event("event-gouter", "camille")).await;
    p.publish(&neighbourhood, &offer("offer-livres", "louis")).await;
    let in_a = p.enrol(&a, &["lift"]).await;
    let in_b = p.enrol(&b, &["lift"]).await;
    assert_eq!(p.item_ids(&in_b.token).await.len(), 5, "no buildings given: all of the publisher's");

    assert_eq!(p.delete("/v1/publish/items/flash-eau", &landlord).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        p.delete("/v1/publish/items/flash-eau", &landlord).await.status(),
        StatusCode::NO_CONTENT,
        "repeatable"
    );
    error(p.delete("/v1/publish/items/flash-nothing", &landlord).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    assert!(!p.item_ids(&in_a.token).await.contains(&"flash-eau".to_owned()));

    error(p.delete("/v1/publish/people/camille", &landlord).await, StatusCode::FORBIDDEN, "forbidden").await;
    let answer = p.delete("/v1/publish/people/camille", &neighbourhood).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["withdrawn"], json!(["event-gouter", "offer-perceuse", "offer-velo"]));
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(answer["buildings"], json!(both));
    for device in [&in_a, &in_b] {
        assert_eq!(p.item_ids(&device.token).await, ["offer-livres"]);
    }
    let again: Value = p.delete("/v1/publish/people/camille", &neighbourhood).await.json().await.unwrap();
    assert_eq!(again["withdrawn"], json!([]));

    // A withdrawn item comes back only as a new version.
    let back =
        p.put_json("/v1/publish/items/offer-velo", &neighbourhood, &offer("offer-velo", "camille")).await;
    let back: Value = back.json().await.unwrap();
    assert_eq!(back["item"]["version"], 2);
    assert_eq!(p.item_ids(&in_a.token).await, ["offer-livres", "offer-velo"]);
}

#[tokio::test]
async fn an_update_can_move_an_item_between_buildings() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let b = p.building("Les Acacias").await;
    let landlord = p.publisher(Role::Landlord, &[&a, &b]).await;
    let mut item = flash("flash-eau");
    item["buildings"] = json!([a]);
    p.publish(&landlord, &item).await;
    let in_a = p.enrol(&a, &["lift"]).await;
    let in_b = p.enrol(&b, &["lift"]).await;
    let g_a = p.manifest(&in_a.token).await["generation"].as_u64().unwrap();
    item["buildings"] = json!([b]);
    assert_eq!(p.put_json("/v1/publish/items/flash-eau", &landlord, &item).await.status(), StatusCode::OK);
    let manifest_a = p.manifest(&in_a.token).await;
    assert!(manifest_a["generation"].as_u64().unwrap() > g_a, "the building it left moves on too");
    assert_eq!(manifest_a["items"], json!([]));
    assert_eq!(p.item_ids(&in_b.token).await, ["flash-eau"]);
}

#[tokio::test]
async fn residents_offers_wait_for_moderation_and_the_api_says_so() {
    use palier_platform::moderation::Event;
    use palier_platform::publishing::Actor;
    use palier_platform::store::{Publisher, PublisherKind, Via};

    let p = Platform::start().await;
    let a = p.moderated_building("Les Tilleuls").await;
    let app = p.publisher(Role::Neighbourhood, &[&a]).await;
    let device = p.enrol(&a, &["lift"]).await;
    let answer = p.publish(&app, &offer("offer-chat", "camille")).await;
    assert_eq!(answer["moderation"], json!({"state": "pending"}));
    assert!(p.item_ids(&device.token).await.is_empty(), "a pending offer reaches no board");
    let read: Value = p.get("/v1/publish/items/offer-chat", &app).await.json().await.unwrap();
    assert_eq!(read["moderation"]["state"], "pending");
    assert_eq!(read["withdrawn"], Value::Null);

    let moderator = Actor::new(
        Publisher::with_buildings(
            palier_platform::ids::PublisherId::parse("usr-mod").unwrap(),
            "Modération".into(),
            Role::Moderator,
            PublisherKind::Person,
            vec![palier_platform::ids::BuildingId::parse(&a).unwrap()],
        ),
        Via::Console,
    );
    let id = palier_platform::ids::ItemId::parse("offer-chat").unwrap();
    let reason = "Les annonces d'animaux passent par le refuge".to_owned();
    p.state
        .publishing()
        .moderate(&moderator, &id, 1, Event::Reject { reason: reason.clone() })
        .await
        .unwrap();
    let read: Value = p.get("/v1/publish/items/offer-chat", &app).await.json().await.unwrap();
    assert_eq!(read["moderation"], json!({"state": "rejected", "reason": reason}));
    p.state.publishing().moderate(&moderator, &id, 1, Event::Approve).await.unwrap();
    assert_eq!(p.item_ids(&device.token).await, ["offer-chat"]);

    let other = p.publisher(Role::Landlord, &[&a]).await;
    error(p.get("/v1/publish/items/offer-chat", &other).await, StatusCode::FORBIDDEN, "forbidden").await;
    error(p.get("/v1/publish/items/nothing", &app).await, StatusCode::NOT_FOUND, "not_found").await;
}
