//! Publishes the bundled demo pack to a platform through its publishing API, the way the
//! landlord, the shops and the neighbourhood app would: each picture uploaded once
//! (`POST /v1/publish/media`), then each item (`POST /v1/publish/items`) by the publisher
//! whose channel it is on. A board that syncs from that platform then holds the same
//! content as `palier-player --demo`.
//!
//! The pack is loaded with [`DemoPack::load`] (relative instants resolved against `now`,
//! pictures addressed by sha256) and each item is turned back into a publication: the
//! platform assigns versions, and an offer's author travels as `author` (a `person_id`
//! derived from the first name, since the pack has none).

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use jiff::Timestamp;
use palier_content::Channel;
use palier_content::demo::DemoPack;
use serde_json::{Value, json};

/// A token per publishing role; an item is published by the one of its channel.
#[derive(Debug, Clone)]
pub struct Publishers {
    pub landlord: String,
    pub shop: String,
    pub neighbourhood: String,
}

impl Publishers {
    fn for_channel(&self, channel: Channel) -> &str {
        match channel {
            Channel::Building => &self.landlord,
            Channel::Shops => &self.shop,
            Channel::Neighbourhood => &self.neighbourhood,
        }
    }
}

/// What was published.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub items: Vec<String>,
    pub media: usize,
    pub media_bytes: u64,
}

/// Publishes `pack_dir` (the demo pack, or any pack in its format) to the platform at
/// `base_url` (e.g. `http://127.0.0.1:8080`).
pub fn publish_pack(
    base_url: &str,
    publishers: &Publishers,
    pack_dir: &Path,
    now: Timestamp,
) -> anyhow::Result<Published> {
    let pack = DemoPack::load(pack_dir, now)?;
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let base = base_url.trim_end_matches('/');
    let mut published = Published::default();
    let mut uploaded = HashSet::new();
    // The platform stores what it normalised, which need not be the pack's bytes: items
    // name the address it answered.
    let mut stored: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for item in &pack.manifest.items {
        let token = publishers.for_channel(item.channel);
        for media in &item.media {
            if !uploaded.insert(media.sha256.clone()) {
                continue;
            }
            let (_, path) =
                pack.media_files.iter().find(|(sha, _)| *sha == media.sha256).with_context(|| {
                    format!("item {}: picture {} is not in the pack", item.id, media.sha256)
                })?;
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            published.media_bytes += bytes.len() as u64;
            let response = http
                .post(format!("{base}/v1/publish/media"))
                .bearer_auth(token)
                .header("content-type", media.mime.as_str())
                .body(bytes)
                .send()
                .with_context(|| format!("uploading {}", path.display()))?;
            if !response.status().is_success() {
                bail!(
                    "uploading {}: {} {}",
                    path.display(),
                    response.status(),
                    response.text().unwrap_or_default()
                );
            }
            let answer: Value = response.json().context("the upload's answer")?;
            let address = answer["sha256"].as_str().context("the upload's address")?.to_owned();
            stored.insert(media.sha256.clone(), address);
            published.media += 1;
        }
        let mut body = publication(serde_json::to_value(item)?);
        if let Some(pictures) = body.get_mut("media").and_then(Value::as_array_mut) {
            for picture in pictures {
                let pack_address = picture["sha256"].as_str().unwrap_or_default().to_owned();
                if let Some(address) = stored.get(&pack_address) {
                    // The platform fills in size and dimensions from what it stored.
                    let credit = picture.get("credit").cloned();
                    *picture = serde_json::json!({"sha256": address});
                    if let Some(credit) = credit {
                        picture["credit"] = credit;
                    }
                }
            }
        }
        let response = http
            .post(format!("{base}/v1/publish/items"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .with_context(|| format!("publishing {}", item.id))?;
        if !response.status().is_success() {
            bail!("publishing {}: {} {}", item.id, response.status(), response.text().unwrap_or_default());
        }
        published.items.push(item.id.clone());
    }
    Ok(published)
}

/// An item as a device receives it, turned into what a publisher posts.
fn publication(mut item: Value) -> Value {
    let Some(fields) = item.as_object_mut() else { return item };
    fields.remove("version");
    if fields.get("kind").and_then(Value::as_str) == Some("offer") {
        let first_name = fields.remove("author_first_name").unwrap_or(Value::Null);
        let building = fields.remove("author_building").unwrap_or(Value::Null);
        let person = first_name.as_str().unwrap_or("voisin").to_lowercase();
        let person: String =
            person.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        fields.insert(
            "author".to_owned(),
            json!({"person_id": format!("demo-{person}"), "first_name": first_name, "building": building}),
        );
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_carry_their_author_and_no_version() {
        let item = json!({"id": "o", "version": 3, "kind": "offer", "author_first_name": "Léa",
            "author_building": "Bâtiment C", "title": "t"});
        let body = publication(item);
        assert!(body.get("version").is_none() && body.get("author_first_name").is_none());
        assert_eq!(body["author"]["person_id"], "demo-l-a");
        assert_eq!(body["author"]["first_name"], "Léa");
        assert_eq!(body["author"]["building"], "Bâtiment C");
        let flash = publication(json!({"id": "f", "version": 1, "kind": "flash", "title": "t"}));
        assert_eq!(flash, json!({"id": "f", "kind": "flash", "title": "t"}));
    }
}
