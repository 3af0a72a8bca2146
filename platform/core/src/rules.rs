//! Who may do what: every authorization rule of the platform, in one place.
//!
//! The publishing service ([`crate::publishing`]) and the console ask these functions before
//! they store or show anything, whichever interface the request came through (the
//! publishing API, the admin command line, the console), so the answer never depends on the
//! door. Each refusal names the [`Rule`] that refused, for the API's error body, the
//! console's 403 page and the tests.
//!
//! - The role table: a landlord, syndic or caretaker publishes flashes and building news on
//!   the `building` channel, a shop publishes promotions on `shops`, the neighbourhood app
//!   publishes offers, events and news on `neighbourhood`; a moderator publishes nothing and
//!   reviews what the neighbourhood app posts; an admin has a landlord's powers on every
//!   building, moderates, manages people and reads the audit log.
//! - Building scope: a publisher reaches only the buildings it was given and those of its
//!   areas (an admin all); it publishes to its own areas and the areas within them.
//! - Ownership: a machine's token changes only its own items; a person of the landlord's
//!   team (landlord, caretaker, admin) changes any item of the building channel within their
//!   buildings, so a caretaker can withdraw a flash a colleague published; a shop only its own.
//! - Visibility: a person sees the items of their role's channel in their buildings, never
//!   another channel's (a shop never sees a landlord's flash).
//! - People: only a role that publishes for residents names a person, and erases one.
//! - Screens: the lift company publishes flashes to lift screens, and notices about a lift
//!   to lobby screens; nothing else.

use palier_content::{Channel, Kind};
use serde::Serialize;

use crate::domain::{ItemRecord, Publisher, PublisherKind};
use crate::ids::{AreaId, BuildingId};

pub use crate::domain::Role;

/// The rule behind a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The role may not publish this kind of item.
    RoleKinds,
    /// The role publishes on one channel only, and sees only that channel.
    RoleChannel,
    /// The building is not one of the publisher's.
    BuildingScope,
    /// The item belongs to another publisher.
    Ownership,
    /// Only a role that publishes for residents names or erases a person.
    People,
    /// Only moderators and admins moderate, and only the neighbourhood channel.
    Moderation,
    /// Only admins manage people and read the audit log.
    Admin,
    /// The role publishes to some screens only (the lift company: lift and lobby screens).
    Screens,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::RoleKinds => "role_kinds",
            Rule::RoleChannel => "role_channel",
            Rule::BuildingScope => "building_scope",
            Rule::Ownership => "ownership",
            Rule::People => "people",
            Rule::Moderation => "moderation",
            Rule::Admin => "admin",
            Rule::Screens => "screens",
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
    if role.kinds().is_empty() {
        return forbid(
            Rule::RoleKinds,
            format!("a {role} publishes nothing; it reviews what others publish"),
        );
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

/// The screen roles an item of this publisher targets, once checked: the lift company's
/// items go to lift screens unless they name lobby screens; other roles choose freely.
pub fn screen_roles(actor: &Publisher, roles: &[String]) -> Result<Vec<String>, Forbidden> {
    if actor.role != Role::Lift {
        return Ok(roles.to_vec());
    }
    if roles.is_empty() {
        return Ok(vec!["lift".to_owned()]);
    }
    match roles.iter().find(|r| *r != "lift" && !r.starts_with("lobby")) {
        None => Ok(roles.to_vec()),
        Some(other) => Err(Forbidden {
            rule: Rule::Screens,
            message: format!(
                "the lift company publishes to lift screens (and lobby screens about a lift), not to {other:?}"
            ),
        }),
    }
}

/// The publisher may act on this building.
pub fn may_act_in(actor: &Publisher, building: &BuildingId) -> bool {
    actor.role == Role::Admin || actor.reach.contains(building)
}

/// Every building is one of the publisher's.
pub fn may_reach(actor: &Publisher, buildings: &[BuildingId]) -> Result<(), Forbidden> {
    match buildings.iter().find(|b| !may_act_in(actor, b)) {
        None => Ok(()),
        Some(building) => {
            let own: Vec<&str> = actor.reach.iter().map(BuildingId::as_str).collect();
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

/// The publisher may publish to this area: an admin to any, others to their own areas and
/// the areas within them. `around` lists the area and the areas it lies within.
pub fn may_reach_area(actor: &Publisher, area: &AreaId, around: &[AreaId]) -> Result<(), Forbidden> {
    if actor.role == Role::Admin || around.iter().any(|a| actor.areas.contains(a)) {
        return Ok(());
    }
    let own: Vec<&str> = actor.areas.iter().map(AreaId::as_str).collect();
    forbid(
        Rule::BuildingScope,
        format!(
            "this publisher may not publish to area {area}; its areas: {}",
            if own.is_empty() { "none".to_owned() } else { own.join(", ") }
        ),
    )
}

/// The publisher may see this building at all (its pages, its screens).
pub fn may_see_building(actor: &Publisher, building: &BuildingId) -> Result<(), Forbidden> {
    if may_act_in(actor, building) {
        return Ok(());
    }
    forbid(Rule::BuildingScope, format!("building {building} is not one of yours"))
}

/// The item, with its plays, is visible to this publisher.
pub fn may_see(actor: &Publisher, item: &ItemRecord) -> Result<(), Forbidden> {
    if item.publisher_id == actor.id {
        return Ok(());
    }
    let team =
        actor.kind == PublisherKind::Person && (actor.role.shares_items() || actor.role == Role::Moderator);
    if !team {
        return forbid(Rule::Ownership, format!("item {} belongs to another publisher", item.id));
    }
    if actor.role != Role::Admin && item.item.channel != actor.role.channel() {
        return forbid(
            Rule::RoleChannel,
            format!(
                "item {} is on the {} channel, which a {} does not see",
                item.id,
                item.item.channel.as_str(),
                actor.role
            ),
        );
    }
    if !item.reach.iter().any(|b| may_act_in(actor, b)) {
        return forbid(Rule::BuildingScope, format!("item {} is for buildings that are not yours", item.id));
    }
    Ok(())
}

/// The publisher may change, withdraw or read back this item.
pub fn may_change(actor: &Publisher, item: &ItemRecord) -> Result<(), Forbidden> {
    if item.publisher_id == actor.id {
        return Ok(());
    }
    let team = actor.kind == PublisherKind::Person && actor.role.shares_items();
    if team && item.item.channel == actor.role.channel() && item.reach.iter().all(|b| may_act_in(actor, b)) {
        return Ok(());
    }
    forbid(Rule::Ownership, format!("item {} belongs to another publisher", item.id))
}

/// The publisher may approve or reject this item.
pub fn may_moderate(actor: &Publisher, item: &ItemRecord) -> Result<(), Forbidden> {
    if !matches!(actor.role, Role::Moderator | Role::Admin) {
        return forbid(
            Rule::Moderation,
            format!("a {} does not moderate; moderators and admins do", actor.role),
        );
    }
    if item.item.channel != Channel::Neighbourhood {
        return forbid(
            Rule::Moderation,
            format!("item {} is not a resident's post: it needs no moderation", item.id),
        );
    }
    if !item.reach.iter().any(|b| may_act_in(actor, b)) {
        return forbid(Rule::BuildingScope, format!("item {} is for buildings that are not yours", item.id));
    }
    Ok(())
}

/// The publisher moderates at all (the moderation queue).
pub fn moderates(actor: &Publisher) -> bool {
    matches!(actor.role, Role::Moderator | Role::Admin)
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

/// Only an admin manages people, changes building settings and reads the audit log.
pub fn may_administer(actor: &Publisher) -> Result<(), Forbidden> {
    if actor.role == Role::Admin && actor.kind == PublisherKind::Person {
        return Ok(());
    }
    forbid(Rule::Admin, "only an admin manages people, building settings and the audit log".to_owned())
}

#[cfg(test)]
mod tests;
