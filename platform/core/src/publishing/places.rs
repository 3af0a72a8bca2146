//! What a person sees of buildings through the publishing service: the buildings they may
//! act in, a building they may see, the areas around it, its boards and what they show.
//!
//! The screens page lists titles only of items the person may see ([`rules::may_see`]): a
//! shop never reads a landlord's flash titles, future ones included. A screen's picture is
//! drawn from the board's manifest at this instant, which is what anyone in the hall sees.

use std::collections::HashMap;

use palier_content::wire::Manifest;
use palier_content::{Building, MediaRef};

use super::{Actor, Publishing, PublishingError};
use crate::ids::{BuildingId, DeviceId, MediaAddress};
use crate::manifest;
use crate::rules;
use crate::store::{AreaEntry, DeviceReport, StoreError};

/// A building's boards as the console shows them.
#[derive(Debug, Clone)]
pub struct BuildingScreens {
    /// The generation the building's manifests are at.
    pub generation: u64,
    /// Its enrolled, not revoked boards with their last heartbeats.
    pub boards: Vec<DeviceReport>,
    /// The titles of its items the person may see, by item id.
    pub titles: HashMap<String, String>,
}

impl Publishing {
    /// The buildings the actor may publish in, every one for an admin.
    pub async fn buildings(&self, actor: &Actor) -> Result<Vec<Building>, PublishingError> {
        let all = self.store.buildings().await?;
        Ok(all
            .into_iter()
            .filter(|b| BuildingId::parse(&b.id).is_ok_and(|id| rules::may_act_in(&actor.publisher, &id)))
            .collect())
    }

    /// A building the actor may see.
    pub async fn building(&self, actor: &Actor, id: &BuildingId) -> Result<Building, PublishingError> {
        let building = self.store.building(id).await?.ok_or_else(|| StoreError::not_found("building", id))?;
        rules::may_see_building(&actor.publisher, id)?;
        Ok(building)
    }

    /// Every area with its buildings; which ones the actor may reach is the rules' to say
    /// ([`rules::may_reach_area`]).
    pub async fn areas(&self) -> Result<Vec<AreaEntry>, PublishingError> {
        Ok(self.store.areas().await?)
    }

    /// What is known of an uploaded picture.
    pub async fn media(&self, address: &MediaAddress) -> Result<Option<MediaRef>, PublishingError> {
        Ok(self.store.media(address).await?)
    }

    /// A building's boards, with the titles of the items the actor may see.
    pub async fn screens(
        &self,
        actor: &Actor,
        building: &BuildingId,
    ) -> Result<BuildingScreens, PublishingError> {
        let items = self.items_of(actor, building).await?;
        let titles = items
            .into_iter()
            .filter(|record| !record.is_withdrawn())
            .map(|record| (record.id.to_string(), record.item.title))
            .collect();
        let generation = self.store.building_generation(building).await?.generation;
        let boards = self
            .store
            .device_reports(Some(building))
            .await?
            .into_iter()
            .filter(|r| r.device.revoked_at.is_none())
            .collect();
        Ok(BuildingScreens { generation, boards, titles })
    }

    /// One board of a building and its manifest as of now, to draw what its screens show.
    pub async fn board_now(
        &self,
        actor: &Actor,
        building: &BuildingId,
        device: &DeviceId,
    ) -> Result<Option<(DeviceReport, Manifest)>, PublishingError> {
        rules::may_see_building(&actor.publisher, building)?;
        let reports = self.store.device_reports(Some(building)).await?;
        let Some(report) = reports.into_iter().find(|r| &r.device.id == device) else { return Ok(None) };
        let content = self.store.building_items(building).await?;
        let now = self.now();
        let manifest = manifest::build(&report.device, content, now, now, None);
        Ok(Some((report, manifest)))
    }
}
