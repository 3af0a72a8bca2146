//! What the platform makes of an uploaded picture before anyone sees it.
//!
//! Phones send what they shot: 50 megapixels, sideways with an EXIF orientation tag, with the
//! GPS position of the resident's home in the metadata. The platform decodes each upload
//! once, within stated limits, turns it upright, drops every piece of metadata, scales it so
//! its long side is at most [`MAX_LONG_SIDE`] (what the largest screen needs), and encodes it
//! again: JPEG, or PNG when it has transparency. That normalised file is what is stored,
//! hashed and served; boards never receive the original.
//!
//! Bounds, so no upload can exhaust the machine: the body is at most [`MAX_UPLOAD_BYTES`];
//! the header's size is checked before anything is allocated (a decompression bomb is refused
//! there); JPEG, which phones produce at any size, is decoded at a reduced scale straight
//! from its DCT (1/2, 1/4 or 1/8) whenever that still leaves the long side above
//! [`MAX_LONG_SIDE`], so a 100-megapixel photo needs a quarter of its full-size memory;
//! PNG and WebP are decoded whole and capped at [`MAX_PNG_WEBP_PIXELS`]. Callers run at most
//! two normalisations at once (see `crate::publishing`). A picture that does not decode
//! whole (cut short, a broken CRC, flipped bits in its headers) is refused with the reason.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

use super::UploadError;

/// The largest body an upload may have: a full-quality 50-megapixel phone JPEG fits.
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;
/// The most pixels a JPEG upload may declare (decoded at a reduced scale).
pub const MAX_JPEG_PIXELS: u64 = 120_000_000;
/// The most pixels a PNG or WebP upload may declare (decoded whole).
pub const MAX_PNG_WEBP_PIXELS: u64 = 40_000_000;
/// The longest side any upload may declare.
pub const MAX_UPLOAD_SIDE: u32 = 20_000;
/// The long side of a stored picture: a 4K panel hung in portrait.
pub const MAX_LONG_SIDE: u32 = 3840;
/// JPEG quality of stored pictures.
const JPEG_QUALITY: u8 = 88;

/// A normalised picture, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Jpeg,
    Png,
    Webp,
}

fn not_a_picture(message: impl Into<String>) -> UploadError {
    UploadError::NotAPicture(message.into())
}

fn broken(reason: impl std::fmt::Display) -> UploadError {
    UploadError::NotAPicture(format!(
        "the picture does not decode whole ({reason}); it may have been cut short while sending: send it again"
    ))
}

/// The format, from the first bytes; HEIC and others get a sentence saying what to do.
fn sniff(bytes: &[u8]) -> Result<Format, UploadError> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(Format::Webp);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = String::from_utf8_lossy(&bytes[8..12]).into_owned();
        if ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1", "avif"].contains(&brand.as_str()) {
            return Err(not_a_picture(format!(
                "this is a HEIC/HEIF picture ({brand}); send it as JPEG: phones convert when sharing, \
                 or choose « Plus compatible » / « Most compatible » in the camera settings"
            )));
        }
    }
    Err(not_a_picture("the body is not a JPEG, PNG or WebP picture"))
}

/// Checks a picture's bytes and makes its normalised form. Slow (it decodes and encodes): run
/// it on a blocking thread, at most two at once.
pub fn normalize(bytes: &[u8]) -> Result<Normalized, UploadError> {
    if bytes.is_empty() {
        return Err(not_a_picture("the body is empty; send the picture's bytes"));
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(UploadError::TooLarge(format!(
            "the picture is {} bytes, over the {MAX_UPLOAD_BYTES}-byte limit",
            bytes.len()
        )));
    }
    let format = sniff(bytes)?;
    let size = imagesize::blob_size(bytes).map_err(broken)?;
    let (w, h) = (size.width as u64, size.height as u64);
    let cap = if format == Format::Jpeg { MAX_JPEG_PIXELS } else { MAX_PNG_WEBP_PIXELS };
    if w == 0 || h == 0 || w > u64::from(MAX_UPLOAD_SIDE) || h > u64::from(MAX_UPLOAD_SIDE) || w * h > cap {
        return Err(UploadError::TooLarge(format!(
            "the picture declares {w}×{h} pixels; each side must be 1–{MAX_UPLOAD_SIDE} and the area at most {} \
             megapixels: scale it down",
            cap / 1_000_000
        )));
    }
    let (picture, orientation) = match format {
        Format::Jpeg => decode_jpeg(bytes)?,
        Format::Png | Format::Webp => decode_whole(bytes, format)?,
    };
    let mut picture = fit(picture);
    picture.apply_orientation(orientation);
    encode(picture)
}

/// Decodes a JPEG at the smallest DCT scale that keeps its long side at or above
/// [`MAX_LONG_SIDE`]; the orientation comes from its EXIF.
fn decode_jpeg(bytes: &[u8]) -> Result<(DynamicImage, Orientation), UploadError> {
    // A JPEG ends with its EOI marker (FF D9); one cut short does not, and decoders would
    // otherwise fill the missing part with grey.
    let end = bytes.iter().rposition(|&b| b != 0).unwrap_or(0);
    if end < 1 || bytes[end - 1] != 0xFF || bytes[end] != 0xD9 {
        return Err(broken("the JPEG has no end marker"));
    }
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(broken)?;
    let info = decoder.info().ok_or_else(|| broken("no JPEG header"))?;
    let orientation =
        decoder.exif_data().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    let long = u32::from(info.width.max(info.height));
    let mut reduce = 1u32;
    while reduce < 8 && long / (reduce * 2) >= MAX_LONG_SIDE {
        reduce *= 2;
    }
    let (width, height) = decoder
        .scale(
            (u32::from(info.width).div_ceil(reduce)) as u16,
            (u32::from(info.height).div_ceil(reduce)) as u16,
        )
        .map_err(broken)?;
    let pixels = decoder.decode().map_err(broken)?;
    let info = decoder.info().ok_or_else(|| broken("no JPEG header"))?;
    let (w, h) = (u32::from(width), u32::from(height));
    let picture = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => RgbImage::from_raw(w, h, pixels)
            .map(DynamicImage::ImageRgb8)
            .ok_or_else(|| broken("short pixel data"))?,
        jpeg_decoder::PixelFormat::L8 => image::GrayImage::from_raw(w, h, pixels)
            .map(DynamicImage::ImageLuma8)
            .ok_or_else(|| broken("short pixel data"))?,
        jpeg_decoder::PixelFormat::L16 => {
            let values: Vec<u16> = pixels.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            image::ImageBuffer::from_raw(w, h, values)
                .map(DynamicImage::ImageLuma16)
                .ok_or_else(|| broken("short pixel data"))?
        }
        jpeg_decoder::PixelFormat::CMYK32 => {
            let rgb: Vec<u8> = pixels
                .chunks_exact(4)
                .flat_map(|p| {
                    let k = 255 - u16::from(p[3]);
                    [p[0], p[1], p[2]].map(|c| ((255 - u16::from(c)) * k / 255) as u8)
                })
                .collect();
            RgbImage::from_raw(w, h, rgb)
                .map(DynamicImage::ImageRgb8)
                .ok_or_else(|| broken("short pixel data"))?
        }
    };
    Ok((picture, orientation))
}

/// Decodes a PNG or WebP whole, its CRCs and lengths checked, within an allocation limit.
fn decode_whole(bytes: &[u8], format: Format) -> Result<(DynamicImage, Orientation), UploadError> {
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(match format {
        Format::Png => image::ImageFormat::Png,
        _ => image::ImageFormat::WebP,
    });
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_UPLOAD_SIDE);
    limits.max_image_height = Some(MAX_UPLOAD_SIDE);
    limits.max_alloc = Some(MAX_PNG_WEBP_PIXELS * 8 + (1 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(broken)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let picture = DynamicImage::from_decoder(decoder).map_err(broken)?;
    Ok((picture, orientation))
}

/// Scales so the long side is at most [`MAX_LONG_SIDE`]; never enlarges. Area averaging in
/// integers (`thumbnail`): at these ratios (at most 2:1 after a DCT reduction) it is as sharp
/// as a convolution filter, and it needs no floating-point copy of the picture (which for a
/// 12-megapixel frame is 140 MB).
fn fit(picture: DynamicImage) -> DynamicImage {
    let long = picture.width().max(picture.height());
    if long <= MAX_LONG_SIDE {
        return picture;
    }
    let scale = f64::from(MAX_LONG_SIDE) / f64::from(long);
    let w = ((f64::from(picture.width()) * scale).round() as u32).max(1);
    let h = ((f64::from(picture.height()) * scale).round() as u32).max(1);
    picture.thumbnail_exact(w, h)
}

/// JPEG, or PNG when some pixel is not opaque; encoders write no metadata.
fn encode(picture: DynamicImage) -> Result<Normalized, UploadError> {
    let (width, height) = (picture.width(), picture.height());
    let transparent = picture.color().has_alpha() && picture.to_rgba8().pixels().any(|p| p.0[3] < 255);
    let mut bytes = Vec::new();
    let encoded = if transparent {
        let rgba = picture.to_rgba8();
        rgba.write_with_encoder(PngEncoder::new(&mut bytes)).map(|_| "image/png")
    } else {
        let rgb = match picture {
            DynamicImage::ImageRgb8(rgb) => rgb,
            other => other.to_rgb8(),
        };
        rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)).map(|_| "image/jpeg")
    };
    let mime = encoded
        .map_err(|e| UploadError::NotAPicture(format!("the picture could not be encoded again: {e}")))?;
    Ok(Normalized { bytes, mime, width, height })
}

#[cfg(test)]
mod tests;
