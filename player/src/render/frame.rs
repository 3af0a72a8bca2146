//! Offscreen frames: the composed picture of an output, read back into memory, and the
//! self-test the `check` command runs on a board's GPU.

use palier_content::config::Rotation;

use super::compose::{Compositor, Layer};
use super::gpu::Gpu;
use super::readback::{ReadbackError, read_rgba};
use super::slide::{SLIDE_FORMAT, SlideRenderer};
use crate::scene::{Align, Color, Element, Rect, Scene, TextBox, VAlign};

/// Composes `layers` onto an offscreen output of `size` and reads the frame back.
pub fn compose_offscreen(
    gpu: &Gpu,
    compositor: &Compositor,
    size: (u32, u32),
    layers: &[Layer<'_>],
    rotation: Rotation,
    brightness: f32,
) -> Result<image::RgbaImage, ReadbackError> {
    let target = offscreen_output(gpu, size);
    let prepared = compositor.prepare(&gpu.queue, layers, rotation, brightness, &target);
    let mut encoder =
        gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("offscreen frame") });
    compositor.render(&mut encoder, &target, layers, prepared);
    gpu.queue.submit([encoder.finish()]);
    read_rgba(gpu, &target)
}

/// An output texture of `size` that frames are composed into and read back from.
pub fn offscreen_output(gpu: &Gpu, size: (u32, u32)) -> wgpu::Texture {
    offscreen_output_in(gpu, size, SLIDE_FORMAT)
}

/// An output texture of `size` and `format` (8-bit, not sRGB), as a window's surface would be.
pub fn offscreen_output_in(gpu: &Gpu, size: (u32, u32), format: wgpu::TextureFormat) -> wgpu::Texture {
    gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some("offscreen output"),
        size: wgpu::Extent3d { width: size.0, height: size.1, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

/// What the self-test found.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfTestReport {
    /// Probe points that came back with the wrong colour: (x, y, expected, got).
    pub mismatches: Vec<(u32, u32, [u8; 3], [u8; 3])>,
    /// Bright pixels inside the text box: zero means text does not render.
    pub text_pixels: usize,
}

impl SelfTestReport {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.text_pixels > 50 && super::gpu::error_count() == 0
    }
}

/// Draws four coloured quadrants and a line of text through the whole pipeline (slide,
/// composition with a 90° rotation, readback) and checks the pixels that come back.
pub fn self_test(gpu: &Gpu) -> Result<SelfTestReport, ReadbackError> {
    const W: u32 = 160;
    const H: u32 = 120;
    let colours = [
        (Rect::new(0.0, 0.0, 80.0, 60.0), [255, 0, 0]),
        (Rect::new(80.0, 0.0, 80.0, 60.0), [0, 255, 0]),
        (Rect::new(0.0, 60.0, 80.0, 60.0), [0, 0, 255]),
        (Rect::new(80.0, 60.0, 80.0, 60.0), [255, 255, 255]),
    ];
    let mut elements: Vec<Element> = colours
        .iter()
        .map(|&(rect, [r, g, b])| Element::Rect { rect, color: Color::rgb(r, g, b), radius: 0.0 })
        .collect();
    let text_rect = Rect::new(4.0, 4.0, 72.0, 40.0);
    elements.push(Element::Rect { rect: text_rect, color: Color::rgb(0, 0, 0), radius: 0.0 });
    elements.push(Element::Text(TextBox {
        rect: text_rect,
        text: "Él".to_owned(),
        size_range: (32.0, 32.0),
        max_lines: 1,
        bold: true,
        color: Color::rgb(255, 255, 255),
        align: Align::Left,
        valign: VAlign::Top,
    }));
    let scene = Scene { width: W, height: H, background: Color::rgb(0, 0, 0), elements };
    let mut renderer = SlideRenderer::new(gpu);
    let slide = renderer.draw(gpu, &scene);
    let compositor = Compositor::new(&gpu.device, SLIDE_FORMAT);
    let binding = compositor.bind(&gpu.device, &slide.texture);
    // Rotated 90° clockwise: the output is H×W and the slide's top-left lands top-right.
    let frame = compose_offscreen(
        gpu,
        &compositor,
        (H, W),
        &[Layer { slide: &binding, opacity: 1.0 }],
        Rotation::R90,
        1.0,
    )?;
    let rotated = |x: u32, y: u32| (H - 1 - y, x);
    let mut mismatches = Vec::new();
    for &(rect, expected) in &colours {
        let (x, y) = ((rect.x + rect.w * 0.75) as u32, (rect.y + rect.h * 0.75) as u32);
        let (ox, oy) = rotated(x, y);
        let p = frame.get_pixel(ox, oy).0;
        let got = [p[0], p[1], p[2]];
        if got.iter().zip(expected).any(|(g, e)| g.abs_diff(e) > 8) {
            mismatches.push((x, y, expected, got));
        }
    }
    let mut text_pixels = 0;
    for y in text_rect.y as u32..text_rect.bottom() as u32 {
        for x in text_rect.x as u32..text_rect.right() as u32 {
            let (ox, oy) = rotated(x, y);
            if frame.get_pixel(ox, oy).0[0] > 128 {
                text_pixels += 1;
            }
        }
    }
    Ok(SelfTestReport { mismatches, text_pixels })
}
