//! Enrolment, device authentication, revocation, heartbeats, and the API's generic answers.

use jiff::{SignedDuration, Timestamp};
use palier_platform::Role;
use palier_platform::administration::ENROLMENT_CODE_TTL;
use palier_platform::cli::text::render_device_list;
use palier_platform::ids::DeviceId;
use palier_platform::server::ROUTES;
use palier_platform::store::Change;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn enrolment_turns_a_code_into_a_device_once() {
    let p = Platform::start().await;
    let b = p.building("Résidence Les Tilleuls").await;
    assert_eq!(b, "bld-residence-les-tilleuls");
    let code = p.code(&b, &["lobby-left", "lift"]).await;
    // Typed in lower case and without dashes, the code still works.
    let typed = code.to_lowercase().replace('-', "");
    let answer = p
        .post_json(
            "/v1/device/enrol",
            None,
            &json!({"code": typed, "device_name": "tilleuls-ascenseur", "software_version": "0.1.0"}),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let enrolled: Value = answer.json().await.unwrap();
    assert_eq!(enrolled["building_id"], b.as_str());
    assert_eq!(enrolled["roles"], json!(["lift", "lobby-left"]));
    assert!(enrolled["device_id"].as_str().unwrap().starts_with("dev-"));
    let token = enrolled["token"].as_str().unwrap();
    assert!(token.starts_with("pd1_"));
    assert_eq!(p.get("/v1/device/manifest", token).await.status(), StatusCode::OK);

    let again = p.post_json("/v1/device/enrol", None, &json!({"code": code})).await;
    let used = error(again, StatusCode::FORBIDDEN, "invalid_code").await;
    let unknown = error(
        p.post_json("/v1/device/enrol", None, &json!({"code": "AAAA-BBBB-CCCC"})).await,
        StatusCode::FORBIDDEN,
        "invalid_code",
    )
    .await;
    assert_eq!(used, unknown, "used and unknown codes answer alike");
    assert!(used.contains("ask the platform admin for a new code"));

    let reports = p.store.device_reports(None).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].device.name, "tilleuls-ascenseur");
    assert_eq!(reports[0].device.software_version, "0.1.0");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let p = Platform::start().await;
    let b = p.building("Les Tilleuls").await;
    let created = Timestamp::now() - SignedDuration::from_hours(25);
    let (code, expires) = p
        .admin()
        .clone()
        .with_clock(std::sync::Arc::new(move || created))
        .create_enrolment_code(&OPERATOR, &b, &["lift".to_owned()], ENROLMENT_CODE_TTL)
        .await
        .unwrap();
    assert_eq!(expires, created + SignedDuration::from_hours(24));
    let answer = p.post_json("/v1/device/enrol", None, &json!({"code": code})).await;
    error(answer, StatusCode::FORBIDDEN, "invalid_code").await;
    // A fresh code made 23 h ago still works.
    let created = Timestamp::now() - SignedDuration::from_hours(23);
    let (code, _) = p
        .admin()
        .clone()
        .with_clock(std::sync::Arc::new(move || created))
        .create_enrolment_code(&OPERATOR, &b, &["lift".to_owned()], ENROLMENT_CODE_TTL)
        .await
        .unwrap();
    assert_eq!(p.post_json("/v1/device/enrol", None, &json!({"code": code})).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn enrolment_bodies_are_checked() {
    let p = Platform::start().await;
    let url = p.url("/v1/device/enrol");
    let message = error(
        p.http
            .post(&url)
            .header("content-type", "application/json")
            .body("{\"code\": ")
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.contains("not valid JSON"), "{message}");
    let message = error(
        p.post_json("/v1/device/enrol", None, &json!({"device_name": "x"})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.contains("code"), "{message}");
    let message = error(
        p.post_json("/v1/device/enrol", None, &json!({"code": 42})).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.contains("code"), "{message}");
    let plain = p
        .http
        .post(&url)
        .header("content-type", "text/plain")
        .body("{\"code\": \"x\"}")
        .send()
        .await
        .unwrap();
    error(plain, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let encoded = p
        .http
        .post(&url)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body("{\"code\": \"x\"}")
        .send()
        .await
        .unwrap();
    error(encoded, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let huge = json!({"code": "x", "device_name": "é".repeat(200_000)});
    let message = error(
        p.post_json("/v1/device/enrol", None, &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    assert!(message.contains("262144"), "{message}");
}

#[tokio::test]
async fn refused_codes_are_rate_limited() {
    let settings = palier_platform::Settings { enrol_failures: 2, ..Default::default() };
    let p = Platform::start_with(settings).await;
    let b = p.building("Les Tilleuls").await;
    let code = p.code(&b, &["lift"]).await;
    for _ in 0..2 {
        let answer = p.post_json("/v1/device/enrol", None, &json!({"code": "WRONG"})).await;
        error(answer, StatusCode::FORBIDDEN, "invalid_code").await;
    }
    let answer = p.post_json("/v1/device/enrol", None, &json!({"code": code})).await;
    let retry: u64 = header(&answer, "retry-after").parse().unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    error(answer, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
}

#[tokio::test]
async fn tokens_are_required_and_revocation_is_immediate() {
    let p = Platform::start().await;
    let b = p.building("Les Tilleuls").await;
    let device = p.enrol(&b, &["lift"]).await;
    let bare = p.http.get(p.url("/v1/device/manifest")).send().await.unwrap();
    assert_eq!(header(&bare, "www-authenticate"), "Bearer");
    error(bare, StatusCode::UNAUTHORIZED, "unauthorized").await;
    error(p.get("/v1/device/manifest", "pd1_nonsense").await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // A publisher token is not a device token, and the other way round.
    let landlord = p.publisher(Role::Landlord, &[&b]).await;
    error(p.get("/v1/device/manifest", &landlord).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    error(
        p.post_json("/v1/publish/items", Some(&device.token), &flash("f")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;

    for path in ["/v1/device/events", "/v1/device/manifest"] {
        error(p.http.get(p.url(path)).send().await.unwrap(), StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let plays = json!({"plays": []});
    error(p.post_json("/v1/device/plays", None, &plays).await, StatusCode::UNAUTHORIZED, "unauthorized")
        .await;
    assert_eq!(p.post_json("/v1/device/plays", Some(&device.token), &plays).await.status(), StatusCode::OK);

    assert!(
        p.store.revoke_device(&DeviceId::parse(&device.device_id).unwrap(), Timestamp::now()).await.unwrap()
    );
    assert!(
        !p.store.revoke_device(&DeviceId::parse(&device.device_id).unwrap(), Timestamp::now()).await.unwrap()
    );
    let revoked = p.get("/v1/device/manifest", &device.token).await;
    assert_eq!(header(&revoked, "www-authenticate"), "Bearer");
    error(revoked, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let beat = json!({"sent_at": null, "software_version": "0.1.0", "generation": 0, "last_sync_at": null,
                      "free_disk_bytes": 1, "clock": {"trusted": true}});
    error(
        p.post_json("/v1/device/heartbeat", Some(&device.token), &beat).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let listing = render_device_list(&p.store.device_reports(None).await.unwrap(), Timestamp::now());
    assert!(listing.contains("status: revoked"), "{listing}");

    // A revoked publisher token stops working at once.
    assert_eq!(p.publish(&landlord, &flash("flash-1")).await["item"]["version"], 1);
    let entry =
        p.store.publishers().await.unwrap().into_iter().find(|e| e.publisher.role == Role::Landlord).unwrap();
    assert!(p.store.revoke_publisher(&entry.publisher.id, &Change::cli(Timestamp::now())).await.unwrap());
    error(
        p.post_json("/v1/publish/items", Some(&landlord), &flash("flash-2")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    assert!(p.store.publishers().await.unwrap()[0].revoked_at.is_some());
}

#[tokio::test]
async fn heartbeats_are_stored_and_listed() {
    let p = Platform::start().await;
    let b = p.building("Les Tilleuls").await;
    let device = p.enrol(&b, &["lift"]).await;
    let beat = json!({
        "sent_at": "2026-11-24T08:00:00Z", "software_version": "0.1.0", "generation": 1042,
        "last_sync_at": "2026-11-24T07:58:13Z",
        "quarantined": [{"id": "offer-velo-enfant", "version": 2, "reason": "author_first_name must be a first name only"}],
        "free_disk_bytes": 5368709120u64,
        "screens": [{"screen": "lift", "role": "lift", "item_id": "promo-cafe-pradel", "item_version": 3,
                     "since": "2026-11-24T07:59:52Z", "generation": 57}],
        "clock": {"trusted": true, "skew_ms": 412},
        "a_future_field": true
    });
    let answer = p.post_json("/v1/device/heartbeat", Some(&device.token), &beat).await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let reports = p.store.device_reports(None).await.unwrap();
    let (_, stored) = reports[0].heartbeat.as_ref().expect("heartbeat stored");
    assert_eq!(stored.generation, 1042);
    assert_eq!(stored.quarantined[0].id, "offer-velo-enfant");
    let listing = render_device_list(&reports, Timestamp::now());
    assert!(listing.contains("generation 1042"), "{listing}");
    assert!(
        listing.contains("offer-velo-enfant v2: author_first_name must be a first name only"),
        "{listing}"
    );
    assert!(listing.contains("last seen: "), "{listing}");

    let mut bad = beat.clone();
    bad["generation"] = json!("many");
    let message = error(
        p.post_json("/v1/device/heartbeat", Some(&device.token), &bad).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    assert!(message.contains("generation"), "{message}");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let p = Platform::start().await;
    error(p.http.get(p.url("/v1/nothing")).send().await.unwrap(), StatusCode::NOT_FOUND, "not_found").await;
    error(
        p.http.get(p.url("/v1/device/enrol")).send().await.unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    assert!(p.http.get(p.url("/v1/nothing")).send().await.unwrap().headers().contains_key("date"));
}

#[tokio::test]
async fn the_api_document_is_served_and_covers_every_route() {
    let p = Platform::start().await;
    let answer = p.http.get(p.url("/v1/openapi.json")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(header(&answer, "content-type"), "application/json");
    let doc: Value = answer.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, operations) in paths {
        for method in ["get", "post", "put", "delete"] {
            if operations.get(method).is_some() {
                documented.push((method.to_owned(), path.clone()));
            }
        }
    }
    let mut routed: Vec<(String, String)> =
        ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
    // Every operation documents its answers.
    for (method, path) in &documented {
        let responses = &doc["paths"][path][method]["responses"];
        assert!(responses.as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
    }
}
