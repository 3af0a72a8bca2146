//! Recently drawn screen thumbnails, kept a little while so a page of ten screens does not
//! draw ten at every visit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A drawn thumbnail stays this long before it is drawn again.
const THUMBNAIL_FRESH: Duration = Duration::from_secs(30);
/// The most thumbnails kept.
const THUMBNAILS_KEPT: usize = 64;

/// Recently drawn screens, so a page of ten screens does not draw ten at every visit.
#[derive(Debug, Default)]
pub struct Thumbnails {
    drawn: Mutex<HashMap<(String, String, u64), (Instant, Vec<u8>)>>,
}

impl Thumbnails {
    pub(super) fn get(&self, key: &(String, String, u64)) -> Option<Vec<u8>> {
        let drawn = self.drawn.lock().unwrap_or_else(|p| p.into_inner());
        drawn.get(key).filter(|(at, _)| at.elapsed() < THUMBNAIL_FRESH).map(|(_, png)| png.clone())
    }

    pub(super) fn put(&self, key: (String, String, u64), png: Vec<u8>) {
        let mut drawn = self.drawn.lock().unwrap_or_else(|p| p.into_inner());
        if drawn.len() >= THUMBNAILS_KEPT {
            drawn.retain(|_, (at, _)| at.elapsed() < THUMBNAIL_FRESH);
            if drawn.len() >= THUMBNAILS_KEPT {
                drawn.clear();
            }
        }
        drawn.insert(key, (Instant::now(), png));
    }
}
