//! The boards' service (protocol §5): enrolment with a one-time code, a board's token, what
//! its manifest holds, its plays and heartbeats. The device API calls only this.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use palier_content::MediaRef;
use palier_content::system::SystemUpdate;
use palier_content::wire::{Heartbeat, Manifest, PlayRecord};

use crate::ids::{DeviceId, MediaAddress};
use crate::manifest;
use crate::publishing::Clock;
use crate::releases;
use crate::secret::{DEVICE_TOKEN_PREFIX, hash_secret, new_id, new_token, normalize_code};
use crate::store::{Device, Generation, NewDevice, Store, StoreError};

/// A board's last contact is written at most this often (every request would be a write).
pub const LAST_SEEN_RESOLUTION: SignedDuration = SignedDuration::from_secs(60);

/// A board just enrolled, with its token (shown to it once, kept only as a hash).
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub device: Device,
    pub token: String,
}

/// The boards' service.
#[derive(Clone)]
pub struct Boards {
    store: Arc<dyn Store>,
    clock: Clock,
}

impl std::fmt::Debug for Boards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Boards").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Boards {
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Boards {
        Boards { store, clock }
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Enrols a board with a one-time code; `None` if the code is unknown, used or expired.
    /// `name` and `software_version` are the board's own words, already made printable.
    pub async fn enrol(
        &self,
        code: &str,
        name: String,
        software_version: String,
    ) -> Result<Option<Enrolled>, StoreError> {
        let token = new_token(DEVICE_TOKEN_PREFIX);
        let id = DeviceId::parse(&new_id("dev"))
            .map_err(|detail| StoreError::Corrupt { operation: "making a device id", detail })?;
        let new = NewDevice { id, name, software_version, token_hash: hash_secret(&token) };
        let code_hash = hash_secret(&normalize_code(code));
        let enrolled = self.store.enrol(&code_hash, &new, self.now()).await?;
        Ok(enrolled.map(|device| Enrolled { device, token }))
    }

    /// The enrolled, not revoked board holding this token; its last contact is noted.
    pub async fn by_token(&self, token: &str) -> Result<Option<Device>, StoreError> {
        let Some(device) = self.store.device_by_token(&hash_secret(token)).await? else { return Ok(None) };
        let now = self.now();
        let stale = device.last_seen.is_none_or(|seen| now.duration_since(seen) >= LAST_SEEN_RESOLUTION);
        if stale {
            self.store.touch_device(&device.id, now).await?;
        }
        Ok(Some(device))
    }

    /// Whether the board is still enrolled (its event stream ends when it is not).
    pub async fn still_enrolled(&self, device: &DeviceId) -> Result<bool, StoreError> {
        self.store.device_active(device).await
    }

    /// The generation of the board's manifest: its building's, or its own settings' if newer.
    pub async fn generation(&self, device: &Device) -> Result<Generation, StoreError> {
        let building = self.store.building_generation(&device.building_id).await?;
        Ok(manifest::device_generation(device, building))
    }

    /// The system version assigned to the board, for the system its last heartbeat named.
    pub async fn desired_update(&self, device: &Device) -> Result<Option<SystemUpdate>, StoreError> {
        let Some(system) = self.store.device_system(&device.id).await? else { return Ok(None) };
        let assignments = self.store.release_assignments().await?;
        if assignments.is_empty() {
            return Ok(None);
        }
        let releases = self.store.releases().await?;
        Ok(releases::desired(
            &device.id,
            &device.building_id,
            Some(&system.compatible),
            &assignments,
            &releases,
        ))
    }

    /// The board's manifest, issued at `issued_at` and acceptable for `lifetime`.
    pub async fn manifest(
        &self,
        device: &Device,
        issued_at: Timestamp,
        lifetime: SignedDuration,
        system_update: Option<SystemUpdate>,
    ) -> Result<Manifest, StoreError> {
        let content = self.store.building_items(&device.building_id).await?;
        Ok(manifest::build(device, content, issued_at, issued_at + lifetime, system_update))
    }

    /// Keeps the plays a board reported (already judged one by one).
    pub async fn record_plays(&self, device: &DeviceId, plays: &[PlayRecord]) -> Result<(), StoreError> {
        self.store.record_plays(device, plays, self.now()).await
    }

    /// Keeps a board's heartbeat.
    pub async fn record_heartbeat(&self, device: &DeviceId, beat: &Heartbeat) -> Result<(), StoreError> {
        self.store.record_heartbeat(device, beat, self.now()).await
    }

    /// What is known of a stored picture or bundle.
    pub async fn media(&self, address: &MediaAddress) -> Result<Option<MediaRef>, StoreError> {
        self.store.media(address).await
    }
}
