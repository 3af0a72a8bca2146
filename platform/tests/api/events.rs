//! Server-sent change hints: fan-out per building, Last-Event-ID, keep-alives, shutdown.

use palier_platform::ids::DeviceId;
use std::time::Duration;

use jiff::Timestamp;
use palier_platform::{Role, Settings};
use serde_json::json;

use crate::support::*;

const WITHIN: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_publish_reaches_every_listener_of_the_building_and_no_other() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let b = p.building("Les Acacias").await;
    let landlord = p.publisher(Role::Landlord, &[&a, &b]).await;
    let lift = p.enrol(&a, &["lift"]).await;
    let lobby = p.enrol(&a, &["lobby-left"]).await;
    let elsewhere = p.enrol(&b, &["lift"]).await;
    let current = p.manifest(&elsewhere.token).await["generation"].as_u64().unwrap();
    let mut e1 = Events::open(&p, &lift.token, Some(current)).await;
    let mut e2 = Events::open(&p, &lobby.token, Some(current)).await;
    let mut e3 = Events::open(&p, &elsewhere.token, Some(current)).await;
    for events in [&mut e1, &mut e2, &mut e3] {
        assert_eq!(events.next().await.unwrap().get("retry"), Some("5000"));
    }

    let mut to_a = flash("flash-a");
    to_a["buildings"] = json!([a]);
    let published = p.publish(&landlord, &to_a).await["generation"].as_u64().unwrap();
    for events in [&mut e1, &mut e2] {
        let hint = events.changed(WITHIN).await;
        assert_eq!((hint.generation, hint.reason.as_str()), (published, "publish"));
    }
    // B's listener got nothing from A: its next hint is B's own change.
    let mut to_b = flash("flash-b");
    to_b["buildings"] = json!([b]);
    let for_b = p.publish(&landlord, &to_b).await["generation"].as_u64().unwrap();
    assert_eq!(e3.changed(WITHIN).await.generation, for_b);

    let update = p.put_json("/v1/publish/items/flash-a", &landlord, &to_a).await;
    assert_eq!(update.status(), reqwest::StatusCode::OK);
    let hint = e1.changed(WITHIN).await;
    assert_eq!(hint.reason, "update");
    assert_eq!(e2.changed(WITHIN).await, hint);
    assert_eq!(
        p.delete("/v1/publish/items/flash-a", &landlord).await.status(),
        reqwest::StatusCode::NO_CONTENT
    );
    let hint = e1.changed(WITHIN).await;
    assert_eq!(hint.reason, "withdraw");
    assert!(hint.generation > for_b);
    assert_eq!(p.manifest(&lift.token).await["generation"].as_u64().unwrap(), hint.generation);
    p.stop().await;
}

#[tokio::test]
async fn a_device_behind_hears_at_once_and_a_current_one_does_not() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let landlord = p.publisher(Role::Landlord, &[&a]).await;
    let device = p.enrol(&a, &["lift"]).await;
    let published = p.publish(&landlord, &flash("flash-a")).await["generation"].as_u64().unwrap();

    let mut fresh = Events::open(&p, &device.token, None).await;
    let hint = fresh.changed(WITHIN).await;
    assert_eq!((hint.generation, hint.reason.as_str()), (published, "publish"));
    let mut unreadable = Events::open(&p, &device.token, None).await;
    drop(unreadable.next().await);
    assert_eq!(
        unreadable.changed(WITHIN).await.generation,
        published,
        "an unreadable Last-Event-ID reads as 0"
    );

    let mut current = Events::open(&p, &device.token, Some(published)).await;
    let second = p.publish(&landlord, &flash("flash-b")).await["generation"].as_u64().unwrap();
    assert_eq!(current.changed(WITHIN).await.generation, second, "no catch-up event before it");
}

#[tokio::test]
async fn streams_keep_alive_and_end_on_revocation_and_shutdown() {
    let settings = Settings { keep_alive: Duration::from_millis(50), ..Default::default() };
    let p = Platform::start_with(settings).await;
    let a = p.building("Les Tilleuls").await;
    let device = p.enrol(&a, &["lift"]).await;
    let other = p.enrol(&a, &["lift"]).await;
    let generation = p.manifest(&device.token).await["generation"].as_u64().unwrap();
    let mut events = Events::open(&p, &device.token, Some(generation + 100)).await;
    assert_eq!(events.next().await.unwrap().get("retry"), Some("5000"));
    let keep_alive = tokio::time::timeout(Duration::from_secs(2), events.next()).await.unwrap().unwrap();
    assert_eq!(keep_alive.fields, [(String::new(), "keep-alive".to_owned())]);

    p.store.revoke_device(&DeviceId::parse(&device.device_id).unwrap(), Timestamp::now()).await.unwrap();
    let ended =
        tokio::time::timeout(Duration::from_secs(2), async { while events.next().await.is_some() {} }).await;
    assert!(ended.is_ok(), "the revoked device's stream ends at the next keep-alive");

    // An open stream does not hold up shutdown (`stop` fails after 5 s otherwise).
    let mut open = Events::open(&p, &other.token, None).await;
    assert!(open.next().await.is_some());
    p.stop().await;
}
