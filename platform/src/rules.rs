//! Who may publish what: every authorization rule of the platform, in one place.
//!
//! The publishing service ([`crate::publishing`]) asks these functions before it stores
//! anything, whichever interface the request came through (the publishing API, the admin
//! command line, the console), so the answer never depends on the door. Each refusal names
//! the [`Rule`] that refused, for the API's error body, the console's 403 page and the tests.
//!
//! - The role table: a landlord (or syndic, caretaker) publishes flashes and building news on
//!   the `building` channel, a shop publishes promotions on `shops`, and the neighbourhood
//!   app publishes offers, events and news on `neighbourhood`.
//! - Building scope: a publisher reaches only the buildings it was given.
//! - Ownership: an item is changed, withdrawn or read back only by the publisher that made it.
//! - People: only a role that publishes for residents names a person, and erases one.

use std::fmt;
use std::str::FromStr;

use palier_content::{Channel, Kind};
use serde::{Deserialize, Serialize};

use crate::ids::BuildingId;
use crate::store::{ItemRecord, Publisher};

/// A publisher's role, fixed when its token or account is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Landlord,
    Shop,
    Neighbourhood,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Landlord, Role::Shop, Role::Neighbourhood];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Landlord => "landlord",
            Role::Shop => "shop",
            Role::Neighbourhood => "neighbourhood",
        }
    }

    /// The channel every item of this role is published on.
    pub fn channel(self) -> Channel {
        match self {
            Role::Landlord => Channel::Building,
            Role::Shop => Channel::Shops,
            Role::Neighbourhood => Channel::Neighbourhood,
        }
    }

    /// The item kinds this role may publish.
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Role::Landlord => &[Kind::Flash, Kind::News],
            Role::Shop => &[Kind::Promo],
            Role::Neighbourhood => &[Kind::Offer, Kind::Event, Kind::News],
        }
    }

    /// Only the neighbourhood app publishes on behalf of residents (and erases them).
    pub fn speaks_for_people(self) -> bool {
        self == Role::Neighbourhood
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("role {s:?} is not one of {}", names.join(", "))
        })
    }
}

/// The rule behind a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The role may not publish this kind of item.
    RoleKinds,
    /// The role publishes on one channel only.
    RoleChannel,
    /// The building is not one of the publisher's.
    BuildingScope,
    /// The item belongs to another publisher.
    Ownership,
    /// Only a role that publishes for residents names or erases a person.
    People,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::RoleKinds => "role_kinds",
            Rule::RoleChannel => "role_channel",
            Rule::BuildingScope => "building_scope",
            Rule::Ownership => "ownership",
            Rule::People => "people",
        }
    }
}

/// A refusal: the rule, and a sentence for the person or program that asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Forbidden {
    pub rule: Rule,
    pub message: String,
}

fn forbid(rule: Rule, message: String) -> Result<(), Forbidden> {
    Err(Forbidden { rule, message })
}

/// The role may publish this kind.
pub fn may_publish_kind(actor: &Publisher, kind: Kind) -> Result<(), Forbidden> {
    let role = actor.role;
    if role.kinds().contains(&kind) {
        return Ok(());
    }
    let kinds: Vec<&str> = role.kinds().iter().map(|k| k.as_str()).collect();
    forbid(
        Rule::RoleKinds,
        format!("a {role} publisher may publish {}, not {}", kinds.join(" and "), kind.as_str()),
    )
}

/// The channel given (if any) is the role's own.
pub fn may_use_channel(actor: &Publisher, channel: &str) -> Result<(), Forbidden> {
    let own = actor.role.channel().as_str();
    if channel == own {
        return Ok(());
    }
    forbid(
        Rule::RoleChannel,
        format!("a {} publisher publishes on the {own} channel, not {channel:?}", actor.role),
    )
}

/// Every building is one of the publisher's.
pub fn may_reach(actor: &Publisher, buildings: &[BuildingId]) -> Result<(), Forbidden> {
    match buildings.iter().find(|b| !actor.buildings.contains(b)) {
        None => Ok(()),
        Some(building) => {
            let own: Vec<&str> = actor.buildings.iter().map(BuildingId::as_str).collect();
            forbid(
                Rule::BuildingScope,
                format!(
                    "this publisher may not publish to building {building}; its buildings: {}",
                    own.join(", ")
                ),
            )
        }
    }
}

/// The item is the publisher's own: it may change, withdraw it and read its plays.
pub fn may_change(actor: &Publisher, item: &ItemRecord) -> Result<(), Forbidden> {
    if item.publisher_id == actor.id {
        return Ok(());
    }
    forbid(Rule::Ownership, format!("item {} belongs to another publisher", item.id))
}

/// The role publishes for residents: it may name an author and erase a person.
pub fn may_speak_for_people(actor: &Publisher) -> Result<(), Forbidden> {
    if actor.role.speaks_for_people() {
        return Ok(());
    }
    forbid(
        Rule::People,
        format!("only the neighbourhood role publishes for residents; this publisher is a {}", actor.role),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ItemId, PublisherId};

    fn actor(role: Role, buildings: &[&str]) -> Publisher {
        Publisher {
            id: PublisherId::parse("pub-me").unwrap(),
            name: "me".into(),
            role,
            buildings: buildings.iter().map(|b| BuildingId::parse(b).unwrap()).collect(),
        }
    }

    #[test]
    fn the_role_table() {
        use Kind::*;
        // (role, kind, allowed)
        let table = [
            (Role::Landlord, Flash, true),
            (Role::Landlord, News, true),
            (Role::Landlord, Offer, false),
            (Role::Landlord, Promo, false),
            (Role::Landlord, Event, false),
            (Role::Shop, Promo, true),
            (Role::Shop, Flash, false),
            (Role::Shop, News, false),
            (Role::Neighbourhood, Offer, true),
            (Role::Neighbourhood, Event, true),
            (Role::Neighbourhood, News, true),
            (Role::Neighbourhood, Flash, false),
            (Role::Neighbourhood, Promo, false),
        ];
        for (role, kind, allowed) in table {
            let verdict = may_publish_kind(&actor(role, &["bld-a"]), kind);
            assert_eq!(verdict.is_ok(), allowed, "{role} {kind:?}");
            if let Err(e) = verdict {
                assert_eq!(e.rule, Rule::RoleKinds);
            }
        }
        let shop = may_publish_kind(&actor(Role::Shop, &["bld-a"]), Flash).unwrap_err();
        assert_eq!(shop.message, "a shop publisher may publish promo, not flash");
        assert_eq!("shop".parse::<Role>(), Ok(Role::Shop));
        assert!("admin".parse::<Role>().unwrap_err().contains("landlord, shop, neighbourhood"));
    }

    #[test]
    fn channels_buildings_ownership_and_people() {
        let landlord = actor(Role::Landlord, &["bld-a", "bld-b"]);
        // (check, expected rule or None)
        let building = |ids: &[&str]| ids.iter().map(|b| BuildingId::parse(b).unwrap()).collect::<Vec<_>>();
        let record = |publisher: &str| ItemRecord {
            id: ItemId::parse("f1").unwrap(),
            version: 1,
            publisher_id: PublisherId::parse(publisher).unwrap(),
            person_id: None,
            withdrawn: false,
            buildings: building(&["bld-a"]),
        };
        let cases: Vec<(Result<(), Forbidden>, Option<Rule>)> = vec![
            (may_use_channel(&landlord, "building"), None),
            (may_use_channel(&landlord, "shops"), Some(Rule::RoleChannel)),
            (may_reach(&landlord, &building(&["bld-a"])), None),
            (may_reach(&landlord, &building(&["bld-b", "bld-a"])), None),
            (may_reach(&landlord, &building(&["bld-a", "bld-c"])), Some(Rule::BuildingScope)),
            (may_change(&landlord, &record("pub-me")), None),
            (may_change(&landlord, &record("pub-other")), Some(Rule::Ownership)),
            (may_speak_for_people(&landlord), Some(Rule::People)),
            (may_speak_for_people(&actor(Role::Neighbourhood, &["bld-a"])), None),
            (may_speak_for_people(&actor(Role::Shop, &["bld-a"])), Some(Rule::People)),
        ];
        for (index, (verdict, expected)) in cases.into_iter().enumerate() {
            assert_eq!(verdict.err().map(|e| e.rule), expected, "case {index}");
        }
        let far = may_reach(&landlord, &building(&["bld-c"])).unwrap_err();
        assert!(far.message.contains("building bld-c") && far.message.contains("bld-a, bld-b"), "{far}");
    }
}
