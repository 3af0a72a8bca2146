use jiff::Timestamp;
use palier_content::sample;

use super::*;
use crate::ids::{ItemId, PublisherId};
use crate::moderation::Moderation;

fn actor(id: &str, kind: PublisherKind, role: Role, buildings: &[&str]) -> Publisher {
    Publisher::with_buildings(PublisherId::parse(id).unwrap(), id.into(), role, kind, building_ids(buildings))
}

fn person(role: Role, buildings: &[&str]) -> Publisher {
    actor("pub-me", PublisherKind::Person, role, buildings)
}

fn token(role: Role, buildings: &[&str]) -> Publisher {
    actor("pub-me", PublisherKind::Token, role, buildings)
}

fn building_ids(ids: &[&str]) -> Vec<BuildingId> {
    ids.iter().map(|b| BuildingId::parse(b).unwrap()).collect()
}

/// An item of `publisher` on the channel of `kind`, for these buildings.
fn record(publisher: &str, item: palier_content::Item, buildings: &[&str]) -> ItemRecord {
    ItemRecord {
        id: ItemId::parse(&item.id).unwrap(),
        version: 1,
        publisher_id: PublisherId::parse(publisher).unwrap(),
        person_id: None,
        withdrawn: None,
        buildings: building_ids(buildings),
        areas: Vec::new(),
        reach: building_ids(buildings),
        moderation: Moderation::Approved,
        item,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
    }
}

#[test]
fn the_role_table() {
    use Kind::*;
    // (role, kinds it may publish, channel)
    let table = [
        (Role::Landlord, vec![Flash, News], Channel::Building),
        (Role::Caretaker, vec![Flash, News], Channel::Building),
        (Role::Admin, vec![Flash, News], Channel::Building),
        (Role::Shop, vec![Promo], Channel::Shops),
        (Role::Neighbourhood, vec![Offer, Event, News], Channel::Neighbourhood),
        (Role::Moderator, vec![], Channel::Neighbourhood),
        (Role::Lift, vec![Flash], Channel::Building),
    ];
    for (role, kinds, channel) in table {
        for kind in Kind::ALL {
            let verdict = may_publish_kind(&person(role, &["bld-a"]), kind);
            assert_eq!(verdict.is_ok(), kinds.contains(&kind), "{role} {kind:?}");
            if let Err(e) = verdict {
                assert_eq!(e.rule, Rule::RoleKinds);
            }
        }
        assert_eq!(role.channel(), channel, "{role}");
        assert_eq!(role.as_str().parse::<Role>(), Ok(role));
    }
    let shop = may_publish_kind(&token(Role::Shop, &["bld-a"]), Flash).unwrap_err();
    assert_eq!(shop.message, "a shop publisher may publish promo, not flash");
    assert!("root".parse::<Role>().unwrap_err().contains("landlord, caretaker, shop"));
}

#[test]
fn the_lift_company_reaches_lift_and_lobby_screens_only() {
    let lift = token(Role::Lift, &["bld-a"]);
    let roles = |list: &[&str]| list.iter().map(|r| r.to_string()).collect::<Vec<_>>();
    // (roles asked, roles given or the refusing rule)
    let cases: Vec<(Vec<String>, Result<Vec<String>, Rule>)> = vec![
        (roles(&[]), Ok(roles(&["lift"]))),
        (roles(&["lift"]), Ok(roles(&["lift"]))),
        (roles(&["lift", "lobby-left"]), Ok(roles(&["lift", "lobby-left"]))),
        (roles(&["cellar"]), Err(Rule::Screens)),
        (roles(&["lift", "shop-window"]), Err(Rule::Screens)),
    ];
    for (asked, expected) in cases {
        assert_eq!(screen_roles(&lift, &asked).map_err(|e| e.rule), expected, "{asked:?}");
    }
    let landlord = token(Role::Landlord, &["bld-a"]);
    assert_eq!(screen_roles(&landlord, &roles(&["cellar"])), Ok(roles(&["cellar"])));
}

#[test]
fn areas_reach_their_own_and_the_areas_within_them() {
    let area = |id: &str| AreaId::parse(id).unwrap();
    let mut city_publisher = token(Role::Neighbourhood, &[]);
    city_publisher.areas = vec![area("area-ville")];
    let mut nord_publisher = token(Role::Landlord, &["bld-a"]);
    nord_publisher.areas = vec![area("area-nord")];
    let building_only = token(Role::Landlord, &["bld-a"]);
    let admin = person(Role::Admin, &[]);
    // (publisher, area asked, the areas it lies within (itself first), allowed)
    let cases = [
        (&city_publisher, "area-ville", vec!["area-ville"], true),
        (&city_publisher, "area-nord", vec!["area-nord", "area-ville"], true),
        (&nord_publisher, "area-nord", vec!["area-nord", "area-ville"], true),
        (&nord_publisher, "area-ville", vec!["area-ville"], false),
        (&nord_publisher, "area-sud", vec!["area-sud", "area-ville"], false),
        (&building_only, "area-nord", vec!["area-nord"], false),
        (&admin, "area-sud", vec!["area-sud"], true),
    ];
    for (publisher, asked, around, allowed) in cases {
        let around: Vec<_> = around.into_iter().map(area).collect();
        let verdict = may_reach_area(publisher, &area(asked), &around);
        assert_eq!(verdict.is_ok(), allowed, "{} asking {asked}", publisher.areas.len());
        if let Err(e) = verdict {
            assert_eq!(e.rule, Rule::BuildingScope);
            assert!(e.message.contains(asked), "{}", e.message);
        }
    }
}

#[test]
fn scope_ownership_visibility_and_moderation() {
    let flash = |id: &str| sample::flash(id, palier_content::Severity::Info);
    let promo = |id: &str| sample::promo(id, "Café Pradel");
    let offer = |id: &str| sample::offer(id, "Camille");
    let landlord_token = token(Role::Landlord, &["bld-a", "bld-b"]);
    let landlord = person(Role::Landlord, &["bld-a"]);
    let caretaker = person(Role::Caretaker, &["bld-a"]);
    let shop = person(Role::Shop, &["bld-a"]);
    let moderator = person(Role::Moderator, &["bld-a"]);
    let admin = person(Role::Admin, &[]);
    let others_flash_a = record("pub-other", flash("f-a"), &["bld-a"]);
    let others_flash_ab = record("pub-other", flash("f-ab"), &["bld-a", "bld-b"]);
    let others_flash_c = record("pub-other", flash("f-c"), &["bld-c"]);
    let my_flash = record("pub-me", flash("f-me"), &["bld-a"]);
    let others_promo = record("pub-other", promo("p"), &["bld-a"]);
    let offer_a = record("pub-app", offer("o"), &["bld-a"]);

    // (case, verdict, expected rule or None)
    let cases: Vec<(&str, Result<(), Forbidden>, Option<Rule>)> = vec![
        ("token: own channel", may_use_channel(&landlord_token, "building"), None),
        ("token: other channel", may_use_channel(&landlord_token, "shops"), Some(Rule::RoleChannel)),
        ("token reaches its buildings", may_reach(&landlord_token, &building_ids(&["bld-b", "bld-a"])), None),
        (
            "token: another building",
            may_reach(&landlord_token, &building_ids(&["bld-c"])),
            Some(Rule::BuildingScope),
        ),
        ("admin reaches every building", may_reach(&admin, &building_ids(&["bld-c"])), None),
        ("token changes its own", may_change(&landlord_token, &my_flash), None),
        ("token: never another's", may_change(&landlord_token, &others_flash_a), Some(Rule::Ownership)),
        ("landlord: the team's flash", may_change(&landlord, &others_flash_a), None),
        ("caretaker: the team's flash", may_change(&caretaker, &others_flash_a), None),
        (
            "landlord: a flash also for a building not theirs",
            may_change(&landlord, &others_flash_ab),
            Some(Rule::Ownership),
        ),
        ("landlord: another building's flash", may_change(&landlord, &others_flash_c), Some(Rule::Ownership)),
        ("admin: any building's flash", may_change(&admin, &others_flash_c), None),
        ("shop: another shop's promo", may_change(&shop, &others_promo), Some(Rule::Ownership)),
        ("landlord: a promo", may_change(&landlord, &others_promo), Some(Rule::Ownership)),
        ("moderator changes nothing", may_change(&moderator, &offer_a), Some(Rule::Ownership)),
        ("landlord sees the team's flash", may_see(&landlord, &others_flash_a), None),
        ("shop never sees a landlord's flash", may_see(&shop, &others_flash_a), Some(Rule::Ownership)),
        ("landlord does not see promos", may_see(&landlord, &others_promo), Some(Rule::RoleChannel)),
        ("landlord: not another building", may_see(&landlord, &others_flash_c), Some(Rule::BuildingScope)),
        ("moderator sees residents' posts", may_see(&moderator, &offer_a), None),
        ("moderator: not flashes", may_see(&moderator, &others_flash_a), Some(Rule::RoleChannel)),
        ("admin sees everything", may_see(&admin, &others_promo), None),
        ("moderator moderates offers", may_moderate(&moderator, &offer_a), None),
        ("admin moderates", may_moderate(&admin, &offer_a), None),
        ("landlord does not moderate", may_moderate(&landlord, &offer_a), Some(Rule::Moderation)),
        ("flashes need no moderation", may_moderate(&moderator, &others_flash_a), Some(Rule::Moderation)),
        (
            "moderator: another building",
            may_moderate(&person(Role::Moderator, &["bld-z"]), &offer_a),
            Some(Rule::BuildingScope),
        ),
        ("app speaks for residents", may_speak_for_people(&token(Role::Neighbourhood, &["bld-a"])), None),
        ("landlord does not", may_speak_for_people(&landlord_token), Some(Rule::People)),
        ("admin administers", may_administer(&admin), None),
        ("landlord does not administer", may_administer(&landlord), Some(Rule::Admin)),
        ("a token never administers", may_administer(&token(Role::Admin, &[])), Some(Rule::Admin)),
        (
            "landlord sees its building",
            may_see_building(&landlord, &BuildingId::parse("bld-a").unwrap()),
            None,
        ),
        (
            "not another building",
            may_see_building(&landlord, &BuildingId::parse("bld-b").unwrap()),
            Some(Rule::BuildingScope),
        ),
    ];
    for (case, verdict, expected) in cases {
        assert_eq!(verdict.err().map(|e| e.rule), expected, "{case}");
    }
    let far = may_reach(&landlord_token, &building_ids(&["bld-c"])).unwrap_err();
    assert!(far.message.contains("building bld-c") && far.message.contains("bld-a, bld-b"), "{far}");
}
