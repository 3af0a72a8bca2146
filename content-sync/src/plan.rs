//! What a sync round must do to the media directory, decided by pure functions.
//!
//! [`plan`] compares the manifest's kept items with what `media/` holds and says which
//! pictures to download, which are already there, and which display renditions to make.
//! [`garbage`] says, after the apply, which files no cached item needs any more. Neither
//! touches the disk: [`MediaListing`] is read by the caller, so both are table-tested.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use palier_content::{Item, MediaRef};

/// A `.partial` file older than this is abandoned and collected.
pub const STALE_PARTIAL: SignedDuration = SignedDuration::from_hours(24);

/// A temporary file older than this is abandoned even if a process of its writer's id runs
/// (the id may have been reused after a restart); a write takes milliseconds.
pub const STALE_TEMPORARY: SignedDuration = SignedDuration::from_hours(1);

/// What `media/` holds, by kind of file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaListing {
    /// Verified pictures, `media/<sha256>`.
    pub media: HashSet<String>,
    /// Display renditions, `media/<sha256>.display`, by sha256.
    pub renditions: HashSet<String>,
    /// Interrupted downloads, `media/<sha256>.partial`: sha256 and last modification.
    pub partials: Vec<(String, Timestamp)>,
    /// Files being written before their rename (`.<name>.<pid>.tmp`): left behind for good
    /// when their writer was killed.
    pub temporaries: Vec<Temporary>,
}

/// A temporary file of `media/` and whether its writer may still be at work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Temporary {
    pub name: String,
    /// Whether a process with the writer's id runs (the caller looks in `/proc`).
    pub writer_running: bool,
    pub modified: Timestamp,
}

/// One file of `media/`, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaFile {
    Media(String),
    Rendition(String),
    Partial(String),
    /// `.<name>.<pid>.tmp`, written by the process `pid` before its rename.
    Temporary {
        pid: u32,
    },
    /// Anything else (a marker): never touched by the collector.
    Other,
}

impl MediaFile {
    pub fn classify(name: &str) -> MediaFile {
        if let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp"))
            && let Some((_, pid)) = inner.rsplit_once('.')
            && let Ok(pid) = pid.parse()
        {
            return MediaFile::Temporary { pid };
        }
        let (stem, extension) = match name.split_once('.') {
            Some((stem, extension)) => (stem, Some(extension)),
            None => (name, None),
        };
        if !is_sha256(stem) {
            return MediaFile::Other;
        }
        match extension {
            None => MediaFile::Media(stem.to_owned()),
            Some("display") => MediaFile::Rendition(stem.to_owned()),
            Some("partial") => MediaFile::Partial(stem.to_owned()),
            Some(_) => MediaFile::Other,
        }
    }
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The media work of one round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Pictures to fetch, each once, in manifest order.
    pub downloads: Vec<MediaRef>,
    /// Pictures already verified on disk.
    pub present: Vec<String>,
    /// Pictures larger than the screens that need a (new) display rendition, in manifest
    /// order; some of them are in `downloads` too.
    pub renditions: Vec<MediaRef>,
}

/// Does `media` need a smaller copy for screens whose largest side is `display_side`?
pub fn needs_rendition(media: &MediaRef, display_side: u32) -> bool {
    media.width.max(media.height) > display_side
}

/// The media work for `items`. `renditions_current` is false when the renditions on disk
/// were made for another screen size: then every needed one is made again.
pub fn plan(items: &[Item], listing: &MediaListing, display_side: u32, renditions_current: bool) -> Plan {
    let mut seen = HashSet::new();
    let mut plan = Plan::default();
    for media in items.iter().flat_map(|item| &item.media) {
        if !seen.insert(media.sha256.as_str()) {
            continue;
        }
        let present = listing.media.contains(&media.sha256);
        if present {
            plan.present.push(media.sha256.clone());
        } else {
            plan.downloads.push(media.clone());
        }
        // A rendition left without its picture is not trusted: made again after the download.
        let rendition_ok = present && renditions_current && listing.renditions.contains(&media.sha256);
        if needs_rendition(media, display_side) && !rendition_ok {
            plan.renditions.push(media.clone());
        }
    }
    plan
}

/// File names in `media/` to delete once the cache references only `referenced`: pictures
/// nobody uses, renditions of those or of pictures that no longer need one, and partial
/// downloads of pictures the platform's manifest no longer `wanted` (a later version of an
/// item replaced them) or older than [`STALE_PARTIAL`], and temporary files whose writer is
/// gone (killed mid-write) or older than [`STALE_TEMPORARY`]. A partial the manifest still
/// wants is kept for the next round to resume.
pub fn garbage(
    listing: &MediaListing,
    referenced: &[MediaRef],
    wanted: &HashSet<String>,
    display_side: u32,
    now: Timestamp,
) -> Vec<String> {
    let used: HashSet<&str> = referenced.iter().map(|m| m.sha256.as_str()).collect();
    let scaled: HashSet<&str> =
        referenced.iter().filter(|m| needs_rendition(m, display_side)).map(|m| m.sha256.as_str()).collect();
    let mut names: Vec<String> = listing
        .media
        .iter()
        .filter(|sha| !used.contains(sha.as_str()))
        .cloned()
        .chain(
            listing
                .renditions
                .iter()
                .filter(|sha| !scaled.contains(sha.as_str()))
                .map(|sha| format!("{sha}.display")),
        )
        .chain(
            listing
                .partials
                .iter()
                .filter(|(sha, modified)| {
                    !wanted.contains(sha) || now.duration_since(*modified) > STALE_PARTIAL
                })
                .map(|(sha, _)| format!("{sha}.partial")),
        )
        .chain(
            listing
                .temporaries
                .iter()
                .filter(|t| !t.writer_running || now.duration_since(t.modified) > STALE_TEMPORARY)
                .map(|t| t.name.clone()),
        )
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests;
