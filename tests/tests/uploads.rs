//! Phone photos through the real `palier-platform`: several 50-megapixel JPEGs uploaded at
//! once are all taken, and the server's memory stays within its stated bound (bodies held
//! by at most four uploads, decoded by at most two, each at a reduced scale).

use std::time::Duration;

use image::{ImageEncoder, Rgb, RgbImage};
use palier_tests::Platform;

/// The most the platform's resident memory may grow above its idle size while it takes
/// uploads, however many arrive at once (docs/operations: four 32 MiB bodies and two
/// decodes of about 110 MiB each, plus the runtime's buffers).
const MEMORY_BOUND_MIB: u64 = 450;
/// Uploads sent at once.
const AT_ONCE: usize = 6;

/// A 50-megapixel photo (8160×6120) with grain, so it weighs what a phone's does.
fn phone_photo(seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let picture = RgbImage::from_fn(8160, 6120, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let grain = (state % 24) as u8;
        Rgb([(x / 40) as u8 + grain, (y / 30) as u8 + grain, ((x + y) / 70) as u8 + grain])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
        .write_image(&picture, 8160, 6120, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A line of `/proc/PID/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("{field} in {status}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn many_phone_photos_at_once_are_taken_within_the_memory_bound() {
    let mut platform = Platform::init();
    platform.serve();
    let pid = platform.pid().unwrap();
    let photo = phone_photo(7);
    assert!(photo.len() > 8 << 20 && photo.len() < 32 << 20, "{} bytes", photo.len());
    let idle = status_kib(pid, "VmRSS:");
    let url = format!("{}/v1/publish/media", platform.url);
    let token = platform.landlord.clone();
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let uploads: Vec<_> = (0..AT_ONCE)
            .map(|_| {
                let (url, token, photo) = (&url, &token, &photo);
                scope.spawn(move || {
                    let client = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(300))
                        .build()
                        .unwrap();
                    let response = client.post(url).bearer_auth(token).body(photo.clone()).send().unwrap();
                    (response.status().as_u16(), response.text().unwrap())
                })
            })
            .collect();
        uploads.into_iter().map(|u| u.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert!(*status == 201 || *status == 200, "{status} {body}");
        let media: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!((media["width"].as_u64(), media["height"].as_u64()), (Some(3840), Some(2880)), "{body}");
        assert_eq!(media["mime"], "image/jpeg");
    }
    let peak = status_kib(pid, "VmHWM:");
    let growth_mib = peak.saturating_sub(idle) / 1024;
    println!(
        "{AT_ONCE} uploads of a {} MB 50-megapixel JPEG at once: idle {} MiB, peak {} MiB, growth {growth_mib} MiB (bound {MEMORY_BOUND_MIB} MiB)",
        photo.len() / 1_000_000,
        idle / 1024,
        peak / 1024
    );
    assert!(
        growth_mib <= MEMORY_BOUND_MIB,
        "the platform grew by {growth_mib} MiB, over its {MEMORY_BOUND_MIB} MiB bound"
    );
}
