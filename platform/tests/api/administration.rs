//! The administration service: one rule on who administers (the console's people and the
//! command line's operator go through it alike), and an audit line for every change.

use palier_platform::Role;
use palier_platform::administration::{AdminError, Administrator};
use palier_platform::publishing::Actor;
use palier_platform::store::Via;

use crate::support::*;

fn forbidden<T: std::fmt::Debug>(outcome: Result<T, AdminError>) -> bool {
    matches!(outcome, Err(AdminError::Forbidden(_)))
}

#[tokio::test]
async fn only_admins_administer_and_every_change_of_people_is_audited() {
    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let service = p.admin();
    let gardien =
        service.add_person(&OPERATOR, "Gardien@Example.org", Role::Caretaker, &[a.clone()]).await.unwrap();
    let chef = service.add_person(&OPERATOR, "chef@example.org", Role::Admin, &[]).await.unwrap();
    let caretaker = Administrator::Person(Actor::new(gardien.person.publisher.clone(), Via::Console));
    let admin = Administrator::Person(Actor::new(chef.person.publisher.clone(), Via::Console));
    let gardien_id = gardien.person.publisher.id.clone();

    // A caretaker administers nothing, reading included.
    assert!(forbidden(service.people(&caretaker).await));
    assert!(forbidden(service.audit(&caretaker, 10, None).await));
    assert!(forbidden(service.disable_person(&caretaker, &chef.person.publisher.id).await));
    assert!(forbidden(service.add_person(&caretaker, "x@example.org", Role::Shop, &[a.clone()]).await));
    assert!(forbidden(
        service
            .set_moderated_kinds(&caretaker, &palier_platform::ids::BuildingId::parse(&a).unwrap(), &[])
            .await
    ));

    // What a person may not be given, in words that name no command.
    let unknown = service.add_person(&admin, "y@example.org", Role::Shop, &["bld-nowhere".into()]).await;
    assert!(matches!(unknown, Err(AdminError::Unknown { what: "building or area", .. })), "{unknown:?}");
    let twice =
        service.add_person(&admin, "gardien@example.org", Role::Shop, &[a.clone()]).await.unwrap_err();
    assert_eq!(twice.to_string(), "gardien@example.org already has an account");
    let no_scope = service.add_person(&admin, "z@example.org", Role::Landlord, &[]).await.unwrap_err();
    assert!(no_scope.to_string().contains("needs at least one building or area"), "{no_scope}");
    let own = service.disable_person(&admin, &chef.person.publisher.id).await.unwrap_err();
    assert!(own.to_string().contains("your own account"), "{own}");

    assert!(service.disable_person(&admin, &gardien_id).await.unwrap());
    assert!(service.enable_person(&admin, &gardien_id).await.unwrap());
    assert!(service.change_person(&admin, &gardien_id, Role::Landlord, &[a.clone()]).await.unwrap());
    let now = service.person_by_email(&admin, "gardien@example.org").await.unwrap();
    assert_eq!((now.publisher.role, now.disabled_at), (Role::Landlord, None));
    let (link, _) = service.password_link(&admin, &gardien_id).await.unwrap();
    assert!(link.starts_with("pw1_"), "{link}");

    let lines: Vec<(String, String, &str)> = service
        .audit(&admin, 5, None)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.action, l.actor_name, l.via.as_str()))
        .collect();
    let by = |action: &str, who: &str, via: &'static str| (action.to_owned(), who.to_owned(), via);
    assert_eq!(
        lines,
        [
            by("change person", "chef@example.org", "console"),
            by("enable person", "chef@example.org", "console"),
            by("disable person", "chef@example.org", "console"),
            by("add person", "palier-platform", "cli"),
            by("add person", "palier-platform", "cli"),
        ]
    );
}
