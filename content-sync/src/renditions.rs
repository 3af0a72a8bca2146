//! Display renditions: a picture larger than the board's screens is decoded once here, in
//! the daemon, and stored scaled to the largest screen side, so the player never decodes a
//! 24-megapixel photo between two slides.
//!
//! Decoding is where image bombs bite, so it runs with `image::Limits` (side and allocation
//! caps) after the header was already checked against the MediaRef. The rendition is JPEG at
//! quality 90, or PNG when the picture has an alpha channel, and it is written atomically to
//! [`rendition_path`]. The side the renditions were made for is kept in a marker file, so a
//! change of screens remakes them.

use std::io::Cursor;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use palier_content::MediaRef;
use palier_content::cache::rendition_path;
use palier_content::limits::{MAX_MEDIA_PIXELS, MAX_MEDIA_SIDE};

use crate::files::write_atomically;

/// The marker file holding the side renditions were made for.
pub const SIDE_MARKER: &str = ".rendition-side";

/// JPEG quality of renditions.
pub const JPEG_QUALITY: u8 = 90;

/// Why a rendition could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenditionError {
    /// The picture does not decode within the limits: it is quarantined.
    #[error("the picture does not decode: {0}")]
    Undecodable(String),
    /// The disk failed: try again later.
    #[error("{0}")]
    Io(String),
}

/// The longest side among the screens: max over screens of max(width, height).
pub fn display_side(screens: &[palier_content::config::ScreenConfig]) -> u32 {
    screens.iter().map(|s| s.width.max(s.height)).max().unwrap_or(1920)
}

/// Decoder caps: no side past the protocol's, no allocation past what its largest picture
/// needs in RGBA.
pub fn decode_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_MEDIA_SIDE);
    limits.max_image_height = Some(MAX_MEDIA_SIDE);
    limits.max_alloc = Some(MAX_MEDIA_PIXELS * 4 + 64 * 1024 * 1024);
    limits
}

/// Decodes `media/<sha256>`, scales it to fit `side` × `side`, and writes its rendition.
pub fn make_rendition(media_dir: &Path, media: &MediaRef, side: u32) -> Result<(), RenditionError> {
    let source = media_dir.join(&media.sha256);
    let bytes = std::fs::read(&source)
        .map_err(|e| RenditionError::Io(format!("reading {}: {e}", source.display())))?;
    let encoded = scale(&bytes, side)?;
    let target = rendition_path(media_dir, &media.sha256);
    write_atomically(&target, &encoded, 0o644)
        .map_err(|e| RenditionError::Io(format!("writing {}: {e}", target.display())))
}

/// The rendition's bytes: fitted into `side` × `side`, JPEG or (with alpha) PNG.
pub fn scale(bytes: &[u8], side: u32) -> Result<Vec<u8>, RenditionError> {
    let undecodable = |e: image::ImageError| RenditionError::Undecodable(e.to_string());
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| RenditionError::Undecodable(e.to_string()))?;
    reader.limits(decode_limits());
    let picture = reader.decode().map_err(undecodable)?;
    let scaled = picture.resize(side, side, FilterType::CatmullRom);
    let mut out = Vec::new();
    if scaled.color().has_alpha() {
        scaled.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).map_err(undecodable)?;
    } else {
        let rgb = DynamicImage::ImageRgb8(scaled.to_rgb8());
        rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)).map_err(undecodable)?;
    }
    Ok(out)
}

/// The side the renditions in `media_dir` were made for, if recorded.
pub fn recorded_side(media_dir: &Path) -> Option<u32> {
    std::fs::read_to_string(media_dir.join(SIDE_MARKER)).ok()?.trim().parse().ok()
}

/// Records that every rendition in `media_dir` was made for `side`.
pub fn record_side(media_dir: &Path, side: u32) -> std::io::Result<()> {
    if recorded_side(media_dir) == Some(side) {
        return Ok(());
    }
    write_atomically(&media_dir.join(SIDE_MARKER), format!("{side}\n").as_bytes(), 0o644)
}

#[cfg(test)]
mod tests {
    use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let picture = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(picture).write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg).unwrap();
        out
    }

    #[test]
    fn big_pictures_shrink_to_the_side_keeping_their_shape_and_alpha() {
        let landscape = image::load_from_memory(&scale(&jpeg(1200, 800), 600).unwrap()).unwrap();
        assert_eq!((landscape.width(), landscape.height()), (600, 400));
        let portrait = scale(&jpeg(500, 1000), 250).unwrap();
        assert_eq!(image::guess_format(&portrait).unwrap(), ImageFormat::Jpeg);
        assert_eq!(image::load_from_memory(&portrait).unwrap().height(), 250);

        let clear = RgbaImage::from_pixel(900, 300, Rgba([10, 20, 30, 0]));
        let mut png = Vec::new();
        DynamicImage::ImageRgba8(clear).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        let scaled = scale(&png, 300).unwrap();
        assert_eq!(image::guess_format(&scaled).unwrap(), ImageFormat::Png, "alpha stays PNG");
        assert_eq!(image::load_from_memory(&scaled).unwrap().width(), 300);
    }

    #[test]
    fn garbage_and_bombs_are_refused_not_decoded() {
        assert!(matches!(
            scale(b"\xff\xd8\xff\xe0 not really a jpeg", 100),
            Err(RenditionError::Undecodable(_))
        ));
        // A PNG header claiming 60000 × 60000: refused by the limits before any allocation.
        let mut bomb = Vec::new();
        let encoder = image::codecs::png::PngEncoder::new(&mut bomb);
        encoder.write_image(&[0; 4], 1, 1, image::ExtendedColorType::Rgba8).unwrap();
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let error = scale(&bomb, 100).unwrap_err();
        assert!(matches!(error, RenditionError::Undecodable(_)), "{error}");
    }

    #[test]
    fn the_side_marker_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(recorded_side(dir.path()), None);
        record_side(dir.path(), 1920).unwrap();
        assert_eq!(recorded_side(dir.path()), Some(1920));
    }
}
