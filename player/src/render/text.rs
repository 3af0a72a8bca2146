//! Text: the bundled fonts, auto-fit layout, and drawing through glyphon.
//!
//! Fonts ship inside the binary and are loaded by name at start; the system font directory
//! is never scanned. Inter draws Latin, Greek and Cyrillic (French, Portuguese, Turkish,
//! Russian…); bundled Noto fonts draw Arabic, Tamil and emoji (monochrome), and shaping lays
//! out right-to-left and mixed lines; Chinese, Japanese and Korean come from one Debian font
//! file at a known path when the board has it (`fonts-droid-fallback`: 4 MB, too large to
//! bundle), mapped rather than read. A character no font covers becomes a visible « (?) »
//! and is logged once, never a row of empty boxes.
//!
//! Layout picks the largest size in a box's range at which the text fits its width, its line
//! limit and its height; when even the smallest size does not fit, the text is cut at a word
//! with an ellipsis. Glyphs are clipped to their box whatever happens, so no text ever
//! overflows. Paragraphs start on their own side: an Arabic one at the right.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use glyphon::cosmic_text::Align as CosmicAlign;
use glyphon::{Attrs, Buffer, Family, FontSystem, Metrics, Shaping, SwashCache, Weight, Wrap, fontdb};

use crate::scene::{Align, TextBox, VAlign};

/// The family every template uses.
pub const FAMILY: &str = "Inter";
const REGULAR: &[u8] = include_bytes!("../../../assets/fonts/Inter-Regular.otf");
const BOLD: &[u8] = include_bytes!("../../../assets/fonts/Inter-Bold.otf");
/// Fallbacks for the scripts Inter lacks, bundled (see assets/README.md).
const FALLBACKS: [&[u8]; 5] = [
    include_bytes!("../../../assets/fonts/NotoSansArabic-Regular.ttf"),
    include_bytes!("../../../assets/fonts/NotoSansArabic-Bold.ttf"),
    include_bytes!("../../../assets/fonts/NotoSansTamil-Regular.ttf"),
    include_bytes!("../../../assets/fonts/NotoSansTamil-Bold.ttf"),
    include_bytes!("../../../assets/fonts/NotoEmoji-Regular.ttf"),
];
/// Chinese, Japanese and Korean from the board's Debian fonts: the first of these files
/// that exists (by exact path: nothing is scanned).
pub const SYSTEM_CJK: [&str; 2] = [
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
];
const ELLIPSIS: char = '…';
/// What stands for characters no font has.
pub const PLACEHOLDER: &str = "(?)";

/// Fonts and shaping caches.
#[derive(Debug)]
pub struct TextEngine {
    pub font_system: FontSystem,
    pub swash: SwashCache,
    /// Characters already reported as having no glyph.
    reported: HashSet<char>,
}

impl Default for TextEngine {
    fn default() -> Self {
        TextEngine::new()
    }
}

/// A text box after fitting: the shaped buffer and where it goes.
#[derive(Debug)]
pub struct LaidOutText {
    pub buffer: Buffer,
    /// Top-left corner of the text in slide pixels.
    pub left: f32,
    pub top: f32,
    /// The box: glyphs outside it are clipped.
    pub clip: crate::scene::Rect,
    pub font_size: f32,
    pub lines: usize,
    pub height: f32,
    pub truncated: bool,
}

impl TextEngine {
    pub fn new() -> TextEngine {
        TextEngine::with_system_cjk(SYSTEM_CJK.iter().map(Path::new).find(|p| p.is_file()))
    }

    /// The bundled fonts, and a CJK font file when given (tests choose).
    pub fn with_system_cjk(cjk: Option<&Path>) -> TextEngine {
        let mut db = fontdb::Database::new();
        // The bundled fonts are used from the binary itself, not copied.
        for data in [REGULAR, BOLD].into_iter().chain(FALLBACKS) {
            db.load_font_source(fontdb::Source::Binary(Arc::new(data)));
        }
        if let Some(path) = cjk {
            // Mapped from the file, so its pages are shared and loaded only when used.
            db.load_font_source(fontdb::Source::File(path.to_path_buf()));
            tracing::debug!(font = %path.display(), "CJK font");
        }
        db.set_sans_serif_family(FAMILY);
        TextEngine {
            font_system: FontSystem::new_with_locale_and_db("fr-FR".to_owned(), db),
            swash: SwashCache::new(),
            reported: HashSet::new(),
        }
    }

    /// `text` with each run of characters that no font draws replaced by [`PLACEHOLDER`];
    /// each such character is logged once.
    pub fn visible<'a>(&mut self, text: &'a str) -> Cow<'a, str> {
        let mut buffer = Buffer::new_empty(Metrics::new(32.0, 40.0));
        let attrs = Attrs::new().family(Family::Name(FAMILY));
        buffer.set_text(text, &attrs, Shaping::Advanced, None);
        buffer.set_size(None, None);
        buffer.shape_until_scroll(&mut self.font_system, false);
        let mut missing: HashSet<char> = HashSet::new();
        for line in &buffer.lines {
            let Some(layout) = line.layout_opt() else { continue };
            for glyph in layout.iter().flat_map(|l| l.glyphs.iter()) {
                if glyph.glyph_id == 0 {
                    missing.extend(line.text()[glyph.start..glyph.end].chars().filter(|c| !ignorable(*c)));
                }
            }
        }
        if missing.is_empty() {
            return Cow::Borrowed(text);
        }
        for c in &missing {
            if self.reported.insert(*c) {
                tracing::warn!(character = %c.escape_unicode(), "no font draws this character; shown as {PLACEHOLDER}");
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut in_run = false;
        for c in text.chars() {
            if missing.contains(&c) {
                if !in_run {
                    out.push_str(PLACEHOLDER);
                }
                in_run = true;
            } else {
                in_run = in_run && ignorable(c);
                if !in_run || !ignorable(c) {
                    out.push(c);
                }
            }
        }
        Cow::Owned(out)
    }

    /// Fits `text_box`: the largest size that fits, else the smallest with an ellipsis.
    pub fn layout(&mut self, text_box: &TextBox) -> LaidOutText {
        let visible = self.visible(&text_box.text);
        if let Cow::Owned(text) = visible {
            return self.layout(&TextBox { text, ..text_box.clone() });
        }
        let (max_size, min_size) = text_box.size_range;
        let mut buffer = Buffer::new_empty(Metrics::new(max_size, max_size * 1.2));
        buffer.set_wrap(Wrap::WordOrGlyph);
        // Binary search on whole pixels: the largest size whose layout fits.
        let (mut lo, mut hi) = (min_size.floor() as i32, max_size.floor() as i32);
        let mut best = None;
        while lo <= hi {
            let mid = (lo + hi) / 2;
            let fit = self.shape(&mut buffer, text_box, &text_box.text, mid as f32);
            if fit.fits {
                best = Some(mid);
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        let (size, text, truncated) = match best {
            Some(size) => (size as f32, text_box.text.clone(), false),
            None => (min_size, self.truncate(&mut buffer, text_box, min_size), true),
        };
        let fit = self.shape(&mut buffer, text_box, &text, size);
        let offset = match text_box.valign {
            VAlign::Top => 0.0,
            VAlign::Center => ((text_box.rect.h - fit.height) / 2.0).max(0.0),
            VAlign::Bottom => (text_box.rect.h - fit.height).max(0.0),
        };
        LaidOutText {
            buffer,
            left: text_box.rect.x,
            top: text_box.rect.y + offset,
            clip: text_box.rect,
            font_size: size,
            lines: fit.lines,
            height: fit.height,
            truncated,
        }
    }

    /// The longest prefix of the text, cut at a word and ended with « … », that fits at `size`.
    fn truncate(&mut self, buffer: &mut Buffer, text_box: &TextBox, size: f32) -> String {
        let chars: Vec<char> = text_box.text.chars().collect();
        let candidate = |n: usize| -> String {
            let prefix: String = chars[..n].iter().collect();
            let cut = match prefix.rfind(char::is_whitespace) {
                Some(space) if n < chars.len() && space > 0 => &prefix[..space],
                _ => prefix.as_str(),
            };
            format!("{}{ELLIPSIS}", cut.trim_end_matches(|c: char| c.is_whitespace() || ",;:.".contains(c)))
        };
        // Keep at least one character: never a lone « … ».
        let (mut lo, mut hi) = (1.min(chars.len()), chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.shape(buffer, text_box, &candidate(mid), size).fits {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        candidate(lo)
    }

    fn shape(&mut self, buffer: &mut Buffer, text_box: &TextBox, text: &str, size: f32) -> Fit {
        let line_height = size * if text_box.bold { 1.15 } else { 1.3 };
        buffer.set_metrics(Metrics::new(size, line_height));
        buffer.set_size(Some(text_box.rect.w), None);
        let weight = if text_box.bold { Weight::BOLD } else { Weight::NORMAL };
        let attrs = Attrs::new().family(Family::Name(FAMILY)).weight(weight);
        // "Left" is the start of the line: the left for French, the right for Arabic.
        let align = match text_box.align {
            Align::Left => None,
            Align::Center => Some(CosmicAlign::Center),
            Align::Right => Some(CosmicAlign::Right),
        };
        buffer.set_text(text, &attrs, Shaping::Advanced, align);
        buffer.shape_until_scroll(&mut self.font_system, false);
        let mut lines = 0;
        let mut height: f32 = 0.0;
        let mut width: f32 = 0.0;
        for run in buffer.layout_runs() {
            lines += 1;
            height = height.max(run.line_top + run.line_height);
            width = width.max(run.line_w);
        }
        let fits =
            lines <= text_box.max_lines && height <= text_box.rect.h + 0.5 && width <= text_box.rect.w + 0.5;
        Fit { fits, lines, height }
    }
}

struct Fit {
    fits: bool,
    lines: usize,
    height: f32,
}

/// Characters drawn as nothing by design (joiners, variation selectors, marks of direction).
fn ignorable(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{E0100}'..='\u{E01EF}' | '\u{180E}')
        || c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{Color, Rect};

    fn text_box(text: &str, w: f32, h: f32, max_lines: usize) -> TextBox {
        TextBox {
            rect: Rect::new(10.0, 20.0, w, h),
            text: text.to_owned(),
            size_range: (100.0, 30.0),
            max_lines,
            bold: true,
            color: Color::rgb(255, 255, 255),
            align: Align::Left,
            valign: VAlign::Top,
        }
    }

    #[test]
    fn text_takes_the_largest_size_that_fits_and_never_overflows() {
        let mut engine = TextEngine::new();
        let cases = [
            ("Coupure d'eau", 900.0, 300.0, 2, false),
            ("Coupure d'eau", 300.0, 300.0, 2, false),
            ("Assemblée générale des locataires, salle commune du bâtiment A", 900.0, 400.0, 3, false),
            (&"Très long texte qui ne tient pas. ".repeat(60), 900.0, 300.0, 3, true),
            (&"x".repeat(4000), 600.0, 200.0, 2, true),
            ("Anticonstitutionnellementissimement", 200.0, 300.0, 3, false),
            (&"مرحبا بالجيران ".repeat(50), 800.0, 300.0, 3, true),
            (&"🚧🔧 ".repeat(200), 800.0, 300.0, 2, true),
        ];
        for (text, w, h, lines, truncated) in cases {
            let tb = text_box(text, w, h, lines);
            let laid = engine.layout(&tb);
            let what = format!("{:.30}… in {w}×{h}", text);
            assert!(laid.lines <= lines, "{what}: {} lines", laid.lines);
            assert!(laid.height <= h + 0.5, "{what}: height {}", laid.height);
            assert!(laid.font_size >= 30.0 && laid.font_size <= 100.0, "{what}");
            assert_eq!(laid.truncated, truncated, "{what}");
            for run in laid.buffer.layout_runs() {
                assert!(run.line_w <= w + 0.5, "{what}: line of {} px", run.line_w);
            }
            if truncated {
                let shown: String = laid.buffer.layout_runs().map(|r| r.text).collect();
                assert!(shown.contains(ELLIPSIS), "{what}: ellipsis");
            }
        }
    }

    #[test]
    fn a_short_title_in_a_wide_box_gets_the_largest_size() {
        let mut engine = TextEngine::new();
        let laid = engine.layout(&text_box("Bonjour", 1000.0, 200.0, 1));
        assert_eq!(laid.font_size, 100.0);
        let laid_narrow = engine.layout(&text_box("Bonjour", 250.0, 200.0, 1));
        assert!(laid_narrow.font_size < 100.0 && !laid_narrow.truncated);
    }

    #[test]
    fn every_script_residents_write_has_glyphs_and_the_rest_a_visible_placeholder() {
        let cjk = SYSTEM_CJK.iter().map(Path::new).find(|p| p.is_file()).unwrap_or_else(|| {
            panic!("no CJK font at {SYSTEM_CJK:?}: install Debian's fonts-droid-fallback (the board image has it)")
        });
        let mut engine = TextEngine::with_system_cjk(Some(cjk));
        // (what, text): every character must get a glyph.
        let covered = [
            ("French", "Coupure d’eau — « 9 h – 12 h », Noël, œuvre"),
            ("Portuguese", "Empresto a minha furadeira, obrigação, pão"),
            ("Turkish", "Matkabımı ödünç veririm, ğüşıöç İĞÜŞ"),
            ("Russian", "Одолжу дрель, спасибо соседям"),
            ("Arabic", "أعير مثقابي للجيران"),
            ("French and Arabic", "Cours d’arabe — دروس اللغة العربية"),
            ("Tamil", "என் துரப்பணத்தை கடன் தருகிறேன்"),
            ("Chinese", "我可以借出我的电钻"),
            ("emoji", "Fête des voisins 🎉 🍕 ❤️ 👍🏽 👨‍👩‍👧"),
        ];
        for (what, text) in covered {
            assert_eq!(engine.visible(text), text, "{what}: a character has no glyph");
        }
        // Linear B has no font here: the run becomes one placeholder, the rest stays.
        assert_eq!(engine.visible("Bonjour 𐀀𐀁𐀂 à tous"), "Bonjour (?) à tous");
    }

    #[test]
    fn french_punctuation_and_narrow_spaces_have_glyphs() {
        let mut engine = TextEngine::new();
        let text = "« Œuvre » – 9\u{202F}h\u{202F}30, déjà là ! Ça, çà, où, île, Noël, 12\u{00A0}€";
        let laid = engine.layout(&text_box(text, 1800.0, 200.0, 1));
        let missing: Vec<_> = laid
            .buffer
            .layout_runs()
            .flat_map(|run| {
                run.glyphs
                    .iter()
                    .filter(|g| g.glyph_id == 0)
                    .map(|g| run.text[g.start..g.end].to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(missing.is_empty(), "characters without a glyph in Inter: {missing:?}");
    }
}
