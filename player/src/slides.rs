//! Slide textures of a running player: drawn ahead of time, kept while on screen, dropped
//! after.
//!
//! A slide is drawn once per key: the screen, what it shows, its banner, the minute on its
//! clock and the cache generation. Pictures are decoded on the worker thread as soon as the
//! next slide is known, so drawing it never waits on a decoder during a transition. Decoded
//! pictures are kept only until the slides that need them are drawn: a board with hundreds
//! of photos holds a few at a time, and a slide redrawn later (its clock's minute turned) has
//! its pictures decoded again.

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
    /// Each drawn slide, with the pictures it was drawn from.
    slides: HashMap<SlideKey, (SlideTexture, Vec<PathBuf>)>,
    /// The pictures of each screen's next slide, by screen name.
    upcoming: HashMap<String, Vec<PathBuf>>,
    loader: ImageLoader,
    requested: HashSet<PathBuf>,
    failed: HashMap<PathBuf, String>,
}

impl SlideStore {
    /// Slides kept in `format` (8-bit, not sRGB: the surface's); `wake` runs on the decoder
    /// thread after each picture, to wake the event loop.
    pub fn new(gpu: &Gpu, format: wgpu::TextureFormat, wake: impl Fn() + Send + 'static) -> SlideStore {
        SlideStore {
            renderer: SlideRenderer::keeping(gpu, format),
            slides: HashMap::new(),
            upcoming: HashMap::new(),
            loader: ImageLoader::start(wake),
            requested: HashSet::new(),
            failed: HashMap::new(),
        }
    }

    /// Starts decoding the pictures of `showing` in the background.
    pub fn prefetch(&mut self, board: &Board, screen: &ScreenConfig, showing: &Showing, at: Timestamp) {
        let scene = board.scene(screen, showing, at);
        let max_side = scene.width.max(scene.height);
        let wanted = pictures(&scene);
        for path in &wanted {
            if !self.renderer.has_picture(path) && self.requested.insert(path.clone()) {
                self.loader.request(path.clone(), max_side);
            }
        }
        self.upcoming.insert(screen.name.clone(), wanted);
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
        self.slides.get(key).map(|(slide, _)| slide)
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
            let used = pictures(&scene);
            for path in used.iter().cloned() {
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
            self.slides.insert(key.clone(), (texture, used));
        }
        Ok(&self.slides[key].0)
    }

    /// Keeps only the slides in `keep`, and the pictures of the screens' next slides not
    /// drawn yet.
    pub fn retain(&mut self, keep: &HashSet<SlideKey>) {
        self.slides.retain(|key, _| keep.contains(key));
        let drawn: HashSet<&PathBuf> = self.slides.values().flat_map(|(_, used)| used).collect();
        self.upcoming.retain(|_, pictures| !pictures.iter().all(|p| drawn.contains(p)));
        let wanted: HashSet<&PathBuf> = self.upcoming.values().flatten().collect();
        self.renderer.retain_pictures(|path| wanted.contains(&path.to_path_buf()));
    }

    /// How many slides and decoded pictures are held (for tests and logs).
    pub fn held(&self) -> (usize, usize) {
        (self.slides.len(), self.renderer.picture_count())
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
