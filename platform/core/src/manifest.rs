//! What a device's manifest holds: its building's live items that are meant for one of its
//! screen roles, at a generation that never falls below the one the device drew at enrolment.
//!
//! Pure functions over what the store read, so every store implementation gives boards the
//! same manifest, and the rule is tested without a database.

use palier_content::system::SystemUpdate;
use palier_content::wire::{Manifest, PROTOCOL_VERSION};
use serde_json::Value;

use crate::store::{BuildingContent, Device, Generation};

/// A device's view of its building's generation: the manifest changes when, and only when,
/// this does.
pub fn device_generation(device: &Device, building: Generation) -> Generation {
    if device.generation > building.generation {
        Generation { generation: device.generation, reason: "settings".to_owned() }
    } else {
        building
    }
}

/// Whether an item is for one of the device's screens: items without roles are for all.
pub fn meant_for(item: &Value, device_roles: &[String]) -> bool {
    match item.get("roles").and_then(Value::as_array) {
        None => true,
        Some(roles) if roles.is_empty() => true,
        Some(roles) => roles.iter().filter_map(Value::as_str).any(|r| device_roles.iter().any(|d| d == r)),
    }
}

/// The manifest of `device`, issued at `issued_at` and valid until `expires_at`, with the
/// system version it should run when one is assigned to it.
pub fn build(
    device: &Device,
    content: BuildingContent,
    issued_at: jiff::Timestamp,
    expires_at: jiff::Timestamp,
    system_update: Option<SystemUpdate>,
) -> Manifest {
    let BuildingContent { building, generation, items } = content;
    Manifest {
        protocol: PROTOCOL_VERSION,
        device_id: device.id.to_string(),
        generation: generation.max(device.generation),
        issued_at,
        expires_at,
        building,
        roles: device.roles.clone(),
        items: items.into_iter().filter(|item| meant_for(item, &device.roles)).collect(),
        system_update,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn items_reach_the_roles_they_name() {
        let lift = ["lift".to_owned()];
        let lobby = ["lobby-left".to_owned(), "lobby-right".to_owned()];
        // (item roles, meant for the lift board, meant for the lobby board)
        let table = [
            (json!({}), true, true),
            (json!({"roles": []}), true, true),
            (json!({"roles": ["lift"]}), true, false),
            (json!({"roles": ["lobby-right"]}), false, true),
            (json!({"roles": ["lift", "lobby-left"]}), true, true),
            (json!({"roles": ["cellar"]}), false, false),
        ];
        for (item, for_lift, for_lobby) in table {
            assert_eq!(meant_for(&item, &lift), for_lift, "{item} on the lift");
            assert_eq!(meant_for(&item, &lobby), for_lobby, "{item} in the lobby");
        }
    }
}
