//! A large content cache for load figures: `count` items made from the demo pack's own
//! items (every kind and template, with and without photos), each given a new id and a
//! numbered title, installed through the same validated types and [`Cache::apply`] as
//! real content. One urgent flash at most, as in a building on a bad day.
//!
//! The generated pack is written beside the cache (`pack.json`, media by absolute path), so
//! it can also be published to a platform with [`crate::demo_publish::publish_pack`].

use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use palier_content::demo::{DemoPack, PACK_FILE};
use palier_content::{Cache, DataDir};
use serde_json::Value;

/// Writes a pack of `count` items into `dir/pack` from the demo pack in `demo_dir`.
pub fn write_pack(demo_dir: &Path, count: usize, dir: &Path) -> anyhow::Result<PathBuf> {
    let text = std::fs::read_to_string(demo_dir.join(PACK_FILE))
        .with_context(|| format!("reading {}", demo_dir.join(PACK_FILE).display()))?;
    let mut pack: Value = serde_json::from_str(&text)?;
    let templates: Vec<Value> = pack["items"].as_array().context("the demo pack has items")?.clone();
    let mut items = Vec::with_capacity(count);
    let mut urgent_taken = false;
    let mut n = 0usize;
    while items.len() < count {
        let mut item = templates[n % templates.len()].clone();
        n += 1;
        if item["severity"] == "urgent" {
            if urgent_taken {
                continue;
            }
            urgent_taken = true;
        }
        let number = items.len() + 1;
        let id = format!("{}-{number:03}", item["id"].as_str().unwrap_or("item"));
        item["id"] = Value::from(id.clone());
        let title = format!("{} · n° {number}", item["title"].as_str().unwrap_or(""));
        item["title"] = Value::from(title);
        if let Some(link) = item.get("link").and_then(Value::as_str) {
            item["link"] = Value::from(format!("{link}-{number}"));
        }
        if let Some(media) = item.get_mut("media").and_then(Value::as_array_mut) {
            for entry in media {
                if let Some(file) = entry["file"].as_str() {
                    entry["file"] = Value::from(demo_dir.join(file).to_string_lossy().into_owned());
                }
            }
        }
        items.push(item);
    }
    pack["items"] = Value::from(items);
    let pack_dir = dir.join("pack");
    std::fs::create_dir_all(&pack_dir)?;
    std::fs::write(pack_dir.join(PACK_FILE), serde_json::to_vec_pretty(&pack)?)?;
    Ok(pack_dir)
}

/// Writes a pack of `count` items and installs it into a fresh cache in `dir`, as arrived
/// an hour before `now`. Returns the cache's path.
pub fn install(demo_dir: &Path, count: usize, dir: &Path, now: Timestamp) -> anyhow::Result<PathBuf> {
    let pack_dir = write_pack(demo_dir, count, dir)?;
    let pack = DemoPack::load(&pack_dir, now)?;
    anyhow::ensure!(
        pack.manifest.items.len() == count && pack.manifest.quarantined.is_empty(),
        "the generated pack has {} valid items and {} quarantined, not {count}",
        pack.manifest.items.len(),
        pack.manifest.quarantined.len()
    );
    let data = DataDir::new(dir);
    let mut cache = Cache::open(&data.cache())?;
    pack.install(&mut cache, now - SignedDuration::from_hours(1))?;
    Ok(data.cache())
}

#[cfg(test)]
mod tests {
    use super::*;
    use palier_content::CacheReader;

    #[test]
    fn a_large_cache_installs_with_every_item_valid() {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo");
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::now();
        let cache = install(&demo, 60, dir.path(), now).unwrap();
        let snapshot = CacheReader::open(&cache).unwrap().snapshot().unwrap();
        assert_eq!(snapshot.items.len(), 60);
        assert_eq!(snapshot.items.iter().filter(|i| i.is_urgent()).count(), 1);
        assert!(snapshot.items.iter().any(|i| !i.media.is_empty()));
    }
}
