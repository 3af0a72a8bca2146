//! Offscreen rendering for the `render`, `sheet` and `check` commands and the golden tests:
//! the same slide renderer and compositor as the windows, reading pixels back instead of
//! presenting them.

use jiff::{SignedDuration, Timestamp};
use palier_content::config::{BoardConfig, Rotation, ScreenConfig};

use crate::board::{Board, brightness, crossfade_progress, pictures};
use crate::playlist::{Playlist, Showing};
use crate::render::compose::{Compositor, Layer};
use crate::render::frame::compose_offscreen;
use crate::render::images::{DecodedImage, decode};
use crate::render::readback::ReadbackError;
use crate::render::{Gpu, SLIDE_FORMAT, SlideRenderer, SlideTexture};
use crate::scene::{Align, Color, Element, Rect, Scene, TextBox, VAlign};

/// Why an offscreen frame could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("no screen named {name:?}; this board has {known}")]
    UnknownScreen { name: String, known: String },
    #[error(transparent)]
    Readback(#[from] ReadbackError),
    #[error("writing the PNG file: {0}")]
    Png(#[from] png::EncodingError),
    #[error("writing the PNG file: {0}")]
    Write(#[from] std::io::Error),
}

/// A GPU device with the player's renderers, drawing offscreen.
#[derive(Debug)]
pub struct Headless {
    pub gpu: Gpu,
    renderer: SlideRenderer,
    compositor: Compositor,
}

impl Headless {
    pub fn new(gpu: Gpu) -> Headless {
        let renderer = SlideRenderer::new(&gpu);
        let compositor = Compositor::new(&gpu.device, SLIDE_FORMAT);
        Headless { gpu, renderer, compositor }
    }

    /// Decodes and uploads the pictures `scene` needs; returns those that failed.
    fn load_pictures(&mut self, scene: &Scene) -> Vec<(std::path::PathBuf, String)> {
        let max_side = scene.width.max(scene.height);
        let mut failed = Vec::new();
        for path in pictures(scene) {
            if self.renderer.has_picture(&path) {
                continue;
            }
            match decode(&path, max_side) {
                Ok(picture) => self.renderer.add_picture(&self.gpu, &picture),
                Err(e) => failed.push((path, e.to_string())),
            }
        }
        failed
    }

    /// Draws the slide of `showing` as it looks at `at`. An item whose picture fails to
    /// decode is marked unshowable and `None` comes back: the caller re-plans.
    fn slide(
        &mut self,
        board: &mut Board,
        screen: &ScreenConfig,
        showing: &Showing,
        at: Timestamp,
    ) -> Option<SlideTexture> {
        let scene = board.scene(screen, showing, at);
        let failed = self.load_pictures(&scene);
        if let Some((_, reason)) = failed.into_iter().next()
            && let Some(id) = showing.item_id()
        {
            board.mark_unshowable(id, reason);
            return None;
        }
        Some(self.renderer.draw(&self.gpu, &scene))
    }

    /// Exactly what `screen` shows at `at`: mid-crossfade if a transition is running, rotated
    /// and dimmed as on the panel. `rotate = false` gives the content the way residents read it.
    pub fn frame(
        &mut self,
        board: &mut Board,
        config: &BoardConfig,
        screen: &ScreenConfig,
        at: Timestamp,
        rotate: bool,
    ) -> Result<image::RgbaImage, HeadlessError> {
        let crossfade = SignedDuration::from_millis(i64::from(config.player.crossfade_ms));
        loop {
            let playlist = board.playlist(screen);
            let showing = playlist.showing_at(at);
            tracing::debug!(screen = %screen.name, ?showing, "showing");
            let Some(current) = self.slide(board, screen, &showing, at) else { continue };
            let progress = crossfade_progress(showing.start, at, crossfade);
            let previous = if progress < 1.0 {
                let before = playlist.showing_at(showing.start - SignedDuration::from_millis(1));
                match self.slide(board, screen, &before, at) {
                    Some(slide) => Some(slide),
                    None => continue,
                }
            } else {
                None
            };
            let current_binding = self.compositor.bind(&self.gpu.device, &current.texture);
            let previous_binding =
                previous.as_ref().map(|p| self.compositor.bind(&self.gpu.device, &p.texture));
            let mut layers = Vec::new();
            if let Some(binding) = &previous_binding {
                layers.push(Layer { slide: binding, opacity: 1.0 });
            }
            layers.push(Layer { slide: &current_binding, opacity: progress });
            let (size, rotation) = if rotate {
                ((screen.width, screen.height), screen.rotation)
            } else {
                (screen.content_size(), Rotation::R0)
            };
            let level = brightness(config.player.night.as_ref(), at, &board.tz);
            let frame = compose_offscreen(&self.gpu, &self.compositor, size, &layers, rotation, level)?;
            return Ok(frame);
        }
    }

    /// One showing, fully in (no crossfade), as residents read it: golden images and previews.
    pub fn showing_frame(
        &mut self,
        board: &mut Board,
        screen: &ScreenConfig,
        showing: &Showing,
        at: Timestamp,
    ) -> Result<Option<image::RgbaImage>, HeadlessError> {
        let Some(slide) = self.slide(board, screen, showing, at) else { return Ok(None) };
        let binding = self.compositor.bind(&self.gpu.device, &slide.texture);
        let layers = [Layer { slide: &binding, opacity: 1.0 }];
        let frame = compose_offscreen(
            &self.gpu,
            &self.compositor,
            screen.content_size(),
            &layers,
            Rotation::R0,
            1.0,
        )?;
        Ok(Some(frame))
    }

    /// Finds a screen by name.
    pub fn screen<'a>(config: &'a BoardConfig, name: &str) -> Result<&'a ScreenConfig, HeadlessError> {
        config.screens.iter().find(|s| s.name == name).ok_or_else(|| HeadlessError::UnknownScreen {
            name: name.to_owned(),
            known: config.screens.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// Writes a contact sheet as a PNG file to `out`: for each screen, one full rotation from
    /// `from`, each tile labelled with its instant and item. The sheet is drawn and written in
    /// bands of [`SHEET_BAND`] rows, each tile made just before the band that first shows it
    /// and dropped after the last: memory stays that of a few frames however long the sheet.
    /// Returns the sheet's size.
    pub fn write_sheet(
        &mut self,
        board: &mut Board,
        config: &BoardConfig,
        from: Timestamp,
        out: impl std::io::Write,
    ) -> Result<(u32, u32), HeadlessError> {
        let layout = sheet_layout(board, config, from);
        let (width, height) = (SHEET_WIDTH as u32, layout.height);
        let mut encoder = png::Encoder::new(out, width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        let mut rows = writer.stream_writer()?;
        let mut pending = layout.tiles.iter().peekable();
        let mut made: Vec<&SheetTile> = Vec::new();
        let mut top = 0;
        while top < height {
            let band = SHEET_BAND.min(height - top);
            let bottom = (top + band) as f32;
            // The tiles this band shows that are not made yet.
            while let Some(tile) = pending.next_if(|t| t.rect.y < bottom) {
                self.make_tile(board, config, tile)?;
                made.push(tile);
            }
            let elements = layout
                .elements
                .iter()
                .chain(made.iter().map(|t| &t.image))
                .filter(|e| overlaps(e, top as f32, bottom))
                .map(|e| shifted(e, -(top as f32)))
                .collect();
            let scene = Scene { width, height: band, background: SHEET_BACKGROUND, elements };
            let slide = self.renderer.draw(&self.gpu, &scene);
            let pixels = crate::render::readback::read_rgba(&self.gpu, &slide.texture)?;
            std::io::Write::write_all(&mut rows, pixels.as_raw())?;
            // Tiles wholly above the next band are done with.
            made.retain(|t| {
                let keep = t.rect.bottom() > bottom;
                if !keep {
                    let name = t.name.clone();
                    self.renderer.retain_pictures(|path| path != name.as_path());
                }
                keep
            });
            top += band;
        }
        rows.finish()?;
        Ok((width, height))
    }

    /// Draws one tile's frame and uploads it, shrunk, under the tile's name.
    fn make_tile(
        &mut self,
        board: &mut Board,
        config: &BoardConfig,
        tile: &SheetTile,
    ) -> Result<(), HeadlessError> {
        let screen = &config.screens[tile.screen];
        let frame = self.frame(board, config, screen, tile.at, false)?;
        let small = image::imageops::resize(
            &frame,
            tile.rect.w as u32,
            tile.rect.h as u32,
            image::imageops::FilterType::Triangle,
        );
        let picture = DecodedImage {
            path: tile.name.clone(),
            width: small.width(),
            height: small.height(),
            rgba: small.into_raw(),
        };
        self.renderer.add_picture(&self.gpu, &picture);
        // The screen's own pictures are decoded again for a later tile if needed: a sheet of a
        // large cache must not hold every photo at once.
        self.renderer.retain_pictures(|path| path.to_string_lossy().starts_with(SHEET_TILE_PREFIX));
        Ok(())
    }
}

/// Rows of a contact sheet drawn and written at a time.
pub const SHEET_BAND: u32 = 512;
const SHEET_WIDTH: f32 = 3000.0;
const SHEET_BACKGROUND: Color = Color::rgb(28, 30, 36);
const SHEET_TILE_PREFIX: &str = "sheet-tile-";

/// A contact sheet laid out: text elements, and the tiles to draw.
struct SheetLayout {
    elements: Vec<Element>,
    tiles: Vec<SheetTile>,
    height: u32,
}

/// One tile of a contact sheet: which screen at which instant, where, and its picture's name.
struct SheetTile {
    screen: usize,
    at: Timestamp,
    rect: Rect,
    name: std::path::PathBuf,
    image: Element,
}

/// Lays a contact sheet out: a heading per screen, then its tiles in rows, each labelled.
fn sheet_layout(board: &Board, config: &BoardConfig, from: Timestamp) -> SheetLayout {
    const TILE_LONG: f32 = 360.0;
    const GAP: f32 = 24.0;
    const LABEL: f32 = 60.0;
    const HEADING: f32 = 64.0;
    const MAX_TILES: usize = 60;
    let mut elements = Vec::new();
    let mut tiles = Vec::new();
    let mut y = GAP;
    for (screen_index, screen) in config.screens.iter().enumerate() {
        let playlist = board.playlist(screen);
        let showings = one_rotation(&playlist, from, MAX_TILES);
        let (cw, ch) = screen.content_size();
        let scale = TILE_LONG / cw.max(ch) as f32;
        let (tw, th) = ((cw as f32 * scale).floor(), (ch as f32 * scale).floor());
        let heading = format!(
            "{} · rôle {} · {}×{} · {} diapositives, {} s",
            screen.name,
            screen.role,
            cw,
            ch,
            showings.len(),
            showings.iter().map(|s| s.duration().as_secs()).sum::<i64>()
        );
        elements.push(text(Rect::new(GAP, y, SHEET_WIDTH - 2.0 * GAP, HEADING), &heading, 40.0, true));
        y += HEADING;
        let mut x = GAP;
        let crossfade = SignedDuration::from_millis(i64::from(config.player.crossfade_ms));
        let id_chars = (tw / (LABEL_SIZE * 0.55)) as usize;
        for showing in &showings {
            if x + tw > SHEET_WIDTH - GAP {
                x = GAP;
                y += th + LABEL + GAP;
            }
            let at = tile_instant(showing, crossfade);
            let rect = Rect::new(x, y, tw, th);
            let name = std::path::PathBuf::from(format!("{SHEET_TILE_PREFIX}{}", tiles.len()));
            let image = Element::Image { rect, source: name.clone(), radius: 6.0 };
            tiles.push(SheetTile { screen: screen_index, at, rect, name, image });
            let label = tile_label(at, &board.tz, showing.item_id().unwrap_or("fallback"), id_chars);
            let mut label_box = text(Rect::new(x, y + th + 4.0, tw, LABEL - 4.0), &label, LABEL_SIZE, false);
            if let Element::Text(text) = &mut label_box {
                text.max_lines = 2;
            }
            elements.push(label_box);
            x += tw + GAP;
        }
        y += th + LABEL + GAP * 2.0;
    }
    SheetLayout { elements, tiles, height: y as u32 }
}

/// The vertical extent of a sheet element.
fn extent(element: &Element) -> (f32, f32) {
    let rect = match element {
        Element::Rect { rect, .. } | Element::Image { rect, .. } | Element::Qr { rect, .. } => rect,
        Element::Text(text) => &text.rect,
        Element::Column { rect, .. } => rect,
    };
    (rect.y, rect.bottom())
}

fn overlaps(element: &Element, top: f32, bottom: f32) -> bool {
    let (y0, y1) = extent(element);
    y0 < bottom && y1 > top
}

/// `element` moved down by `dy`.
fn shifted(element: &Element, dy: f32) -> Element {
    let mut moved = element.clone();
    match &mut moved {
        Element::Rect { rect, .. } | Element::Image { rect, .. } | Element::Qr { rect, .. } => rect.y += dy,
        Element::Text(text) => text.rect.y += dy,
        Element::Column { rect, texts, .. } => {
            rect.y += dy;
            for text in texts {
                text.rect.y += dy;
            }
        }
    }
    moved
}

/// The size of a tile's label.
const LABEL_SIZE: f32 = 22.0;

/// The instant a contact-sheet tile shows: the first whole second after the slide's
/// crossfade, so the label (to the second) names exactly the instant drawn, and
/// `render --at` of that label draws the same picture. A showing too short for that keeps
/// its crossfade's end, to the millisecond.
pub fn tile_instant(showing: &Showing, crossfade: SignedDuration) -> Timestamp {
    let settled = showing.start + crossfade;
    let second = Timestamp::from_second(settled.as_second() + i64::from(settled.subsec_nanosecond() > 0))
        .unwrap_or(settled);
    if second < showing.end { second } else { settled.min(showing.end - SignedDuration::from_millis(1)) }
}

/// A tile's label: the instant drawn in the building's zone (with milliseconds only when not
/// on a whole second), then the item id shortened in its middle to `max_chars`.
pub fn tile_label(at: Timestamp, tz: &jiff::tz::TimeZone, id: &str, max_chars: usize) -> String {
    let local = at.to_zoned(tz.clone());
    let time = if at.subsec_nanosecond() == 0 {
        local.strftime("%H:%M:%S").to_string()
    } else {
        local.strftime("%H:%M:%S%.3f").to_string()
    };
    format!("{time}\n{}", shorten_middle(id, max_chars))
}

/// `promo-fleuriste-dahlia-013` → `promo-fl…ia-013`: both ends stay readable.
pub fn shorten_middle(text: &str, max_chars: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max_chars || max_chars < 3 {
        return text.to_owned();
    }
    let keep = max_chars - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

fn text(rect: Rect, text: &str, size: f32, bold: bool) -> Element {
    Element::Text(TextBox {
        rect,
        text: text.to_owned(),
        size_range: (size, size * 0.6),
        max_lines: 1,
        bold,
        color: Color::rgb(235, 238, 245),
        align: Align::Left,
        valign: VAlign::Top,
    })
}

/// The showings of one full rotation from `from`: slides until the rotation's own time (urgent
/// flashes aside) covers its cycle, and at least a minute so urgent flashes appear; at most
/// `max` of them, and the fallback slide once.
pub fn one_rotation(playlist: &Playlist, from: Timestamp, max: usize) -> Vec<Showing> {
    let cycle = playlist.cycle_length(from);
    let minute = from + SignedDuration::from_secs(60);
    let mut rotation_time = SignedDuration::ZERO;
    let mut showings: Vec<Showing> = Vec::new();
    let mut t = from;
    while (rotation_time < cycle || t < minute) && showings.len() < max {
        let showing = playlist.showing_at(t);
        t = showing.end;
        if showing.item_id().is_none() && showings.iter().any(|s| s.item_id().is_none()) {
            continue;
        }
        if showing.trigger != palier_content::wire::PlayTrigger::Preempt {
            rotation_time += showing.duration();
        }
        showings.push(showing);
    }
    showings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_ids_keep_both_ends() {
        assert_eq!(shorten_middle("promo-fleuriste-dahlia-013", 16), "promo-fl…lia-013");
        assert_eq!(shorten_middle("flash-eau", 16), "flash-eau");
        assert_eq!(shorten_middle("abcdefghij", 5), "ab…ij");
        assert_eq!(shorten_middle("abcdefghij", 6), "abc…ij");
    }
}
