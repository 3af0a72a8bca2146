//! Buildings, areas (neighbourhoods and cities), lifts, and a building's moderation settings.

use palier_content::validate::validate_building;
use palier_content::{Building, Kind};

use super::{AdminError, Administration, Administrator};
use crate::ids::{AreaId, BuildingId, LiftId};
use crate::store::{Area, AreaEntry, AreaKind, Lift};

/// A new building's settings, with an optional explicit id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBuilding {
    pub id: Option<String>,
    pub name: String,
    pub address: String,
    pub time_zone: String,
    pub locale: String,
}

impl Administration {
    /// Every building (the command line and administrators; people see theirs through
    /// [`crate::publishing::Publishing::buildings`]).
    pub async fn buildings(&self, who: &Administrator) -> Result<Vec<Building>, AdminError> {
        who.may_read()?;
        Ok(self.store.buildings().await?)
    }

    /// Adds a building. Without an explicit id, one is made from the name (`bld-les-tilleuls`).
    pub async fn add_building(&self, who: &Administrator, new: NewBuilding) -> Result<Building, AdminError> {
        let change = who.change(self.now())?;
        let id = match new.id {
            Some(id) => id,
            None => self.free_building_id(&new.name).await?,
        };
        let building = Building {
            id,
            name: new.name,
            address: new.address,
            time_zone: new.time_zone,
            locale: new.locale,
        };
        validate_building(&building).map_err(AdminError::Invalid)?;
        self.store.add_building(&building, change.at).await?;
        Ok(building)
    }

    async fn free_building_id(&self, name: &str) -> Result<String, AdminError> {
        let slug = slug(name);
        let base = if slug.is_empty() { "bld".to_owned() } else { format!("bld-{slug}") };
        for n in 1.. {
            let candidate = if n == 1 { base.clone() } else { format!("{base}-{n}") };
            let id = BuildingId::parse(&candidate).map_err(AdminError::Invalid)?;
            if self.store.building(&id).await?.is_none() {
                return Ok(candidate);
            }
        }
        unreachable!("some suffix is free")
    }

    /// The kinds a building's moderators approve before they reach its screens.
    pub async fn moderated_kinds(
        &self,
        who: &Administrator,
        building: &BuildingId,
    ) -> Result<Vec<Kind>, AdminError> {
        who.may_read()?;
        Ok(self.store.moderated_kinds(building).await?)
    }

    /// Sets those kinds, with an audit line.
    pub async fn set_moderated_kinds(
        &self,
        who: &Administrator,
        building: &BuildingId,
        kinds: &[Kind],
    ) -> Result<(), AdminError> {
        let change = who.change(self.now())?;
        Ok(self.store.set_moderated_kinds(building, kinds, &change).await?)
    }

    /// Every area, with its buildings and reach.
    pub async fn areas(&self, who: &Administrator) -> Result<Vec<AreaEntry>, AdminError> {
        who.may_read()?;
        Ok(self.store.areas().await?)
    }

    /// A neighbourhood or a city, possibly within a larger area, with its first buildings.
    /// Without an explicit id, one is made from the name (`area-quartier-des-pentes`).
    pub async fn add_area(
        &self,
        who: &Administrator,
        name: &str,
        kind: AreaKind,
        within: Option<&str>,
        buildings: &[String],
        id: Option<&str>,
    ) -> Result<AreaEntry, AdminError> {
        let change = who.change(self.now())?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(AdminError::Invalid("an area needs a name of 1 to 120 characters".into()));
        }
        let id = match id {
            Some(id) => AreaId::parse(id).map_err(AdminError::Invalid)?,
            None => AreaId::parse(&format!("area-{}", slug(name))).map_err(AdminError::Invalid)?,
        };
        let as_building = BuildingId::parse(id.as_str()).map_err(AdminError::Invalid)?;
        if self.store.building(&as_building).await?.is_some() {
            return Err(AdminError::Invalid(format!("{id} is a building's id; give the area another id")));
        }
        let within = within.map(|w| AreaId::parse(w).map_err(AdminError::Invalid)).transpose()?;
        let area = Area { id: id.clone(), name: name.to_owned(), kind, within };
        self.store.add_area(&area, change.at).await?;
        self.join_area(who, &id, buildings).await?;
        let entries = self.store.areas().await?;
        entries
            .into_iter()
            .find(|e| e.area.id == id)
            .ok_or_else(|| AdminError::Unknown { what: "area", id: id.to_string() })
    }

    /// Puts buildings in an area; what was published to the area reaches them. Answers the
    /// buildings whose manifests moved.
    pub async fn join_area(
        &self,
        who: &Administrator,
        area: &AreaId,
        buildings: &[String],
    ) -> Result<Vec<BuildingId>, AdminError> {
        let change = who.change(self.now())?;
        let ids: Vec<BuildingId> = buildings
            .iter()
            .map(|id| BuildingId::parse(id).map_err(AdminError::Invalid))
            .collect::<Result<_, _>>()?;
        let mut moved = Vec::new();
        for building in ids {
            moved.extend(self.store.add_to_area(area, &building, &change).await?.buildings);
        }
        Ok(moved)
    }

    /// Every lift, with its last status.
    pub async fn lifts(&self, who: &Administrator) -> Result<Vec<Lift>, AdminError> {
        who.may_read()?;
        Ok(self.store.lifts().await?)
    }

    /// Registers a lift of a building; without an id, one is made from the building and the
    /// name (`lift-residence-les-tilleuls-ascenseur-a`), short enough for the items its
    /// statuses publish.
    pub async fn add_lift(
        &self,
        who: &Administrator,
        building: &str,
        name: &str,
        id: Option<&str>,
    ) -> Result<Lift, AdminError> {
        who.change(self.now())?;
        let building_id = BuildingId::parse(building).map_err(AdminError::Invalid)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(AdminError::Invalid(
                "a lift needs a name, as residents call it: \"Ascenseur A\"".into(),
            ));
        }
        let id = match id {
            Some(id) => id.to_owned(),
            None => {
                let mut id = format!("lift-{}-{}", slug(building.trim_start_matches("bld-")), slug(name));
                id.truncate(48);
                id.trim_end_matches('-').to_owned()
            }
        };
        let lift = Lift {
            id: LiftId::parse(&id).map_err(AdminError::Invalid)?,
            building_id,
            name: name.to_owned(),
            status: None,
        };
        self.store.add_lift(&lift).await?;
        Ok(lift)
    }
}

/// Lowercase ASCII words of `name` joined by '-', accents folded, at most 40 characters.
pub fn slug(name: &str) -> String {
    let folded: String = name.chars().flat_map(fold).collect();
    let words: Vec<&str> =
        folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut slug = String::new();
    for word in words {
        if slug.len() + word.len() + 1 > 40 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(word);
    }
    slug
}

fn fold(c: char) -> Vec<char> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let plain = match lower {
        'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => 'a',
        'ç' => 'c',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' | 'ì' => 'i',
        'ô' | 'ö' | 'ó' | 'ò' | 'õ' => 'o',
        'ù' | 'û' | 'ü' | 'ú' => 'u',
        'ÿ' | 'ý' => 'y',
        'ñ' => 'n',
        'œ' => return vec!['o', 'e'],
        'æ' => return vec!['a', 'e'],
        other => other,
    };
    vec![plain]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_fold_french_names() {
        assert_eq!(slug("Résidence Les Tilleuls"), "residence-les-tilleuls");
        assert_eq!(slug("  Cœur de Ville — Bât. B "), "coeur-de-ville-bat-b");
        assert_eq!(slug("!!!"), "");
        assert!(slug(&"mot ".repeat(30)).len() <= 40);
    }
}
