//! Real pictures made with `image`, for uploads and pictures in feeds.

use std::io::Cursor;

use image::{DynamicImage, ImageEncoder, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

/// A JPEG with some texture (so it weighs what a photo weighs), different for each seed.
pub fn jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let v = x.wrapping_mul(31).wrapping_add(y.wrapping_mul(17)).wrapping_add(seed.wrapping_mul(7919));
        Rgb([(v % 251) as u8, ((v / 3) % 241) as u8, ((x ^ y ^ seed) % 256) as u8])
    });
    encode(DynamicImage::ImageRgb8(picture), ImageFormat::Jpeg)
}

/// An opaque PNG (the platform stores it as a JPEG once normalised).
pub fn opaque_png(width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 90]));
    encode(DynamicImage::ImageRgb8(picture), ImageFormat::Png)
}

/// A PNG with a transparent corner (so it stays a PNG once normalised), different for each
/// `seed`.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let picture = RgbaImage::from_fn(width, height, |x, y| {
        let alpha = if x < 8 && y < 8 { 0 } else { 255 };
        Rgba([(x % 256) as u8, (y % 256) as u8, seed, alpha])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&picture, width, height, image::ExtendedColorType::Rgba8)
        .expect("a PNG in memory");
    out
}

/// A PNG signature and IHDR chunk only, declaring these dimensions: what a bomb starts with.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

fn encode(picture: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    picture.write_to(&mut Cursor::new(&mut out), format).expect("a picture in memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_maker_writes_a_picture_of_its_format_and_size() {
        // (bytes, format, width, height, alpha)
        let cases = [
            (jpeg(33, 17, 1), ImageFormat::Jpeg, 33, 17, false),
            (opaque_png(5, 9), ImageFormat::Png, 5, 9, false),
            (png(20, 10, 3), ImageFormat::Png, 20, 10, true),
        ];
        for (bytes, format, width, height, alpha) in cases {
            assert_eq!(image::guess_format(&bytes).unwrap(), format);
            let picture = image::load_from_memory(&bytes).unwrap();
            assert_eq!((picture.width(), picture.height()), (width, height), "{format:?}");
            assert_eq!(picture.color().has_alpha(), alpha, "{format:?}");
        }
        assert_ne!(jpeg(16, 16, 1), jpeg(16, 16, 2), "the seed changes the picture");
        let header = png_header(100_000, 100_000);
        assert_eq!(imagesize_of(&header), (100_000, 100_000));
    }

    fn imagesize_of(bytes: &[u8]) -> (u32, u32) {
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        (width, height)
    }
}
