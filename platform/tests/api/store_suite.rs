//! The store interface's scenario suite: every implementation of `Store` must pass it
//! unchanged. It talks to the trait only, so a second backend runs `scenarios(store)` as is.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use palier_content::sample;
use palier_content::wire::{Heartbeat, PlayRecord, PlayTrigger};
use palier_content::{Building, Item, MediaRef};
use palier_platform::Role;
use palier_platform::ids::{AreaId, BuildingId, DeviceId, ItemId, MediaAddress, PersonId, PublisherId};
use palier_platform::moderation::Moderation;
use palier_platform::store::{
    Area, AreaKind, BuildingLoad, Change, Conflict, EnrolmentCode, ItemQuery, ItemWrite, NewDevice, Person,
    Publisher, PublisherKind, Store, StoreError, Via, WithdrawReason,
};

fn id<T>(parse: fn(&str) -> Result<T, String>, text: &str) -> T {
    parse(text).unwrap()
}

fn building(name: &str) -> Building {
    Building { id: name.to_owned(), ..sample::building() }
}

fn item(name: &str, version: u64, until: Timestamp) -> Item {
    let mut item = sample::flash(name, palier_content::Severity::Info);
    item.version = version;
    item.valid_until = until;
    item
}

fn change(publisher: &PublisherId, via: Via) -> Change {
    Change { actor: Some(publisher.clone()), actor_name: "Syndic".into(), via, at: Timestamp::now() }
}

fn write(item: Item, publisher: &PublisherId, buildings: &[&BuildingId], replaces: Option<u64>) -> ItemWrite {
    ItemWrite {
        item,
        publisher_id: publisher.clone(),
        person_id: None,
        buildings: buildings.iter().map(|b| (*b).clone()).collect(),
        areas: Vec::new(),
        replaces,
        moderation: Moderation::Approved,
        change: change(publisher, Via::Api),
    }
}

fn admit_all() -> Arc<palier_platform::store::Admission> {
    Arc::new(|_: &BuildingLoad| Ok(()))
}

/// Runs every scenario against a fresh, empty store.
pub async fn scenarios(store: Arc<dyn Store>) {
    buildings_and_publishers(&*store).await;
    items_versions_and_generations(&*store).await;
    devices_manifests_and_plays(&*store).await;
    moderation_and_the_audit_log(&*store).await;
    people_links_and_sessions(&*store).await;
    areas_reach_buildings_added_later(&*store).await;
    feeds_their_status_and_entries(&*store).await;
}

async fn buildings_and_publishers(store: &dyn Store) {
    let now = Timestamp::now();
    store.add_building(&building("bld-b"), now).await.unwrap();
    store.add_building(&building("bld-a"), now).await.unwrap();
    let again = store.add_building(&building("bld-a"), now).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(Conflict::Exists { what: "building", .. })), "{again}");
    let ids: Vec<String> = store.buildings().await.unwrap().into_iter().map(|b| b.id).collect();
    assert_eq!(ids, ["bld-a", "bld-b"]);
    assert_eq!(
        store.building(&id(BuildingId::parse, "bld-a")).await.unwrap().unwrap().name,
        sample::building().name
    );
    assert_eq!(store.building(&id(BuildingId::parse, "bld-none")).await.unwrap(), None);

    let landlord = Publisher::with_buildings(
        id(PublisherId::parse, "pub-landlord"),
        "Syndic".into(),
        Role::Landlord,
        PublisherKind::Token,
        vec![id(BuildingId::parse, "bld-a"), id(BuildingId::parse, "bld-b")],
    );
    let admin = Change::cli(now);
    store.add_publisher(&landlord, "hash-landlord", &admin).await.unwrap();
    let nowhere = Publisher {
        id: id(PublisherId::parse, "pub-x"),
        buildings: vec![id(BuildingId::parse, "bld-none")],
        ..landlord.clone()
    };
    let refused = store.add_publisher(&nowhere, "hash-x", &admin).await.unwrap_err();
    assert!(matches!(refused, StoreError::NotFound { what: "building", .. }), "{refused}");
    assert_eq!(store.publisher_by_token("hash-landlord").await.unwrap(), Some(landlord.clone()));
    assert_eq!(store.publisher_by_token("hash-x").await.unwrap(), None, "nothing of a refused add stays");
    assert!(store.revoke_publisher(&landlord.id, &admin).await.unwrap());
    assert!(!store.revoke_publisher(&landlord.id, &admin).await.unwrap());
    let lines: Vec<(String, String)> =
        store.audit(10, None).await.unwrap().into_iter().map(|l| (l.action, l.detail)).collect();
    assert_eq!(
        lines,
        [
            ("revoke publisher".to_owned(), "Syndic (pub-landlord)".to_owned()),
            ("add publisher".to_owned(), "Syndic: landlord, bld-a, bld-b".to_owned()),
        ],
        "one line each, none for a refused add or a second revocation"
    );
    assert_eq!(store.publisher_by_token("hash-landlord").await.unwrap(), None);
    let listed = store.publishers().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].publisher, landlord);
    assert!(listed[0].revoked_at.is_some());
    let unknown = store.revoke_publisher(&id(PublisherId::parse, "pub-none"), &admin).await.unwrap_err();
    assert!(matches!(unknown, StoreError::NotFound { what: "publisher", .. }), "{unknown}");
}

async fn items_versions_and_generations(store: &dyn Store) {
    let now = Timestamp::now();
    let week = now + SignedDuration::from_hours(24 * 7);
    let (a, b) = (id(BuildingId::parse, "bld-a"), id(BuildingId::parse, "bld-b"));
    let publisher = id(PublisherId::parse, "pub-landlord");
    let flash = id(ItemId::parse, "flash-1");
    let g0 = store.building_generation(&a).await.unwrap().generation;

    let created = store
        .write_item(&write(item("flash-1", 1, week), &publisher, &[&a], None), admit_all())
        .await
        .unwrap();
    let g1 = created.generation.unwrap();
    assert!(g1 > g0);
    assert_eq!(created.buildings, std::slice::from_ref(&a));
    let generation = store.building_generation(&a).await.unwrap();
    assert_eq!((generation.generation, generation.reason.as_str()), (g1, "publish"));
    let record = store.item(&flash).await.unwrap().unwrap();
    assert_eq!((record.version, &record.publisher_id, record.is_withdrawn()), (1, &publisher, false));
    assert_eq!(
        (record.moderation.clone(), record.item.title.clone()),
        (Moderation::Approved, "Coupure d'eau".into())
    );
    assert_eq!(record.buildings, std::slice::from_ref(&a));

    let twice =
        store.write_item(&write(item("flash-1", 1, week), &publisher, &[&a], None), admit_all()).await;
    assert!(matches!(twice, Err(StoreError::Conflict(Conflict::Exists { what: "item", .. }))), "{twice:?}");
    let stale =
        store.write_item(&write(item("flash-1", 3, week), &publisher, &[&a], Some(2)), admit_all()).await;
    assert!(
        matches!(&stale, Err(StoreError::Conflict(Conflict::VersionMoved { expected: 2, current: 1, .. }))),
        "{stale:?}"
    );
    let missing =
        store.write_item(&write(item("flash-9", 2, week), &publisher, &[&a], Some(1)), admit_all()).await;
    assert!(matches!(missing, Err(StoreError::NotFound { what: "item", .. })), "{missing:?}");
    let nowhere = id(BuildingId::parse, "bld-none");
    let lost =
        store.write_item(&write(item("flash-8", 1, week), &publisher, &[&nowhere], None), admit_all()).await;
    assert!(matches!(lost, Err(StoreError::NotFound { what: "building", .. })), "{lost:?}");
    assert_eq!(store.item(&id(ItemId::parse, "flash-8")).await.unwrap(), None);

    // The admission check sees the building's load with the new item, and a refusal stores
    // nothing and moves no generation.
    let refuse: Arc<palier_platform::store::Admission> = Arc::new(|load: &BuildingLoad| {
        if load.items >= 2 { Err(format!("{} would hold {}", load.building, load.items)) } else { Ok(()) }
    });
    let full = store
        .write_item(&write(item("flash-2", 1, week), &publisher, &[&a], None), Arc::clone(&refuse))
        .await;
    assert_eq!(full, Err(StoreError::Refused("bld-a would hold 2".into())));
    assert_eq!(store.item(&id(ItemId::parse, "flash-2")).await.unwrap(), None);
    assert_eq!(store.building_generation(&a).await.unwrap().generation, g1);
    let loads = std::sync::Mutex::new(Vec::new());
    let loads = Arc::new(loads);
    let seen = Arc::clone(&loads);
    let record_loads: Arc<palier_platform::store::Admission> = Arc::new(move |load: &BuildingLoad| {
        seen.lock().unwrap().push(load.clone());
        Ok(())
    });

    // An update moving the item from A to B moves both buildings' manifests.
    let moved = store
        .write_item(&write(item("flash-1", 2, week), &publisher, &[&b], Some(1)), record_loads)
        .await
        .unwrap();
    let g2 = moved.generation.unwrap();
    assert!(g2 > g1);
    assert_eq!(moved.buildings, [a.clone(), b.clone()]);
    let load = loads.lock().unwrap().clone();
    assert_eq!(load.len(), 1);
    assert_eq!((load[0].building.clone(), load[0].items), (b.clone(), 1));
    assert!(load[0].bytes > 100, "{load:?}");
    let generation = store.building_generation(&a).await.unwrap();
    assert_eq!((generation.generation, generation.reason.as_str()), (g2, "update"));
    assert!(store.building_items(&a).await.unwrap().items.is_empty());
    let in_b = store.building_items(&b).await.unwrap();
    assert_eq!((in_b.generation, in_b.items.len()), (g2, 1));
    assert_eq!(in_b.items[0]["version"], 2);
    assert_eq!(in_b.building.id, "bld-b");

    // A person's items, expiry and withdrawal.
    let camille = id(PersonId::parse, "camille");
    let mut offer = write(item("offer-1", 1, week), &publisher, &[&a, &b], None);
    offer.person_id = Some(camille.clone());
    store.write_item(&offer, admit_all()).await.unwrap();
    let soon = write(item("flash-soon", 1, now + SignedDuration::from_mins(1)), &publisher, &[&a], None);
    store.write_item(&soon, admit_all()).await.unwrap();
    assert_eq!(
        store.live_items_of_person(&publisher, &camille).await.unwrap(),
        [id(ItemId::parse, "offer-1")]
    );
    let other = id(PublisherId::parse, "pub-other");
    assert!(store.live_items_of_person(&other, &camille).await.unwrap().is_empty(), "per publisher");
    assert!(store.expired_items(now).await.unwrap().is_empty());
    let expired = store.expired_items(now + SignedDuration::from_mins(2)).await.unwrap();
    assert_eq!(expired, [id(ItemId::parse, "flash-soon")]);

    let ids =
        [id(ItemId::parse, "offer-1"), id(ItemId::parse, "flash-soon"), id(ItemId::parse, "flash-none")];
    let erase = change(&publisher, Via::Api);
    let withdrawal = store.withdraw_items(&ids, WithdrawReason::PersonErased, &erase).await.unwrap();
    assert_eq!(withdrawal.items, ids[..2]);
    assert_eq!(withdrawal.moved.buildings, [a.clone(), b.clone()]);
    let g3 = withdrawal.moved.generation.unwrap();
    assert!(g3 > g2);
    let again = store.withdraw_items(&ids, WithdrawReason::Withdrawn, &erase).await.unwrap();
    assert_eq!((again.items.len(), again.moved.generation), (0, None), "withdrawing twice changes nothing");
    let gone = store.item(&ids[0]).await.unwrap().unwrap();
    assert_eq!(gone.withdrawn.map(|(_, reason)| reason), Some("person withdrawn".to_owned()));
    assert!(store.live_items_of_person(&publisher, &camille).await.unwrap().is_empty());
    assert!(store.expired_items(now + SignedDuration::from_mins(2)).await.unwrap().is_empty());
    assert_eq!(store.building_items(&a).await.unwrap().items.len(), 0);

    // A withdrawn item comes back as its next version.
    let back =
        store.write_item(&write(item("offer-1", 2, week), &publisher, &[&a], Some(1)), admit_all()).await;
    assert!(back.unwrap().generation.unwrap() > g3);
    assert!(!store.item(&ids[0]).await.unwrap().unwrap().is_withdrawn());

    // Media descriptions.
    let media = MediaRef {
        sha256: MediaAddress::of(b"a picture").to_string(),
        bytes: 9,
        mime: "image/png".into(),
        width: 3,
        height: 2,
        credit: None,
    };
    let address = MediaAddress::parse(&media.sha256).unwrap();
    assert_eq!(store.media(&address).await.unwrap(), None);
    assert!(store.add_media(&media, now).await.unwrap());
    assert!(!store.add_media(&media, now).await.unwrap());
    assert_eq!(store.media(&address).await.unwrap(), Some(media));
}

async fn devices_manifests_and_plays(store: &dyn Store) {
    let now = Timestamp::now();
    let a = id(BuildingId::parse, "bld-a");
    let code = |hash: &str, expires: Timestamp| EnrolmentCode {
        code_hash: hash.into(),
        building_id: a.clone(),
        roles: vec!["lift".into()],
        created: now,
        expires,
    };
    store.add_enrolment_code(&code("code-1", now + SignedDuration::from_hours(24))).await.unwrap();
    store.add_enrolment_code(&code("code-old", now - SignedDuration::from_secs(1))).await.unwrap();
    let lost = EnrolmentCode { building_id: id(BuildingId::parse, "bld-none"), ..code("code-x", now) };
    assert!(matches!(store.add_enrolment_code(&lost).await, Err(StoreError::NotFound { .. })));
    let new = |n: &str| NewDevice {
        id: id(DeviceId::parse, n),
        name: "ascenseur".into(),
        software_version: "0.1.0".into(),
        token_hash: format!("token-{n}"),
    };
    let before = store.building_generation(&a).await.unwrap().generation;
    let device = store.enrol("code-1", &new("dev-1"), now).await.unwrap().unwrap();
    assert_eq!((device.building_id.clone(), device.roles.clone()), (a.clone(), vec!["lift".to_owned()]));
    assert!(device.generation > before, "a device draws its own generation");
    assert_eq!(store.enrol("code-1", &new("dev-2"), now).await.unwrap(), None, "codes are used once");
    assert_eq!(store.enrol("code-old", &new("dev-3"), now).await.unwrap(), None, "expired");
    assert_eq!(store.enrol("code-none", &new("dev-4"), now).await.unwrap(), None);
    assert_eq!(store.device_by_token("token-dev-1").await.unwrap(), Some(device.clone()));
    assert!(store.device_active(&device.id).await.unwrap());
    let later = now + SignedDuration::from_mins(5);
    store.touch_device(&device.id, later).await.unwrap();
    let beat: Heartbeat = serde_json::from_value(serde_json::json!({
        "sent_at": null, "software_version": "0.1.0", "generation": 7, "last_sync_at": null,
        "free_disk_bytes": 1, "clock": {"trusted": true}
    }))
    .unwrap();
    store.record_heartbeat(&device.id, &beat, later).await.unwrap();
    let reports = store.device_reports(None).await.unwrap();
    assert_eq!(store.device_reports(Some(&id(BuildingId::parse, "bld-b"))).await.unwrap().len(), 0);
    assert_eq!(store.device_reports(Some(&a)).await.unwrap().len(), 1);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].device.last_seen.map(|t| t.as_millisecond()), Some(later.as_millisecond()));
    assert_eq!(reports[0].heartbeat.as_ref().map(|(_, b)| b.generation), Some(7));

    // Plays: idempotent by device and record id, totals per screen, listing limit.
    let play = |n: u32, item: &str| PlayRecord {
        id: format!("play-{n}"),
        item_id: item.into(),
        item_version: 2,
        screen: "lift".into(),
        role: "lift".into(),
        started_at: now + SignedDuration::from_secs(i64::from(n) * 10),
        duration_ms: 8000,
        trigger: PlayTrigger::Rotation,
        clock_trusted: true,
    };
    let batch: Vec<PlayRecord> = (0..3).map(|n| play(n, "flash-1")).collect();
    store.record_plays(&device.id, &batch, now).await.unwrap();
    store.record_plays(&device.id, &batch, now).await.unwrap();
    store.record_plays(&device.id, &[play(9, "offer-1")], now).await.unwrap();
    let plays = store.item_plays(&id(ItemId::parse, "flash-1"), 2).await.unwrap();
    assert_eq!(plays.total, 3, "a repeated upload counts once");
    assert_eq!(plays.screens.len(), 1);
    assert_eq!((plays.screens[0].count, plays.screens[0].total_duration_ms), (3, 24_000));
    assert_eq!(plays.screens[0].first_shown.as_millisecond(), now.as_millisecond());
    assert_eq!((plays.plays.len(), plays.truncated), (2, true));
    assert_eq!(plays.plays[0].id, "play-0");
    assert_eq!(store.item_plays(&id(ItemId::parse, "nothing"), 10).await.unwrap().total, 0);

    assert!(store.revoke_device(&device.id, now).await.unwrap());
    assert!(!store.revoke_device(&device.id, now).await.unwrap());
    assert!(!store.device_active(&device.id).await.unwrap());
    assert_eq!(store.device_by_token("token-dev-1").await.unwrap(), None);
    assert!(matches!(
        store.revoke_device(&id(DeviceId::parse, "dev-none"), now).await,
        Err(StoreError::NotFound { what: "device", .. })
    ));
    let unknown = store.building_items(&id(BuildingId::parse, "bld-none")).await.unwrap_err();
    assert!(matches!(unknown, StoreError::NotFound { what: "building", .. }), "{unknown}");
}

async fn moderation_and_the_audit_log(store: &dyn Store) {
    let now = Timestamp::now();
    let week = now + SignedDuration::from_hours(24 * 7);
    let (a, b) = (id(BuildingId::parse, "bld-a"), id(BuildingId::parse, "bld-b"));
    let app = id(PublisherId::parse, "pub-app");
    let publisher = Publisher::with_buildings(
        app.clone(),
        "Voisins".into(),
        Role::Neighbourhood,
        PublisherKind::Token,
        vec![a.clone(), b.clone()],
    );
    store.add_publisher(&publisher, "hash-app", &Change::cli(now)).await.unwrap();
    assert_eq!(store.moderated_kinds(&a).await.unwrap(), [palier_content::Kind::Offer], "offers by default");
    let admin = change(&id(PublisherId::parse, "usr-admin"), Via::Console);
    let kinds = [palier_content::Kind::Offer, palier_content::Kind::Event];
    store.set_moderated_kinds(&b, &kinds, &admin).await.unwrap();
    assert_eq!(store.moderated_kinds(&b).await.unwrap().len(), 2);
    let line = store.audit(1, None).await.unwrap().remove(0);
    assert_eq!(
        (line.action.as_str(), line.detail.as_str(), line.via, line.actor.as_ref()),
        ("settings", "bld-b: moderated kinds offer, event", Via::Console, admin.actor.as_ref())
    );
    assert!(store.set_moderated_kinds(&id(BuildingId::parse, "bld-none"), &[], &admin).await.is_err());

    let before = store.building_generation(&a).await.unwrap().generation;
    let mut pending = write(item("offer-pending", 1, week), &app, &[&a], None);
    pending.moderation = Moderation::Pending;
    store.write_item(&pending, admit_all()).await.unwrap();
    let offer = id(ItemId::parse, "offer-pending");
    let in_a = store.building_items(&a).await.unwrap();
    assert!(!in_a.items.iter().any(|i| i["id"] == "offer-pending"), "a pending item is in no manifest");
    let queue = store.items(&ItemQuery::Pending(Some(vec![a.clone()]))).await.unwrap();
    assert_eq!(queue.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["offer-pending"]);
    assert!(store.items(&ItemQuery::Pending(Some(vec![b.clone()]))).await.unwrap().is_empty());
    assert_eq!(store.items(&ItemQuery::Pending(None)).await.unwrap().len(), 1);

    let moderator = change(&id(PublisherId::parse, "usr-moderator"), Via::Console);
    let stale = store.moderate(&offer, 7, &Moderation::Approved, &moderator).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict(Conflict::VersionMoved { current: 1, .. }))),
        "{stale:?}"
    );
    let approved = store.moderate(&offer, 1, &Moderation::Approved, &moderator).await.unwrap();
    assert!(approved.generation.unwrap() > before, "approval brings it to the boards");
    assert!(store.building_items(&a).await.unwrap().items.iter().any(|i| i["id"] == "offer-pending"));
    let rejected = Moderation::Rejected { reason: "pas de vente d'animaux".into() };
    let moved = store.moderate(&offer, 1, &rejected, &moderator).await.unwrap();
    assert_eq!(moved.buildings, [a.clone()], "rejection takes it away");
    assert_eq!(store.item(&offer).await.unwrap().unwrap().moderation, rejected);
    assert!(store.items(&ItemQuery::Pending(None)).await.unwrap().is_empty());
    let listed = store.items(&ItemQuery::Building(a.clone())).await.unwrap();
    assert!(listed.iter().any(|r| r.id == offer && r.moderation == rejected));
    assert!(listed.windows(2).all(|w| w[0].updated_at >= w[1].updated_at), "newest change first");

    let log = store.audit(100, None).await.unwrap();
    let actions: Vec<(&str, Option<&str>, Via)> = log
        .iter()
        .take(3)
        .map(|e| (e.action.as_str(), e.item_id.as_ref().map(ItemId::as_str), e.via))
        .collect();
    assert_eq!(
        actions,
        [
            ("reject", Some("offer-pending"), Via::Console),
            ("approve", Some("offer-pending"), Via::Console),
            ("publish", Some("offer-pending"), Via::Api),
        ]
    );
    assert_eq!(log[0].detail, "pas de vente d'animaux");
    assert!(log.windows(2).all(|w| w[0].seq > w[1].seq));
    assert!(log.iter().any(|e| e.action == "erase person"), "withdrawals are logged too");
    let older = store.audit(2, Some(log[1].seq)).await.unwrap();
    assert_eq!(older[0].seq, log[2].seq);
}

async fn people_links_and_sessions(store: &dyn Store) {
    let now = Timestamp::now();
    let person = Person {
        publisher: Publisher::with_buildings(
            id(PublisherId::parse, "usr-camille"),
            "camille".into(),
            Role::Caretaker,
            PublisherKind::Person,
            vec![id(BuildingId::parse, "bld-a")],
        ),
        email: "camille@example.org".into(),
        password_hash: None,
        created_at: Timestamp::from_millisecond(now.as_millisecond()).unwrap(),
        disabled_at: None,
    };
    let admin = Change::cli(now);
    store.add_person(&person, &admin).await.unwrap();
    let twice = Person {
        publisher: Publisher { id: id(PublisherId::parse, "usr-other"), ..person.publisher.clone() },
        ..person.clone()
    };
    assert!(
        matches!(store.add_person(&twice, &admin).await, Err(StoreError::Conflict(_))),
        "one account per e-mail"
    );
    assert_eq!(store.person(&person.publisher.id).await.unwrap(), Some(person.clone()));
    assert_eq!(store.person_by_email("camille@example.org").await.unwrap(), Some(person.clone()));
    assert_eq!(store.people().await.unwrap(), [person.clone()]);
    assert_eq!(
        store.publisher_by_token(&format!("person:{}", person.publisher.id)).await.unwrap(),
        None,
        "no token"
    );

    let expires = now + SignedDuration::from_hours(24);
    store.add_password_link("link-1", &person.publisher.id, expires).await.unwrap();
    store
        .add_password_link("link-old", &person.publisher.id, now - SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(store.password_link("link-1", now).await.unwrap(), Some(person.publisher.id.clone()));
    assert_eq!(store.password_link("link-old", now).await.unwrap(), None);
    assert_eq!(
        store.use_password_link("link-1", "$argon2id$x", now).await.unwrap(),
        Some(person.publisher.id.clone())
    );
    assert_eq!(
        store.use_password_link("link-1", "$argon2id$y", now).await.unwrap(),
        None,
        "a link works once"
    );
    assert_eq!(
        store.person(&person.publisher.id).await.unwrap().unwrap().password_hash.as_deref(),
        Some("$argon2id$x")
    );

    store.save_session("s-1", "{\"a\":1}", now + SignedDuration::from_hours(1)).await.unwrap();
    store.save_session("s-1", "{\"a\":2}", now + SignedDuration::from_hours(1)).await.unwrap();
    store.save_session("s-old", "{}", now - SignedDuration::from_secs(1)).await.unwrap();
    assert_eq!(store.session("s-1", now).await.unwrap().as_deref(), Some("{\"a\":2}"));
    assert_eq!(store.session("s-old", now).await.unwrap(), None, "an expired session is gone");
    assert!(store.forget_expired_sessions(now).await.unwrap() >= 2);
    store.delete_session("s-1").await.unwrap();
    assert_eq!(store.session("s-1", now).await.unwrap(), None);

    assert!(store.disable_person(&person.publisher.id, &admin).await.unwrap());
    assert!(!store.disable_person(&person.publisher.id, &admin).await.unwrap());
    let lines: Vec<(String, String)> =
        store.audit(2, None).await.unwrap().into_iter().map(|l| (l.action, l.detail)).collect();
    assert_eq!(
        lines,
        [
            ("disable person".to_owned(), "camille@example.org".to_owned()),
            ("add person".to_owned(), "camille@example.org: caretaker, bld-a".to_owned()),
        ],
        "people's changes are in the audit log, once each"
    );
    assert!(store.person(&person.publisher.id).await.unwrap().unwrap().disabled_at.is_some());
    store.add_password_link("link-2", &person.publisher.id, expires).await.unwrap();
    assert_eq!(store.password_link("link-2", now).await.unwrap(), None, "a disabled person's links stop");

    assert!(store.enable_person(&person.publisher.id, &admin).await.unwrap());
    assert!(!store.enable_person(&person.publisher.id, &admin).await.unwrap());
    assert_eq!(store.password_link("link-2", now).await.unwrap(), Some(person.publisher.id.clone()));
    let landlord = Publisher { role: Role::Landlord, ..person.publisher.clone() };
    assert!(store.change_person(&landlord, &admin).await.unwrap());
    assert!(!store.change_person(&landlord, &admin).await.unwrap(), "nothing to change");
    let changed = store.person(&person.publisher.id).await.unwrap().unwrap();
    assert_eq!((changed.publisher.role, changed.disabled_at), (Role::Landlord, None));
    let lines: Vec<(String, String)> =
        store.audit(2, None).await.unwrap().into_iter().map(|l| (l.action, l.detail)).collect();
    assert_eq!(
        lines,
        [
            (
                "change person".to_owned(),
                "camille@example.org: landlord, bld-a (was caretaker, bld-a)".to_owned()
            ),
            ("enable person".to_owned(), "camille@example.org".to_owned()),
        ],
        "re-enabling and a new role are audited"
    );
}

/// SQLite in the `api` binary, PostgreSQL in `api_postgres`.
#[tokio::test]
async fn the_store_passes_the_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = if crate::support::scaled_out() {
        let url = tokio::task::spawn_blocking(palier_testkit::servers::postgres_database).await.unwrap();
        Arc::new(palier_platform::store::SqlStore::postgres(&url).await.unwrap())
    } else {
        Arc::new(palier_platform::SqlStore::sqlite(&dir.path().join("p.sqlite")).unwrap())
    };
    scenarios(store).await;
}

async fn areas_reach_buildings_added_later(store: &dyn Store) {
    let now = Timestamp::now();
    let week = now + SignedDuration::from_hours(24 * 7);
    for name in ["bld-n1", "bld-n2", "bld-n3", "bld-c1"] {
        store.add_building(&building(name), now).await.unwrap();
    }
    let [n1, n2, n3, c1] = ["bld-n1", "bld-n2", "bld-n3", "bld-c1"].map(|b| id(BuildingId::parse, b));
    let city = Area {
        id: id(AreaId::parse, "area-ville"),
        name: "Ville".into(),
        kind: AreaKind::City,
        within: None,
    };
    let nord = Area {
        id: id(AreaId::parse, "area-nord"),
        name: "Quartier Nord".into(),
        kind: AreaKind::Neighbourhood,
        within: Some(city.id.clone()),
    };
    store.add_area(&city, now).await.unwrap();
    store.add_area(&nord, now).await.unwrap();
    let again = store.add_area(&nord, now).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(Conflict::Exists { what: "area", .. })), "{again}");
    let orphan = Area {
        id: id(AreaId::parse, "area-x"),
        within: Some(id(AreaId::parse, "area-none")),
        ..nord.clone()
    };
    let refused = store.add_area(&orphan, now).await.unwrap_err();
    assert!(matches!(refused, StoreError::NotFound { what: "area", .. }), "{refused}");
    assert_eq!(store.area(&nord.id).await.unwrap(), Some(nord.clone()));

    let landlord = id(PublisherId::parse, "pub-landlord");
    let change = change(&landlord, Via::Cli);
    store.add_to_area(&nord.id, &n1, &change).await.unwrap();
    store.add_to_area(&nord.id, &n2, &change).await.unwrap();
    store.add_to_area(&city.id, &c1, &change).await.unwrap();
    let twice = store.add_to_area(&nord.id, &n1, &change).await.unwrap();
    assert_eq!(twice.generation, None, "a building already in the area moves nothing");
    assert_eq!(store.area_reach(std::slice::from_ref(&nord.id)).await.unwrap(), [n1.clone(), n2.clone()]);
    assert_eq!(
        store.area_reach(std::slice::from_ref(&city.id)).await.unwrap(),
        [c1.clone(), n1.clone(), n2.clone()]
    );
    let listed = store.areas().await.unwrap();
    let nord_entry = listed.iter().find(|e| e.area.id == nord.id).unwrap();
    assert_eq!(nord_entry.buildings, [n1.clone(), n2.clone()]);
    let city_entry = listed.iter().find(|e| e.area.id == city.id).unwrap();
    assert_eq!((city_entry.buildings.len(), city_entry.reach.len()), (1, 3));

    // A publisher of the neighbourhood reaches its buildings, and later ones when read again.
    let mut scoped = Publisher::with_buildings(
        id(PublisherId::parse, "pub-nord"),
        "Régie Nord".into(),
        Role::Landlord,
        PublisherKind::Token,
        vec![c1.clone()],
    );
    scoped.areas = vec![nord.id.clone()];
    store.add_publisher(&scoped, "hash-nord", &Change::cli(now)).await.unwrap();
    let read = store.publisher_by_token("hash-nord").await.unwrap().unwrap();
    assert_eq!((read.buildings.clone(), read.areas.clone()), (vec![c1.clone()], vec![nord.id.clone()]));
    assert_eq!(read.reach, [c1.clone(), n1.clone(), n2.clone()]);

    // An item for the city reaches every building of it, named ones kept apart.
    let mut city_write = write(item("event-ville", 1, week), &landlord, &[], None);
    city_write.areas = vec![city.id.clone()];
    let moved = store.write_item(&city_write, admit_all()).await.unwrap();
    assert_eq!(moved.buildings, [c1.clone(), n1.clone(), n2.clone()]);
    let record = store.item(&id(ItemId::parse, "event-ville")).await.unwrap().unwrap();
    assert_eq!((record.buildings.clone(), record.areas.clone()), (vec![], vec![city.id.clone()]));
    assert_eq!(record.reach, [c1.clone(), n1.clone(), n2.clone()]);
    assert_eq!(store.building_items(&n2).await.unwrap().items.len(), 1);
    assert!(store.building_items(&n3).await.unwrap().items.is_empty());

    // A building joining the neighbourhood receives what was published to its city, at once.
    let before = store.building_generation(&n3).await.unwrap().generation;
    let joined = store.add_to_area(&nord.id, &n3, &change).await.unwrap();
    assert_eq!(joined.buildings, std::slice::from_ref(&n3));
    let after = store.building_generation(&n3).await.unwrap();
    assert!(after.generation > before);
    assert_eq!(after.reason, "area");
    assert_eq!(store.building_items(&n3).await.unwrap().items[0]["id"], "event-ville");
    assert!(store.publisher_by_token("hash-nord").await.unwrap().unwrap().reach.contains(&n3));
    assert!(
        store
            .items(&ItemQuery::Building(n3.clone()))
            .await
            .unwrap()
            .iter()
            .any(|r| r.id.as_str() == "event-ville")
    );

    // Withdrawing moves every building it reached; a new version named to one building
    // leaves the others.
    let narrowed = write(item("event-ville", 2, week), &landlord, &[&n1], Some(1));
    let moved = store.write_item(&narrowed, admit_all()).await.unwrap();
    assert_eq!(moved.buildings, [c1.clone(), n1.clone(), n2.clone(), n3.clone()]);
    assert!(store.building_items(&n3).await.unwrap().items.is_empty());
    let record = store.item(&id(ItemId::parse, "event-ville")).await.unwrap().unwrap();
    assert_eq!((record.areas.len(), record.reach.clone()), (0, vec![n1.clone()]));
    let audit = store.audit(50, None).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "area" && a.detail.contains("bld-n3")), "{audit:?}");
}

async fn feeds_their_status_and_entries(store: &dyn Store) {
    use palier_platform::feeds::{FeedFormat, FeedKind};
    use palier_platform::ids::FeedId;
    use palier_platform::store::{Feed, FeedItem, FeedStatus};
    let now = Timestamp::from_second(Timestamp::now().as_second()).unwrap();
    let mut publisher = Publisher::with_buildings(
        id(PublisherId::parse, "pub-agenda"),
        "Agenda de Lyon".into(),
        Role::Feed,
        PublisherKind::Feed,
        vec![id(BuildingId::parse, "bld-a")],
    );
    publisher.areas = vec![id(AreaId::parse, "area-nord")];
    let feed = Feed {
        id: id(FeedId::parse, "feed-agenda"),
        name: "Agenda de Lyon".into(),
        url: "https://agenda.example/lyon.ics".into(),
        format: FeedFormat::Ical,
        kind: FeedKind::Event,
        moderated: true,
        every: SignedDuration::from_mins(30),
        publisher,
        created_at: now,
        removed_at: None,
        status: FeedStatus::default(),
        live_items: 0,
    };
    store.add_feed(&feed).await.unwrap();
    let again = store.add_feed(&feed).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict(Conflict::Exists { what: "feed", .. })), "{again}");
    let read = store.feed(&feed.id).await.unwrap().unwrap();
    assert_eq!(
        (read.moderated, read.every, read.format, read.publisher.areas.clone()),
        (true, feed.every, FeedFormat::Ical, feed.publisher.areas.clone())
    );
    assert!(
        read.publisher.reach.len() >= 3,
        "bld-a and the neighbourhood's buildings: {:?}",
        read.publisher.reach
    );
    assert_eq!(store.publisher_by_token("feed:feed-agenda").await.unwrap(), None, "a feed holds no token");

    let status = FeedStatus {
        last_fetch_at: Some(now),
        last_ok_at: Some(now),
        last_error: Some("the server answered HTTP 503".into()),
        failures: 2,
        next_fetch_at: Some(now + SignedDuration::from_hours(1)),
        etag: Some("\"abc\"".into()),
        last_modified: Some("Tue, 24 Nov 2026 08:00:00 GMT".into()),
        report: "3 new".into(),
    };
    store.set_feed_status(&feed.id, &status).await.unwrap();
    assert_eq!(store.feed(&feed.id).await.unwrap().unwrap().status, status);

    let mut write =
        write(item("feed-agenda-1", 1, now + SignedDuration::from_hours(24)), &read.publisher.id, &[], None);
    write.areas = vec![id(AreaId::parse, "area-nord")];
    store.write_item(&write, admit_all()).await.unwrap();
    let entries = vec![
        FeedItem {
            key: "uid-1".into(),
            item_id: id(ItemId::parse, "feed-agenda-1"),
            fingerprint: "f1".into(),
            first_seen: now,
        },
        FeedItem {
            key: "uid-2".into(),
            item_id: id(ItemId::parse, "feed-agenda-2"),
            fingerprint: "f2".into(),
            first_seen: now,
        },
    ];
    store.set_feed_items(&feed.id, &entries).await.unwrap();
    assert_eq!(store.feed_items(&feed.id).await.unwrap(), entries);
    store.set_feed_items(&feed.id, &entries[..1]).await.unwrap();
    assert_eq!(store.feed_items(&feed.id).await.unwrap(), entries[..1]);
    assert_eq!(store.feed(&feed.id).await.unwrap().unwrap().live_items, 1);

    assert!(store.remove_feed(&feed.id, now).await.unwrap());
    assert!(!store.remove_feed(&feed.id, now).await.unwrap());
    let removed = store.feeds().await.unwrap().into_iter().find(|f| f.id == feed.id).unwrap();
    assert_eq!(removed.removed_at, Some(now));
    let missing = store.set_feed_status(&id(FeedId::parse, "feed-none"), &status).await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { what: "feed", .. }), "{missing}");
}
