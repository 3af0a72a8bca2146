//! Slide textures of a running player: drawn ahead of time, kept while on screen, dropped
//! after.
//!
//! A slide is drawn once per key: the screen, what it shows, its banner, the minute on its
//! clock and the cache generation. Pictures are decoded on the worker thread as soon as the
//! next slide is known, so drawing it never waits on a decoder during a transition.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use jiff::Timestamp;
use palier_content::config::ScreenConfig;

use crate::board::{Board, pictures};
use crate::playlist::{Showing, SlideRef};
use crate::render::images::{ImageLoader, decode};
use crate::render::{Gpu, SlideRenderer, SlideTexture};

/// What makes two drawings of a slide identical.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlideKey {
    pub screen: usize,
    pub slide: SlideRef,
    pub banner: Option<String>,
    /// Minutes since the epoch: the header clock.
    pub minute: i64,
    pub generation: u64,
}

impl SlideKey {
    pub fn new(screen: usize, showing: &Showing, at: Timestamp, generation: u64) -> SlideKey {
        SlideKey {
            screen,
            slide: showing.slide.clone(),
            banner: showing.banner.clone(),
            minute: at.as_second().div_euclid(60),
            generation,
        }
    }
}

/// An item whose picture would not decode.
#[derive(Debug, Clone)]
pub struct Unshowable {
    pub item: String,
    pub reason: String,
}

/// Drawn slides and the picture pipeline feeding them.
#[derive(Debug)]
pub struct SlideStore {
    pub renderer: SlideRenderer,
    slides: HashMap<SlideKey, SlideTexture>,
    loader: ImageLoader,
    requested: HashSet<PathBuf>,
    failed: HashMap<PathBuf, String>,
}

impl SlideStore {
    /// `wake` runs on the decoder thread after each picture, to wake the event loop.
    pub fn new(gpu: &Gpu, wake: impl Fn() + Send + 'static) -> SlideStore {
        SlideStore {
            renderer: SlideRenderer::new(gpu),
            slides: HashMap::new(),
            loader: ImageLoader::start(wake),
            requested: HashSet::new(),
            failed: HashMap::new(),
        }
    }

    /// Starts decoding the pictures of `showing` in the background.
    pub fn prefetch(&mut self, board: &Board, screen: &ScreenConfig, showing: &Showing, at: Timestamp) {
        let scene = board.scene(screen, showing, at);
        let max_side = scene.width.max(scene.height);
        for path in pictures(&scene) {
            if !self.renderer.has_picture(&path) && self.requested.insert(path.clone()) {
                self.loader.request(path, max_side);
            }
        }
    }

    /// Uploads pictures the worker finished.
    pub fn receive(&mut self, gpu: &Gpu) {
        for result in self.loader.ready() {
            match result {
                Ok(picture) => {
                    self.requested.remove(&picture.path);
                    self.renderer.add_picture(gpu, &picture);
                }
                Err(e) => {
                    let path = match &e {
                        crate::render::images::ImageError::Unreadable { path, .. }
                        | crate::render::images::ImageError::TooLarge { path, .. } => path.clone(),
                    };
                    self.requested.remove(&path);
                    self.failed.insert(path, e.to_string());
                }
            }
        }
    }

    pub fn get(&self, key: &SlideKey) -> Option<&SlideTexture> {
        self.slides.get(key)
    }

    /// Draws the slide for `key` unless it is drawn already. Pictures not decoded yet are
    /// decoded here (a slide that could not be prepared ahead); an item whose picture fails
    /// comes back as unshowable.
    pub fn ensure(
        &mut self,
        gpu: &Gpu,
        board: &Board,
        screen: &ScreenConfig,
        showing: &Showing,
        key: &SlideKey,
        at: Timestamp,
    ) -> Result<&SlideTexture, Unshowable> {
        if !self.slides.contains_key(key) {
            let scene = board.scene(screen, showing, at);
            let max_side = scene.width.max(scene.height);
            for path in pictures(&scene) {
                if self.renderer.has_picture(&path) {
                    continue;
                }
                let failure = match self.failed.get(&path) {
                    Some(reason) => Some(reason.clone()),
                    None => match decode(&path, max_side) {
                        Ok(picture) => {
                            self.renderer.add_picture(gpu, &picture);
                            None
                        }
                        Err(e) => Some(e.to_string()),
                    },
                };
                if let (Some(reason), Some(item)) = (failure, showing.item_id()) {
                    return Err(Unshowable { item: item.to_owned(), reason });
                }
            }
            let texture = self.renderer.draw(gpu, &scene);
            self.slides.insert(key.clone(), texture);
        }
        Ok(&self.slides[key])
    }

    /// Keeps only the slides in `keep`, and the pictures they may still need.
    pub fn retain(&mut self, keep: &HashSet<SlideKey>) {
        self.slides.retain(|key, _| keep.contains(key));
    }

    /// Drops pictures no longer referenced by `board` (after new content).
    pub fn forget_pictures_not_in(&mut self, board: &Board) {
        let wanted: HashSet<PathBuf> = board
            .snapshot
            .items
            .iter()
            .flat_map(|item| item.media.iter().map(|m| board.snapshot.display_path(m)))
            .chain([board.fallback_image.clone()])
            .collect();
        self.renderer.retain_pictures(|path| wanted.contains(path));
        self.failed.retain(|path, _| wanted.contains(path));
    }
}
