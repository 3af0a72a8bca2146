//! A slide as plain drawing data: rectangles, pictures, text boxes and QR codes in slide
//! pixels, built from an item, the screen's size and the time of day.
//!
//! No GPU and no window here, so every template is testable: what a template decides
//! (where the title goes, which colour the band is, what the date reads) is checked without
//! drawing. Sizes scale with the shorter side of the slide, so the same template serves a
//! 1080×1920 lift screen and a 1920×1080 lobby panel; portrait and landscape each get their
//! own arrangement. Themes are dark with bright, large type: behind a two-way mirror, black
//! reads as mirror.

mod templates;
pub mod theme;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use jiff::Zoned;
use palier_content::{Building, Item};

use crate::locale::Locale;

pub use templates::build;

/// A colour in sRGB with straight alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color(pub [u8; 4]);

impl Color {
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color([r, g, b, 255])
    }

    pub const fn with_alpha(self, a: u8) -> Color {
        Color([self.0[0], self.0[1], self.0[2], a])
    }
}

/// An axis-aligned rectangle in slide pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub const fn new(x: f32, y: f32, w: f32, h: f32) -> Rect {
        Rect { x, y, w, h }
    }

    pub fn right(&self) -> f32 {
        self.x + self.w
    }

    pub fn bottom(&self) -> f32 {
        self.y + self.h
    }

    /// The rectangle shrunk by `d` on every side.
    pub fn inset(&self, d: f32) -> Rect {
        Rect::new(self.x + d, self.y + d, (self.w - 2.0 * d).max(0.0), (self.h - 2.0 * d).max(0.0))
    }

    /// Splits off the top `h` pixels: (top, rest).
    pub fn split_top(&self, h: f32) -> (Rect, Rect) {
        let h = h.min(self.h);
        (Rect::new(self.x, self.y, self.w, h), Rect::new(self.x, self.y + h, self.w, self.h - h))
    }

    /// Splits off the left `w` pixels: (left, rest).
    pub fn split_left(&self, w: f32) -> (Rect, Rect) {
        let w = w.min(self.w);
        (Rect::new(self.x, self.y, w, self.h), Rect::new(self.x + w, self.y, self.w - w, self.h))
    }

    /// Splits off the bottom `h` pixels: (rest, bottom).
    pub fn split_bottom(&self, h: f32) -> (Rect, Rect) {
        let h = h.min(self.h);
        (Rect::new(self.x, self.y, self.w, self.h - h), Rect::new(self.x, self.bottom() - h, self.w, h))
    }

    pub fn contains(&self, other: &Rect) -> bool {
        const EPS: f32 = 0.5;
        other.x >= self.x - EPS
            && other.y >= self.y - EPS
            && other.right() <= self.right() + EPS
            && other.bottom() <= self.bottom() + EPS
    }

    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right() && other.x < self.right() && self.y < other.bottom() && other.y < self.bottom()
    }
}

/// What a slide is made of, drawn in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub background: Color,
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    Rect {
        rect: Rect,
        color: Color,
        radius: f32,
    },
    /// A picture scaled to cover `rect`, cropped around its centre.
    Image {
        rect: Rect,
        source: PathBuf,
        radius: f32,
    },
    Text(TextBox),
    /// A QR code: `modules` is `size`×`size`, row by row, true for dark. Drawn with a quiet
    /// zone of light colour inside `rect`.
    Qr {
        rect: Rect,
        size: usize,
        modules: Vec<bool>,
    },
    /// Texts stacked top-down in `rect`, `gap` apart: each starts where the one above ends.
    /// A text's `rect.h` is the most it may take; `rect.y` is set at layout.
    Column {
        rect: Rect,
        gap: f32,
        texts: Vec<TextBox>,
    },
}

/// Text that must fit its box: the largest size in `size_range` at which it fits within
/// `max_lines` lines, with an ellipsis when even the smallest size does not.
#[derive(Debug, Clone, PartialEq)]
pub struct TextBox {
    pub rect: Rect,
    pub text: String,
    pub size_range: (f32, f32),
    pub max_lines: usize,
    pub bold: bool,
    pub color: Color,
    pub align: Align,
    /// Where the text sits vertically when it is shorter than the box.
    pub valign: VAlign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VAlign {
    Top,
    Center,
    Bottom,
}

/// What a template needs besides the item.
#[derive(Debug, Clone)]
pub struct SlideContext<'a> {
    /// Slide size in pixels, after rotation.
    pub width: u32,
    pub height: u32,
    /// The instant the slide is drawn for, in the building's time zone (header clock,
    /// « aujourd'hui », « demain »).
    pub now: Zoned,
    pub locale: Locale,
    pub building: Option<&'a Building>,
    /// Fallback name when the cache holds no building yet.
    pub building_name: &'a str,
    /// Title of the urgent flash bannered along the slide, if any.
    pub banner: Option<&'a str>,
    /// Path of each of the item's media, in order; `None` where the file is missing.
    pub media_paths: Vec<Option<PathBuf>>,
    /// Background picture of the fallback slide.
    pub fallback_image: Option<PathBuf>,
}

/// What a slide shows.
#[derive(Debug, Clone, Copy)]
pub enum SlideContent<'a> {
    Item(&'a Item),
    Fallback,
}

impl Scene {
    /// Every text box, in drawing order, columns included.
    pub fn texts(&self) -> impl Iterator<Item = &TextBox> {
        self.elements.iter().flat_map(|e| match e {
            Element::Text(t) => std::slice::from_ref(t).iter(),
            Element::Column { texts, .. } => texts.iter(),
            _ => [].iter(),
        })
    }

    /// The bounding rectangle of each element.
    pub fn rects(&self) -> impl Iterator<Item = Rect> + '_ {
        self.elements.iter().map(|e| match e {
            Element::Rect { rect, .. }
            | Element::Image { rect, .. }
            | Element::Qr { rect, .. }
            | Element::Column { rect, .. } => *rect,
            Element::Text(t) => t.rect,
        })
    }
}
