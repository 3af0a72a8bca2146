//! Pictures made here, as phones and publishers send them, and what the platform keeps.

use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

use super::*;

/// A picture whose left half is red and right half blue.
fn halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(
        width,
        height,
        |x, _| if x < width / 2 { Rgb([220, 20, 20]) } else { Rgb([20, 20, 220]) },
    )
}

fn jpeg(picture: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(picture, picture.width(), picture.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// Puts an EXIF APP1 segment right after the JPEG's start marker: orientation `orientation`,
/// and a GPS position a phone would write (latitude 45°45'N: the resident's home).
fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0: two entries, Orientation and GPSInfo (pointing at a GPS IFD right after).
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    let gps_ifd = 8 + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1]);
    tiff.extend_from_slice(&(gps_ifd as u32).to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD: GPSLatitudeRef = "N".
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn png_rgba(picture: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(picture, picture.width(), picture.height(), image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

fn decoded(normalized: &Normalized) -> RgbImage {
    image::load_from_memory(&normalized.bytes).unwrap().to_rgb8()
}

fn is_red(p: &Rgb<u8>) -> bool {
    p.0[0] > 150 && p.0[2] < 100
}

fn is_blue(p: &Rgb<u8>) -> bool {
    p.0[2] > 150 && p.0[0] < 100
}

#[test]
fn a_photo_taken_upright_comes_back_upright_and_without_its_metadata() {
    // A phone held upright stores a landscape frame tagged "rotate 90° clockwise to show".
    let sideways = with_exif(&jpeg(&halves(300, 200)), 6);
    assert!(sideways.windows(6).any(|w| w == b"Exif\0\0"));
    let normalized = normalize(&sideways).unwrap();
    assert_eq!((normalized.mime, normalized.width, normalized.height), ("image/jpeg", 200, 300));
    let upright = decoded(&normalized);
    // Turned clockwise: the left half (red) is now on top, the right half (blue) below.
    assert!(is_red(upright.get_pixel(100, 40)), "{:?}", upright.get_pixel(100, 40));
    assert!(is_blue(upright.get_pixel(100, 260)), "{:?}", upright.get_pixel(100, 260));
    for marker in [&b"Exif\0\0"[..], b"GPS", &[0xFF, 0xE1]] {
        assert!(!normalized.bytes.windows(marker.len()).any(|w| w == marker), "{marker:?} left in the file");
    }
    // Every orientation ends upright: (tag, where red ends up: top, right, bottom, left).
    for (tag, red_at) in [(1, (40, 100)), (3, (260, 100)), (6, (100, 40)), (8, (100, 260))] {
        let picture = decoded(&normalize(&with_exif(&jpeg(&halves(300, 200)), tag)).unwrap());
        let (x, y) = red_at;
        assert!(
            is_red(picture.get_pixel(x, y)),
            "orientation {tag}: {:?} at {x},{y}",
            picture.get_pixel(x, y)
        );
    }
}

#[test]
fn a_50_megapixel_phone_photo_is_taken_and_scaled_for_the_screens() {
    let photo =
        RgbImage::from_fn(8160, 6120, |x, y| Rgb([(x / 32) as u8, (y / 24) as u8, ((x + y) / 64) as u8]));
    let bytes = jpeg(&photo);
    assert!(bytes.len() <= MAX_UPLOAD_BYTES, "{} bytes", bytes.len());
    let normalized = normalize(&bytes).unwrap();
    assert_eq!((normalized.width, normalized.height), (3840, 2880));
    assert!(normalized.bytes.len() < bytes.len());
    assert_eq!(normalize(&bytes).unwrap(), normalized, "the same upload gives the same file (and address)");
}

#[test]
fn broken_pictures_are_refused_with_their_reason() {
    let whole = jpeg(&halves(640, 480));
    let half = &whole[..whole.len() / 2];
    let refused = normalize(half).unwrap_err();
    assert!(
        matches!(&refused, UploadError::NotAPicture(m) if m.contains("does not decode whole")),
        "{refused}"
    );

    let picture = RgbaImage::from_fn(64, 64, |x, y| Rgba([x as u8 * 4, y as u8 * 4, 90, 255]));
    let mut png = png_rgba(&picture);
    let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
    png[idat + 10] ^= 0x55;
    let refused = normalize(&png).unwrap_err();
    assert!(
        matches!(&refused, UploadError::NotAPicture(m) if m.contains("does not decode whole")),
        "{refused}"
    );

    // Flipped bits in a JPEG's headers.
    let mut flipped = whole.clone();
    let sof = flipped.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    flipped[sof + 4] ^= 0xFF;
    flipped[sof + 9] ^= 0xFF;
    assert!(normalize(&flipped).is_err());
}

#[test]
fn bombs_and_other_formats_are_refused_before_decoding() {
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let refused = normalize(&bomb).unwrap_err();
    assert!(matches!(&refused, UploadError::TooLarge(m) if m.contains("100000×100000")), "{refused}");
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    let refused = normalize(&heic).unwrap_err();
    assert!(matches!(&refused, UploadError::NotAPicture(m) if m.contains("HEIC")), "{refused}");
    assert!(matches!(normalize(b"GIF89a\x01\0\x01\0\0\0\0"), Err(UploadError::NotAPicture(_))));
    assert!(matches!(normalize(b""), Err(UploadError::NotAPicture(_))));
    assert!(matches!(normalize(&vec![0xFF; MAX_UPLOAD_BYTES + 1]), Err(UploadError::TooLarge(_))));
}

#[test]
fn transparency_stays_png_and_opaque_pictures_become_jpeg() {
    let logo = RgbaImage::from_fn(120, 80, |x, _| Rgba([200, 30, 30, if x < 60 { 0 } else { 255 }]));
    let normalized = normalize(&png_rgba(&logo)).unwrap();
    assert_eq!((normalized.mime, normalized.width, normalized.height), ("image/png", 120, 80));
    let opaque = RgbaImage::from_fn(120, 80, |_, _| Rgba([200, 30, 30, 255]));
    assert_eq!(normalize(&png_rgba(&opaque)).unwrap().mime, "image/jpeg");
}
