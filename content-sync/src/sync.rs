//! One sync round, [`SyncRound`]: manifest → verify → plan → fetch → renditions → one
//! transaction → garbage collection (protocol §9).
//!
//! The order is the safety argument. The signature is checked over the exact bytes before
//! anything parses them; the envelope checks (device, generation, expiry) run before any
//! download; pictures get their final names only once verified; and the cache changes in
//! one SQLite transaction, so a kill at any point leaves the old content or the new, never a
//! mix. A picture that is bad quarantines the items using it and the rest applies; a picture
//! that could not be reached holds its items back (their cached version stays) and the ETag
//! is not stored, so the next round tries again.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signature;
use futures_util::StreamExt;
use jiff::Timestamp;
use palier_content::wire::QuarantinedItem;
use palier_content::{
    Cache, CacheError, ManifestError, MediaRef, Snapshot, ValidatedManifest, parse_manifest,
};

use crate::api::{ApiError, FetchedManifest, ManifestAnswer, PlatformClient, Retry};
use crate::fetch::{FetchError, fetch_media};
use crate::plan::{self, MediaFile, MediaListing, Temporary};
use crate::renditions::{self, RenditionError};
use crate::settings::PlatformKey;

/// The writer side of the cache, shared between rounds and the heartbeat.
pub type SharedCache = Arc<Mutex<Cache>>;

/// Runs `f` on the cache on the blocking pool.
pub async fn with_cache<T, F>(cache: &SharedCache, f: F) -> Result<T, CacheError>
where
    F: FnOnce(&mut Cache) -> Result<T, CacheError> + Send + 'static,
    T: Send + 'static,
{
    let cache = Arc::clone(cache);
    tokio::task::spawn_blocking(move || f(&mut cache.lock().expect("cache lock")))
        .await
        .expect("cache task does not panic")
}

/// Why a round changed nothing. The cache keeps its last good content in every case.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("manifest refused: {0}")]
    Signature(String),
    #[error("manifest refused: {0}")]
    Manifest(#[from] ManifestError),
    #[error("manifest refused: it is for device {found:?}, this board is {own:?}")]
    WrongDevice { found: String, own: String },
    #[error("manifest refused: generation {offered} is older than the cached generation {cached}")]
    Stale { offered: u64, cached: u64 },
    #[error("manifest refused: it expired at {expires_at} (now {now}); a replayed old manifest?")]
    Expired { expires_at: Timestamp, now: Timestamp },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl SyncError {
    /// Worth retrying soon (with backoff), rather than at the next regular poll?
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Api(e) if e.retry() == Retry::Transient)
    }
}

/// What a round did, for the log line and the heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// 304: nothing to do.
    pub not_modified: bool,
    /// The manifest generation now held.
    pub generation: u64,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    /// Items refused by this manifest, validation and media together.
    pub quarantined: usize,
    /// Of those, items refused because of their media (the rest failed validation).
    pub media_quarantined: usize,
    /// Items whose media could not be reached this time; their cached versions stayed.
    pub held_back: usize,
    pub bytes_downloaded: u64,
    /// The cache changed (items, building, roles or quarantine list).
    pub changed: bool,
    pub duration_ms: u64,
    /// The manifest's `system_update`, when a manifest was fetched (`None` after a 304:
    /// unchanged).
    pub system_update: Option<Option<palier_content::system::SystemUpdate>>,
}

impl RoundReport {
    /// Nothing held back or quarantined because of its media: the ETag was stored and the
    /// next round may get a 304. Otherwise the next round fetches the whole manifest again
    /// and retries those pictures (protocol §9, step 9).
    pub fn complete(&self) -> bool {
        self.held_back == 0 && self.media_quarantined == 0
    }
}

/// Everything one round needs.
#[derive(Debug)]
pub struct SyncRound<'a> {
    pub client: &'a PlatformClient,
    pub key: &'a PlatformKey,
    pub device_id: &'a str,
    pub cache: &'a SharedCache,
    pub media_dir: &'a Path,
    /// The largest screen side: pictures bigger than this get a rendition.
    pub display_side: u32,
    pub parallel_downloads: usize,
}

impl SyncRound<'_> {
    /// Runs the round and records its outcome in the cache's sync state.
    pub async fn run(&self) -> Result<RoundReport, SyncError> {
        let started = Instant::now();
        with_cache(self.cache, |c| c.record_attempt(Timestamp::now())).await?;
        let result = self.steps().await;
        match &result {
            Ok(_) => {}
            Err(e) => {
                let message = e.to_string();
                with_cache(self.cache, move |c| c.record_error(&message, Timestamp::now())).await?;
            }
        }
        result.map(|mut report| {
            report.duration_ms = started.elapsed().as_millis() as u64;
            report
        })
    }

    async fn steps(&self) -> Result<RoundReport, SyncError> {
        let (snapshot, etag) = with_cache(self.cache, |c| Ok((c.snapshot()?, c.sync_state()?.etag))).await?;
        // A stored ETag belongs to the device that fetched it (a re-enrolled board starts over).
        let etag = etag.filter(|_| snapshot.device_id == self.device_id);
        let fetched = match self.client.manifest(etag.as_deref()).await? {
            ManifestAnswer::NotModified => {
                with_cache(self.cache, move |c| c.record_success(etag.as_deref(), Timestamp::now())).await?;
                return Ok(RoundReport {
                    not_modified: true,
                    generation: snapshot.source_generation,
                    ..RoundReport::default()
                });
            }
            ManifestAnswer::Fetched(fetched) => fetched,
        };
        let manifest = self.accept(&fetched, &snapshot)?;
        // Signed with the rest; a malformed one is ignored like any field this build misreads.
        let system_update = serde_json::from_slice::<SystemUpdateField>(&fetched.body)
            .map(|f| f.system_update)
            .unwrap_or_else(|e| {
                tracing::warn!("the manifest's system_update cannot be read, ignored: {e}");
                None
            });
        for refused in manifest.quarantined.iter().filter(|q| !snapshot.quarantined.contains(q)) {
            tracing::warn!(item = %refused.id, version = ?refused.version, "quarantined: {}", refused.reason);
        }
        for skipped in &manifest.skipped {
            tracing::warn!(item = %skipped.id, kind = %skipped.kind, "item of a kind this build does not know skipped");
        }
        let mut report = self.apply_with_media(manifest, snapshot, fetched.etag).await?;
        report.system_update = Some(system_update);
        Ok(report)
    }

    /// The envelope checks of protocol §5.2, in order, signature first.
    fn accept(&self, fetched: &FetchedManifest, snapshot: &Snapshot) -> Result<ValidatedManifest, SyncError> {
        verify_signature(self.key, &fetched.body, fetched.signature.as_deref())?;
        let manifest = parse_manifest(&fetched.body)?;
        if manifest.device_id != self.device_id {
            return Err(SyncError::WrongDevice { found: manifest.device_id, own: self.device_id.to_owned() });
        }
        if manifest.generation < snapshot.source_generation {
            return Err(SyncError::Stale {
                offered: manifest.generation,
                cached: snapshot.source_generation,
            });
        }
        // An untrusted board clock is not the judge of expiry: the platform's Date is.
        let now = match self.client.clock() {
            Some(reading) if !reading.status().trusted => fetched.date.unwrap_or(reading.server_date),
            _ => Timestamp::now(),
        };
        if manifest.expires_at <= now {
            return Err(SyncError::Expired { expires_at: manifest.expires_at, now });
        }
        Ok(manifest)
    }

    async fn apply_with_media(
        &self,
        mut manifest: ValidatedManifest,
        snapshot: Snapshot,
        etag: Option<String>,
    ) -> Result<RoundReport, SyncError> {
        let media_dir = self.media_dir.to_path_buf();
        std::fs::create_dir_all(&media_dir)
            .map_err(|source| SyncError::Io { path: media_dir.clone(), source })?;
        let listing = list_media(&media_dir)?;
        let side = self.display_side;
        let renditions_current = renditions::recorded_side(&media_dir) == Some(side);
        let plan = plan::plan(&manifest.items, &listing, side, renditions_current);

        let mut failures: HashMap<String, FetchError> = HashMap::new();
        let mut bytes_downloaded = 0;
        let mut downloads = futures_util::stream::iter(plan.downloads.iter().cloned())
            .map(|media| async move { (fetch_media(self.client, self.media_dir, &media).await, media) })
            .buffer_unordered(self.parallel_downloads.max(1));
        while let Some((result, media)) = downloads.next().await {
            match result {
                Ok(bytes) => bytes_downloaded += bytes,
                Err(e) => {
                    tracing::debug!(sha256 = %media.sha256, "media not fetched: {e}");
                    failures.insert(media.sha256, e);
                }
            }
        }
        drop(downloads);

        let mut renditions_made = true;
        let fetched_ok: Vec<MediaRef> =
            plan.renditions.iter().filter(|m| !failures.contains_key(&m.sha256)).cloned().collect();
        for media in &fetched_ok {
            let (dir, job) = (media_dir.clone(), media.clone());
            let made = tokio::task::spawn_blocking(move || renditions::make_rendition(&dir, &job, side))
                .await
                .expect("rendition task does not panic");
            if let Err(e) = made {
                tracing::debug!(sha256 = %media.sha256, "no display rendition: {e}");
                renditions_made = false;
                let failure = match e {
                    RenditionError::Undecodable(_) => FetchError::Permanent(e.to_string()),
                    RenditionError::Io(_) => FetchError::Transient(e.to_string()),
                };
                failures.insert(media.sha256.clone(), failure);
            }
        }
        if renditions_made {
            renditions::record_side(&media_dir, side)
                .map_err(|source| SyncError::Io { path: media_dir.clone(), source })?;
        }

        // Every picture the platform's manifest names, held-back items' included: their
        // partial downloads stay for the next round.
        let wanted: HashSet<String> =
            manifest.items.iter().flat_map(|i| i.media.iter().map(|m| m.sha256.clone())).collect();
        let validation_quarantined = manifest.quarantined.len();
        let held_back = settle_media_failures(&mut manifest, &snapshot, &failures);
        let quarantined = manifest.quarantined.len();
        let media_quarantined = quarantined - validation_quarantined;
        let generation = manifest.generation;
        let referenced: Vec<MediaRef> = manifest.items.iter().flat_map(|i| i.media.clone()).collect();
        let outcome = with_cache(self.cache, move |c| c.apply(&manifest, Timestamp::now())).await?;
        collect_garbage(&media_dir, &referenced, &wanted, side)?;
        let stored_etag = if held_back == 0 && media_quarantined == 0 { etag } else { None };
        with_cache(self.cache, move |c| c.record_success(stored_etag.as_deref(), Timestamp::now())).await?;
        Ok(RoundReport {
            not_modified: false,
            generation,
            added: outcome.added.len(),
            updated: outcome.updated.len(),
            removed: outcome.removed.len(),
            quarantined,
            media_quarantined,
            held_back,
            bytes_downloaded,
            changed: outcome.changed(),
            duration_ms: 0,
            system_update: None,
        })
    }
}

/// The manifest's system update, read apart from the items (protocol addition).
#[derive(serde::Deserialize)]
struct SystemUpdateField {
    #[serde(default)]
    system_update: Option<palier_content::system::SystemUpdate>,
}

/// Checks `X-Palier-Signature` over the exact bytes received.
pub fn verify_signature(key: &PlatformKey, body: &[u8], signature: Option<&str>) -> Result<(), SyncError> {
    let signature =
        signature.ok_or_else(|| SyncError::Signature("the answer has no X-Palier-Signature".into()))?;
    let bytes = STANDARD
        .decode(signature.trim())
        .map_err(|_| SyncError::Signature("X-Palier-Signature is not base64".into()))?;
    let signature = Signature::from_slice(&bytes)
        .map_err(|_| SyncError::Signature("X-Palier-Signature is not 64 bytes".into()))?;
    key.verifying_key().verify_strict(body, &signature).map_err(|_| {
        SyncError::Signature(
            "its signature does not verify with the pinned platform key (sync.platform_key); \
             a different platform, or a tampered answer"
                .into(),
        )
    })
}

/// Moves items whose media failed: a permanent failure quarantines the item, a transient one
/// holds it back (its cached version, if any, stays). Returns how many were held back.
fn settle_media_failures(
    manifest: &mut ValidatedManifest,
    snapshot: &Snapshot,
    failures: &HashMap<String, FetchError>,
) -> usize {
    if failures.is_empty() {
        return 0;
    }
    let mut held_back = 0;
    let mut kept = Vec::with_capacity(manifest.items.len());
    for item in std::mem::take(&mut manifest.items) {
        let permanent = item.media.iter().find_map(|m| match failures.get(&m.sha256) {
            Some(FetchError::Permanent(reason)) => Some(format!("media {}: {reason}", m.sha256)),
            _ => None,
        });
        if let Some(reason) = permanent {
            // Warned once, when the item enters the quarantine; the list is in every heartbeat.
            if !snapshot.quarantined.iter().any(|q| q.id == item.id && q.reason == reason) {
                tracing::warn!(item = %item.id, version = item.version, "quarantined: {reason}");
            }
            manifest.quarantined.push(QuarantinedItem { id: item.id, version: Some(item.version), reason });
        } else if item.media.iter().any(|m| failures.contains_key(&m.sha256)) {
            held_back += 1;
            if let Some(cached) = snapshot.item(&item.id) {
                kept.push(cached.clone());
            }
        } else {
            kept.push(item);
        }
    }
    let ids: HashSet<&str> = kept.iter().map(|i| i.id.as_str()).collect();
    debug_assert_eq!(ids.len(), kept.len(), "ids stay unique");
    manifest.items = kept;
    held_back
}

/// Reads `media/` into a [`MediaListing`].
pub fn list_media(dir: &Path) -> Result<MediaListing, SyncError> {
    let io = |source| SyncError::Io { path: dir.to_path_buf(), source };
    let mut listing = MediaListing::default();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
        match MediaFile::classify(&name) {
            MediaFile::Media(sha) => _ = listing.media.insert(sha),
            MediaFile::Rendition(sha) => _ = listing.renditions.insert(sha),
            MediaFile::Partial(sha) => listing.partials.push((sha, modified(&entry))),
            MediaFile::Temporary { pid } => {
                let writer_running = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
                listing.temporaries.push(Temporary { modified: modified(&entry), name, writer_running });
            }
            MediaFile::Other => {}
        }
    }
    Ok(listing)
}

/// When a file of `media/` was last written (now, if that cannot be read).
fn modified(entry: &std::fs::DirEntry) -> Timestamp {
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .unwrap_or_else(Timestamp::now)
}

/// Deletes what [`plan::garbage`] names.
fn collect_garbage(
    dir: &Path,
    referenced: &[MediaRef],
    wanted: &HashSet<String>,
    side: u32,
) -> Result<(), SyncError> {
    let listing = list_media(dir)?;
    let names = plan::garbage(&listing, referenced, wanted, side, Timestamp::now());
    for name in &names {
        let path = dir.join(name);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("could not delete {}: {e}", path.display());
        }
    }
    if !names.is_empty() {
        tracing::debug!(files = names.len(), "media collected");
    }
    Ok(())
}
