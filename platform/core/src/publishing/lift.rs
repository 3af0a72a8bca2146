//! The lift company's monitoring: `out_of_service` and `in_service` statuses for a lift turn
//! into flashes, published and withdrawn through the same path as every other publication.
//!
//! Out of service: an urgent flash on the building's lift screens (« Ascenseur A à l'arrêt —
//! retour prévu vers 16 h ») and an important notice on its lobby screens. In service: both
//! withdrawn, and for an hour an information flash that the lift works again. A status equal
//! to the last one changes nothing (monitoring systems repeat themselves), unless its flash
//! has meanwhile expired. Items carry the company's name as their origin.

use jiff::{SignedDuration, Timestamp};
use palier_content::{Details, Flash, Item, Severity};
use serde::Serialize;

use super::{Actor, Draft, Publishing, PublishingError, Target};
use crate::ids::{BuildingId, ItemId, LiftId};
use crate::rules::{self, Forbidden, Role, Rule};
use crate::store::{Lift, LiftStatus, StoreError, Targets};

/// How long an out-of-service flash lives without a new status: a monitoring that went
/// quiet must not leave « à l'arrêt » on the screens for ever.
pub const OUT_OF_SERVICE_LIFETIME: SignedDuration = SignedDuration::from_hours(72);
/// How long « de nouveau en service » shows.
pub const BACK_IN_SERVICE_FOR: SignedDuration = SignedDuration::from_hours(1);

/// What the monitoring reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiftReport {
    pub running: bool,
    pub expected_return: Option<Timestamp>,
}

/// What a status did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiftOutcome {
    pub lift: LiftId,
    /// False when the status repeated the last one and nothing was published.
    pub changed: bool,
    pub published: Vec<ItemId>,
    pub withdrawn: Vec<ItemId>,
}

fn item_id(lift: &LiftId, suffix: &str) -> ItemId {
    ItemId::parse(&format!("{lift}-{suffix}")).unwrap_or_else(|_| ItemId::stored(format!("lift-{suffix}")))
}

/// « 16 h », « 16 h 30 », or with the day when it is not today.
fn around(at: Timestamp, now: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    let local = at.to_zoned(tz.clone());
    let hour = if local.minute() == 0 {
        format!("{} h", local.hour())
    } else {
        format!("{} h {:02}", local.hour(), local.minute())
    };
    if local.date() == now.to_zoned(tz.clone()).date() {
        hour
    } else {
        format!("le {:02}/{:02} vers {hour}", local.day(), local.month())
    }
}

impl Publishing {
    /// Records a lift's status from its company's monitoring and publishes what it means.
    pub async fn lift_status(
        &self,
        actor: &Actor,
        id: &LiftId,
        report: LiftReport,
    ) -> Result<LiftOutcome, PublishingError> {
        let publisher = &actor.publisher;
        if publisher.role != Role::Lift {
            return Err(Forbidden {
                rule: Rule::RoleKinds,
                message: format!(
                    "only the lift company reports a lift's status; this publisher is a {}",
                    publisher.role
                ),
            }
            .into());
        }
        let lift = self.store.lift(id).await?.ok_or_else(|| {
            PublishingError::NotFound(format!(
                "lift {id} does not exist; an administrator registers it first"
            ))
        })?;
        rules::may_reach(publisher, std::slice::from_ref(&lift.building_id))?;
        let now = self.now();
        let (down, hall, back) = (item_id(id, "arret"), item_id(id, "arret-hall"), item_id(id, "retour"));
        let watched = if report.running { &back } else { &down };
        let same = lift.status.as_ref().is_some_and(|s| {
            s.running == report.running && (report.running || s.expected_return == report.expected_return)
        });
        let still_shown = match self.store.item(watched).await? {
            Some(record) => !record.is_withdrawn() && now < record.item.valid_until,
            None => false,
        };
        if same && (still_shown || report.running) {
            return Ok(LiftOutcome {
                lift: id.clone(),
                changed: false,
                published: Vec::new(),
                withdrawn: Vec::new(),
            });
        }
        let building = self
            .store
            .building(&lift.building_id)
            .await?
            .ok_or_else(|| StoreError::not_found("building", &lift.building_id))?;
        let tz = building.tz().unwrap_or(jiff::tz::TimeZone::UTC);
        let lobby = self.lobby_roles(&lift.building_id).await?;
        let mut outcome =
            LiftOutcome { lift: id.clone(), changed: true, published: Vec::new(), withdrawn: Vec::new() };
        if report.running {
            for gone in [&down, &hall] {
                if self.withdraw_if_live(actor, gone).await? {
                    outcome.withdrawn.push(gone.clone());
                }
            }
            let mut roles = vec!["lift".to_owned()];
            roles.extend(lobby);
            let title = format!("{} de nouveau en service", lift.name);
            self.publish_flash(
                actor,
                &lift,
                &back,
                Severity::Info,
                title,
                String::new(),
                roles,
                now,
                now + BACK_IN_SERVICE_FOR,
            )
            .await?;
            outcome.published.push(back.clone());
        } else {
            if self.withdraw_if_live(actor, &back).await? {
                outcome.withdrawn.push(back.clone());
            }
            let until = report.expected_return.map_or(now + OUT_OF_SERVICE_LIFETIME, |r| {
                (r + SignedDuration::from_hours(12))
                    .min(now + OUT_OF_SERVICE_LIFETIME)
                    .max(now + SignedDuration::from_hours(1))
            });
            let title = match report.expected_return {
                Some(at) => format!("{} à l’arrêt — retour prévu vers {}", lift.name, around(at, now, &tz)),
                None => format!("{} à l’arrêt", lift.name),
            };
            let body = "Le technicien est prévenu. Merci de prendre l’escalier.".to_owned();
            self.publish_flash(
                actor,
                &lift,
                &down,
                Severity::Urgent,
                title.clone(),
                body.clone(),
                vec!["lift".into()],
                now,
                until,
            )
            .await?;
            outcome.published.push(down.clone());
            if !lobby.is_empty() {
                self.publish_flash(actor, &lift, &hall, Severity::Important, title, body, lobby, now, until)
                    .await?;
                outcome.published.push(hall.clone());
            }
        }
        let status =
            LiftStatus { running: report.running, since: now, expected_return: report.expected_return };
        self.store.set_lift_status(id, &status).await?;
        tracing::info!(lift = %id, running = report.running, "lift status");
        Ok(outcome)
    }

    /// The screen roles of the building's boards other than the lift's.
    async fn lobby_roles(&self, building: &BuildingId) -> Result<Vec<String>, PublishingError> {
        let mut roles: Vec<String> = self
            .store
            .device_reports(Some(building))
            .await?
            .into_iter()
            .filter(|r| r.device.revoked_at.is_none())
            .flat_map(|r| r.device.roles)
            .filter(|r| r.starts_with("lobby"))
            .collect();
        roles.sort();
        roles.dedup();
        Ok(roles)
    }

    async fn withdraw_if_live(&self, actor: &Actor, id: &ItemId) -> Result<bool, PublishingError> {
        match self.store.item(id).await? {
            Some(record) if !record.is_withdrawn() => Ok(!self.withdraw(actor, id).await?.items.is_empty()),
            _ => Ok(false),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn publish_flash(
        &self,
        actor: &Actor,
        lift: &Lift,
        id: &ItemId,
        severity: Severity,
        title: String,
        body: String,
        roles: Vec<String>,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<(), PublishingError> {
        let roles = rules::screen_roles(&actor.publisher, &roles)?;
        let item = Item {
            id: id.to_string(),
            version: 1,
            channel: actor.publisher.role.channel(),
            valid_from: from,
            valid_until: until,
            schedule: None,
            weight: 1,
            duration_s: None,
            roles,
            lang: "fr".to_owned(),
            title,
            body,
            media: Vec::new(),
            link: None,
            origin: Some(actor.publisher.name.clone()),
            details: Details::Flash(Flash { severity, starts_at: None, ends_at: None }),
        };
        palier_content::validate::validate_item(&item).map_err(PublishingError::Invalid)?;
        let target = match self.store.item(id).await? {
            Some(_) => Target::Update(id.clone()),
            None => Target::Create,
        };
        let targets = Some(Targets { buildings: vec![lift.building_id.clone()], areas: Vec::new() });
        let draft = Draft { item, expected_version: None, targets, person_id: None, review: None };
        self.store_draft(actor, draft, target, from).await?;
        Ok(())
    }
}
