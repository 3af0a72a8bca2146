//! Composition on the real GPU adapter, against pictures computed here: a slide comes out
//! byte for byte as drawn, a crossfade frame is the mix of its two slides' encoded values
//! (as browsers mix), a panel hung sideways gets the slide turned, a slide of another shape is
//! letterboxed in black, night dimming scales the light, and the self-test
//! `palier-player check` runs passes.

use palier_content::config::{BackendChoice, Rotation};
use palier_player::render::Gpu;
use palier_player::render::compose::{Compositor, Layer, encoded_scale};
use palier_player::render::frame::{compose_offscreen, self_test};
use palier_player::render::slide::{SLIDE_FORMAT, SlideRenderer};
use palier_player::scene::{Color, Element, Rect, Scene};

fn gpu() -> Gpu {
    Gpu::headless(BackendChoice::Auto)
        .expect("a GPU adapter (Mesa's software one on a machine without a GPU)")
}

/// A slide of `size` split into a left and a right half of two colours.
fn halves(size: (u32, u32), left: [u8; 3], right: [u8; 3]) -> Scene {
    let (w, h) = (size.0 as f32, size.1 as f32);
    let rect = |x: f32, [r, g, b]: [u8; 3]| Element::Rect {
        rect: Rect::new(x, 0.0, w / 2.0, h),
        color: Color::rgb(r, g, b),
        radius: 0.0,
    };
    Scene {
        width: size.0,
        height: size.1,
        background: Color::rgb(0, 0, 0),
        elements: vec![rect(0.0, left), rect(w / 2.0, right)],
    }
}

fn decode(byte: u8) -> f32 {
    let c = f32::from(byte) / 255.0;
    if c <= 0.040_45 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

fn encode(linear: f32) -> u8 {
    let c = linear.clamp(0.0, 1.0);
    let s = if c <= 0.003_130_8 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
    (s * 255.0).round() as u8
}

fn assert_close(what: &str, got: [u8; 4], want: [u8; 3]) {
    let off = (0..3).map(|c| got[c].abs_diff(want[c])).max().unwrap_or(0);
    assert!(off <= 2, "{what}: got {got:?}, want {want:?}");
}

const RED: [u8; 3] = [220, 40, 30];
const BLUE: [u8; 3] = [20, 60, 200];
const WHITE: [u8; 3] = [255, 255, 255];
const GREEN: [u8; 3] = [30, 180, 60];

#[test]
fn frames_match_the_pictures_computed_here() {
    let gpu = gpu();
    let mut renderer = SlideRenderer::new(&gpu);
    let compositor = Compositor::new(&gpu.device, SLIDE_FORMAT);
    let landscape = (160, 90);
    let a = renderer.draw(&gpu, &halves(landscape, RED, BLUE));
    let b = renderer.draw(&gpu, &halves(landscape, WHITE, GREEN));
    let portrait = renderer.draw(&gpu, &halves((90, 160), RED, BLUE));
    let (a, b, portrait) = (
        compositor.bind(&gpu.device, &a.texture),
        compositor.bind(&gpu.device, &b.texture),
        compositor.bind(&gpu.device, &portrait.texture),
    );
    let mix = |x: [u8; 3], y: [u8; 3], t: f32| {
        [0, 1, 2].map(|c| (f32::from(x[c]) * (1.0 - t) + f32::from(y[c]) * t).round() as u8)
    };

    // A crossfade a quarter of the way: both halves are the mix of the two slides.
    let frame = compose_offscreen(
        &gpu,
        &compositor,
        landscape,
        &[Layer { slide: &a, opacity: 1.0 }, Layer { slide: &b, opacity: 0.25 }],
        Rotation::R0,
        1.0,
    )
    .unwrap();
    assert_close("crossfade, left", frame.get_pixel(40, 45).0, mix(RED, WHITE, 0.25));
    assert_close("crossfade, right", frame.get_pixel(120, 45).0, mix(BLUE, GREEN, 0.25));

    // One slide at half light.
    let frame = compose_offscreen(
        &gpu,
        &compositor,
        landscape,
        &[Layer { slide: &a, opacity: 1.0 }],
        Rotation::R0,
        0.5,
    )
    .unwrap();
    let dimmed = RED.map(|c| (f32::from(c) * encoded_scale(0.5)).round() as u8);
    assert_close("dimmed", frame.get_pixel(40, 45).0, dimmed);
    // … which is within a few levels of half the light.
    let half_light = RED.map(|c| encode(decode(c) * 0.5));
    for c in 0..3 {
        assert!(dimmed[c].abs_diff(half_light[c]) <= 4, "dimmed {dimmed:?}, half the light {half_light:?}");
    }

    // A panel hung sideways: the portrait slide turned 90° clockwise onto a landscape output
    // puts its left half (red) on top.
    let frame = compose_offscreen(
        &gpu,
        &compositor,
        landscape,
        &[Layer { slide: &portrait, opacity: 1.0 }],
        Rotation::R90,
        1.0,
    )
    .unwrap();
    assert_close("turned, top", frame.get_pixel(80, 10).0, RED);
    assert_close("turned, bottom", frame.get_pixel(80, 80).0, BLUE);

    // The same slide upright on the landscape output: letterboxed, black bars left and right,
    // the slide scaled to 50.6 px wide in the middle.
    let frame = compose_offscreen(
        &gpu,
        &compositor,
        landscape,
        &[Layer { slide: &portrait, opacity: 1.0 }],
        Rotation::R0,
        1.0,
    )
    .unwrap();
    assert_close("letterbox, left bar", frame.get_pixel(10, 45).0, [0, 0, 0]);
    assert_close("letterbox, right bar", frame.get_pixel(150, 45).0, [0, 0, 0]);
    assert_close("letterboxed slide, left half", frame.get_pixel(66, 45).0, RED);
    assert_close("letterboxed slide, right half", frame.get_pixel(94, 45).0, BLUE);
}

/// Slides are drawn in sRGB and settled into the kept, not-sRGB texture (a copy on Vulkan, a
/// pass on GL): every value must come out as the byte the scene asked for, in every channel.
#[test]
fn slides_keep_every_byte_they_were_drawn_with() {
    for backend in [BackendChoice::Vulkan, BackendChoice::Gl] {
        let gpu = Gpu::headless(backend).expect("Mesa's Vulkan and GL software adapters");
        let wrong = settled_bytes_that_changed(&gpu);
        assert!(wrong.is_empty(), "{}: bytes changed on the way (value, pixel): {wrong:?}", gpu.describe());
    }
}

/// Draws every byte value in each channel, composes it and returns the values that came out
/// different.
fn settled_bytes_that_changed(gpu: &Gpu) -> Vec<(u8, [u8; 4])> {
    let mut renderer = SlideRenderer::new(gpu);
    let compositor = Compositor::new(&gpu.device, SLIDE_FORMAT);
    let column = |x: u32, colour: [u8; 3]| Element::Rect {
        rect: Rect::new(x as f32, 0.0, 1.0, 3.0),
        color: Color::rgb(colour[0], colour[1], colour[2]),
        radius: 0.0,
    };
    // Column v: grey v on the first row, then v in one channel at a time.
    let mut elements = Vec::new();
    for v in 0..=255u8 {
        elements.push(column(u32::from(v), [v, 255 - v, v / 2]));
    }
    let scene = Scene { width: 256, height: 3, background: Color::rgb(0, 0, 0), elements };
    let slide = renderer.draw(gpu, &scene);
    let binding = compositor.bind(&gpu.device, &slide.texture);
    let frame = compose_offscreen(
        gpu,
        &compositor,
        (256, 3),
        &[Layer { slide: &binding, opacity: 1.0 }],
        Rotation::R0,
        1.0,
    )
    .unwrap();
    (0..=255u8)
        .map(|v| (v, frame.get_pixel(u32::from(v), 1).0))
        .filter(|(v, got)| got[..3] != [*v, 255 - *v, *v / 2])
        .collect()
}

#[test]
fn the_self_test_passes() {
    let report = self_test(&gpu()).unwrap();
    assert!(report.passed(), "{report:?}");
}
