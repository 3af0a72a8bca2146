//! The publishing rules at the service level, without HTTP: each case is an actor, an action
//! and the outcome the rules must give, run against a real SQLite store. (The service lives
//! in the core crate, the store in this one: the test sits where both are.)

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use palier_content::Severity;
use palier_content::sample::requests;
use serde_json::{Value, json};

use palier_platform::hints::Hints;
use palier_platform::ids::{BuildingId, ItemId, PersonId};
use palier_platform::media::MediaFiles;
use palier_platform::moderation::{self, Moderation};
use palier_platform::publishing::*;
use palier_platform::rules::{Role, Rule};
use palier_platform::store::{Change, Publisher, PublisherKind, SqlStore, Store, Via};

struct World {
    service: Publishing,
    landlord: Actor,
    other_landlord: Actor,
    shop: Actor,
    neighbourhood: Actor,
    caretaker: Actor,
    moderator: Actor,
    _dir: tempfile::TempDir,
}

fn building_id(id: &str) -> BuildingId {
    BuildingId::parse(id).unwrap()
}

async fn world(limits: ManifestLimits) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqlStore::sqlite(&dir.path().join("p.sqlite")).unwrap());
    let now = Timestamp::now();
    for id in ["bld-a", "bld-b"] {
        let building = palier_content::Building { id: id.into(), ..palier_content::sample::building() };
        store.add_building(&building, now).await.unwrap();
    }
    let mut publishers = Vec::new();
    for (name, kind, role, buildings) in [
        ("pub-landlord", PublisherKind::Token, Role::Landlord, vec!["bld-a"]),
        ("pub-landlord-b", PublisherKind::Token, Role::Landlord, vec!["bld-b"]),
        ("pub-shop", PublisherKind::Token, Role::Shop, vec!["bld-a"]),
        ("pub-app", PublisherKind::Token, Role::Neighbourhood, vec!["bld-a", "bld-b"]),
        ("usr-caretaker", PublisherKind::Person, Role::Caretaker, vec!["bld-a"]),
        ("usr-moderator", PublisherKind::Person, Role::Moderator, vec!["bld-a"]),
    ] {
        let publisher = Publisher::with_buildings(
            palier_platform::ids::PublisherId::parse(name).unwrap(),
            name.into(),
            role,
            kind,
            buildings.into_iter().map(building_id).collect(),
        );
        store.add_publisher(&publisher, name, &Change::cli(now)).await.unwrap();
        let via = if kind == PublisherKind::Person { Via::Console } else { Via::Api };
        publishers.push(Actor::new(publisher, via));
    }
    let media = MediaFiles::new(dir.path().join("media"));
    let service = Publishing::new(store, Arc::new(media), Hints::new(), Arc::new(Timestamp::now))
        .with_manifest_limits(limits);
    let [landlord, other_landlord, shop, neighbourhood, caretaker, moderator] =
        publishers.try_into().unwrap();
    World { service, landlord, other_landlord, shop, neighbourhood, caretaker, moderator, _dir: dir }
}

fn flash(id: &str) -> Value {
    requests::flash(id, Severity::Important, "Coupure d’eau")
}

/// What a case expects: success, or the error's kind (and the rule for refusals).
#[derive(Debug, PartialEq)]
enum Expect {
    Ok,
    Invalid,
    NotFound,
    Forbidden(Rule),
    Conflict,
    Full,
}

fn verdict<T>(result: &Result<T, PublishingError>) -> Expect {
    match result {
        Ok(_) => Expect::Ok,
        Err(PublishingError::Invalid(_)) => Expect::Invalid,
        Err(PublishingError::NotFound(_)) => Expect::NotFound,
        Err(PublishingError::Forbidden(f)) => Expect::Forbidden(f.rule),
        Err(PublishingError::Conflict { .. }) => Expect::Conflict,
        Err(PublishingError::ManifestFull(_)) => Expect::Full,
        Err(other) => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn who_may_publish_what_and_where() {
    let w = world(ManifestLimits::default()).await;
    let to = |mut body: Value, buildings: &[&str]| {
        body["buildings"] = json!(buildings);
        body
    };
    let cases: Vec<(&str, &Actor, Value, Expect)> = vec![
        ("landlord flash", &w.landlord, flash("f-1"), Expect::Ok),
        ("landlord promo", &w.landlord, requests::promo("p-1", &[]), Expect::Forbidden(Rule::RoleKinds)),
        ("shop promo", &w.shop, requests::promo("p-2", &[]), Expect::Ok),
        ("shop flash", &w.shop, flash("f-2"), Expect::Forbidden(Rule::RoleKinds)),
        ("app offer", &w.neighbourhood, requests::offer("o-1", "camille", "Camille", &[]), Expect::Ok),
        ("app flash", &w.neighbourhood, flash("f-3"), Expect::Forbidden(Rule::RoleKinds)),
        (
            "landlord's channel",
            &w.landlord,
            json!({"channel": "shops"}).merged(flash("f-4")),
            Expect::Forbidden(Rule::RoleChannel),
        ),
        (
            "another's building",
            &w.landlord,
            to(flash("f-5"), &["bld-b"]),
            Expect::Forbidden(Rule::BuildingScope),
        ),
        ("unknown building", &w.landlord, to(flash("f-6"), &["bld-zzz"]), Expect::NotFound),
        ("id taken", &w.other_landlord, to(flash("f-1"), &["bld-b"]), Expect::Conflict),
        (
            "author from a landlord",
            &w.landlord,
            json!({"author": {"person_id": "x"}}).merged(flash("f-7")),
            Expect::Invalid,
        ),
        (
            "phone number",
            &w.landlord,
            json!({"body": "Appelez le 06 12 34 56 78"}).merged(flash("f-8")),
            Expect::Invalid,
        ),
    ];
    for (name, actor, body, expected) in cases {
        let result = w.service.publish(actor, body, Target::Create).await;
        assert_eq!(verdict(&result), expected, "{name}: {:?}", result.err());
    }
}

#[tokio::test]
async fn only_the_owner_changes_withdraws_or_reads_an_item() {
    let w = world(ManifestLimits::default()).await;
    let mine = ItemId::parse("f-mine").unwrap();
    let published = w.service.publish(&w.landlord, flash("f-mine"), Target::Create).await.unwrap();
    assert_eq!((published.item.version, published.buildings.clone()), (1, vec![building_id("bld-a")]));
    let nobody = ItemId::parse("f-none").unwrap();
    let update = |actor: &Actor, id: &ItemId, version: Option<u64>| {
        let mut body = flash(id.as_str());
        if let Some(v) = version {
            body["version"] = json!(v);
        }
        (actor.clone(), body, Target::Update(id.clone()))
    };
    // (name, actor, body, target, expected)
    let cases = vec![
        ("owner updates", update(&w.landlord, &mine, None), Expect::Ok),
        ("owner names the next version", update(&w.landlord, &mine, Some(3)), Expect::Ok),
        ("owner names a stale version", update(&w.landlord, &mine, Some(3)), Expect::Conflict),
        ("another landlord", update(&w.other_landlord, &mine, None), Expect::Forbidden(Rule::Ownership)),
        ("the shop", update(&w.shop, &mine, None), Expect::Forbidden(Rule::RoleKinds)),
        ("unknown item", update(&w.landlord, &nobody, None), Expect::NotFound),
    ];
    for (name, (actor, body, target), expected) in cases {
        let result = w.service.publish(&actor, body, target).await;
        assert_eq!(verdict(&result), expected, "{name}: {:?}", result.err());
    }
    assert_eq!(
        verdict(&w.service.item_plays(&w.other_landlord, &mine).await),
        Expect::Forbidden(Rule::Ownership)
    );
    assert_eq!(verdict(&w.service.item_plays(&w.landlord, &mine).await), Expect::Ok);
    assert_eq!(
        verdict(&w.service.withdraw(&w.other_landlord, &mine).await),
        Expect::Forbidden(Rule::Ownership)
    );
    assert_eq!(verdict(&w.service.withdraw(&w.landlord, &nobody).await), Expect::NotFound);
    // A caretaker (a person of the landlord's team) may change and withdraw the team's flash;
    // another landlord's machine token may not.
    let mut edit = flash("f-mine");
    edit["title"] = json!("Coupure d'eau reportée");
    let edited = w.service.publish(&w.caretaker, edit, Target::Update(mine.clone())).await.unwrap();
    assert_eq!(edited.buildings, [building_id("bld-a")], "a teammate's edit keeps the item's buildings");
    let withdrawn = w.service.withdraw(&w.caretaker, &mine).await.unwrap();
    assert_eq!(withdrawn.items, std::slice::from_ref(&mine));
    assert!(w.service.withdraw(&w.landlord, &mine).await.unwrap().items.is_empty(), "harmless to repeat");
}

#[tokio::test]
async fn only_the_neighbourhood_role_erases_a_person() {
    let w = world(ManifestLimits::default()).await;
    let camille = PersonId::parse("camille").unwrap();
    for id in ["o-1", "o-2"] {
        w.service
            .publish(&w.neighbourhood, requests::offer(id, "camille", "Camille", &[]), Target::Create)
            .await
            .unwrap();
    }
    w.service
        .publish(&w.neighbourhood, requests::offer("o-3", "louis", "Louis", &[]), Target::Create)
        .await
        .unwrap();
    for actor in [&w.landlord, &w.shop] {
        assert_eq!(verdict(&w.service.erase_person(actor, &camille).await), Expect::Forbidden(Rule::People));
    }
    let erased = w.service.erase_person(&w.neighbourhood, &camille).await.unwrap();
    let ids: Vec<&str> = erased.items.iter().map(ItemId::as_str).collect();
    assert_eq!(ids, ["o-1", "o-2"]);
    assert_eq!(erased.moved.buildings, [building_id("bld-a"), building_id("bld-b")]);
}

#[tokio::test]
async fn residents_posts_wait_for_a_moderator_where_the_building_says_so() {
    let w = world(ManifestLimits::default()).await;
    let store = w.service.store();
    store.set_moderated_kinds(&building_id("bld-b"), &[], &Change::cli(Timestamp::now())).await.unwrap();
    let post = |id: &str, buildings: &[&str]| {
        let mut body = requests::offer(id, "camille", "Camille", &[]);
        body["buildings"] = json!(buildings);
        body
    };
    // (offer, its buildings, moderation after publishing)
    let table = [
        ("o-a", vec!["bld-a"], Moderation::Pending),
        ("o-b", vec!["bld-b"], Moderation::Approved),
        ("o-ab", vec!["bld-a", "bld-b"], Moderation::Pending),
    ];
    for (id, buildings, expected) in table {
        let published =
            w.service.publish(&w.neighbourhood, post(id, &buildings), Target::Create).await.unwrap();
        assert_eq!(published.moderation, expected, "{id}");
    }
    let news = requests::lasting(
        json!({"id": "n-1", "kind": "news", "title": "Fête des voisins",
        "valid_from": Timestamp::now().to_string(), "valid_until": Timestamp::now().to_string()}),
        SignedDuration::from_hours(5),
    );
    let published = w.service.publish(&w.neighbourhood, news, Target::Create).await.unwrap();
    assert_eq!(published.moderation, Moderation::Approved, "news is not moderated by default");

    let queue = w.service.moderation_queue(&w.moderator).await.unwrap();
    assert_eq!(queue.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["o-a", "o-ab"]);
    assert_eq!(verdict(&w.service.moderation_queue(&w.landlord).await), Expect::Forbidden(Rule::Moderation));
    let o_a = ItemId::parse("o-a").unwrap();
    let reject = |reason: &str| moderation::Event::Reject { reason: reason.into() };
    assert_eq!(verdict(&w.service.moderate(&w.moderator, &o_a, 1, reject(" ")).await), Expect::Invalid);
    assert_eq!(
        verdict(&w.service.moderate(&w.caretaker, &o_a, 1, moderation::Event::Approve).await),
        Expect::Forbidden(Rule::Moderation)
    );
    assert_eq!(
        verdict(&w.service.moderate(&w.moderator, &o_a, 5, moderation::Event::Approve).await),
        Expect::Conflict
    );
    let decided =
        w.service.moderate(&w.moderator, &o_a, 1, reject("Pas de vente d'animaux ici")).await.unwrap();
    assert_eq!(decided.reason(), Some("Pas de vente d'animaux ici"));
    // The author edits the text: the post waits again; an edit of its weight alone would not.
    let mut edited = post("o-a", &["bld-a"]);
    edited["title"] = json!("Je donne des croquettes");
    let again =
        w.service.publish(&w.neighbourhood, edited.clone(), Target::Update(o_a.clone())).await.unwrap();
    assert_eq!(again.moderation, Moderation::Pending);
    w.service.moderate(&w.moderator, &o_a, 2, moderation::Event::Approve).await.unwrap();
    edited["weight"] = json!(3);
    let reweighted = w.service.publish(&w.neighbourhood, edited, Target::Update(o_a.clone())).await.unwrap();
    assert_eq!(reweighted.moderation, Moderation::Approved);
    let record = w.service.item(&w.neighbourhood, &o_a).await.unwrap();
    assert_eq!((record.version, record.moderation), (3, Moderation::Approved));
}

#[tokio::test]
async fn a_full_building_refuses_more_and_keeps_what_it_had() {
    let w = world(ManifestLimits { max_items: 2, max_bytes: 1 << 20 }).await;
    w.service.publish(&w.landlord, flash("f-1"), Target::Create).await.unwrap();
    let second = w.service.publish(&w.landlord, flash("f-2"), Target::Create).await.unwrap();
    let refused = w.service.publish(&w.landlord, flash("f-3"), Target::Create).await;
    assert!(
        matches!(&refused, Err(PublishingError::ManifestFull(m)) if m.contains("3 live items")),
        "{refused:?}"
    );
    let store = w.service.store();
    assert_eq!(store.item(&ItemId::parse("f-3").unwrap()).await.unwrap(), None);
    assert_eq!(store.building_generation(&building_id("bld-a")).await.unwrap().generation, second.generation);
    w.service.withdraw(&w.landlord, &ItemId::parse("f-1").unwrap()).await.unwrap();
    w.service.publish(&w.landlord, flash("f-3"), Target::Create).await.unwrap();
    let tight = w.service.clone().with_manifest_limits(ManifestLimits { max_items: 10, max_bytes: 16_500 });
    let refused = tight.publish(&w.landlord, flash("f-4"), Target::Create).await;
    assert!(
        matches!(&refused, Err(PublishingError::ManifestFull(m)) if m.contains("16500-byte")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn changes_send_hints_to_the_buildings_they_move() {
    let w = world(ManifestLimits::default()).await;
    let mut hints_a = w.service.hints().subscribe(&building_id("bld-a"));
    let mut hints_b = w.service.hints().subscribe(&building_id("bld-b"));
    let published = w.service.publish(&w.landlord, flash("f-1"), Target::Create).await.unwrap();
    let hint = hints_a.try_recv().unwrap();
    assert_eq!((hint.generation, hint.reason.as_str()), (published.generation, "publish"));
    assert!(hints_b.try_recv().is_err(), "building B did not move");
    let expired_soon = requests::lasting(flash("f-2"), SignedDuration::from_millis(1500));
    w.service.publish(&w.landlord, expired_soon, Target::Create).await.unwrap();
    hints_a.try_recv().unwrap();
    let later = w.service.clone().with_clock(Arc::new(|| Timestamp::now() + SignedDuration::from_secs(5)));
    let expired = later.expire().await.unwrap();
    assert_eq!(expired.items, [ItemId::parse("f-2").unwrap()]);
    assert_eq!(hints_a.try_recv().unwrap().reason, "withdraw");
}

/// `json!({...}).merged(body)`: the body with these fields set.
trait Merged {
    fn merged(self, body: Value) -> Value;
}

impl Merged for Value {
    fn merged(self, mut body: Value) -> Value {
        for (key, value) in self.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    }
}
