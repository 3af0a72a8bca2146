//! Draws a [`Scene`] once into its own texture: the slide the compositor then shows.
//!
//! `prepare` lays text out and uploads instances and glyphs; `render` records one pass: the
//! background, then rectangles, pictures and QR codes in scene order, then text on top. A
//! slide larger than the device's texture limit is drawn at a reduced scale and stretched
//! by the compositor, never refused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use glyphon::{Resolution, TextArea, TextAtlas, TextBounds, TextRenderer, Viewport};

use super::gpu::Gpu;
use super::images::DecodedImage;
use super::quad::{QuadInstance, QuadPipeline, QuadTexture, Sampling, srgb_to_linear};
use super::settle::{PreparedSettle, Settler};
use super::text::{LaidOutText, TextEngine};
use crate::scene::{Color, Element, Rect, Scene};

pub use super::format::SLIDE_FORMAT;

/// A drawn slide.
#[derive(Debug)]
pub struct SlideTexture {
    pub texture: wgpu::Texture,
    /// The scene size it was laid out for (the texture may be smaller, see module docs).
    pub scene_size: (u32, u32),
}

/// Everything needed to draw slides; owns no device, borrows the [`Gpu`] on each call.
pub struct SlideRenderer {
    quads: QuadPipeline,
    white: QuadTexture,
    pub text: TextEngine,
    atlas: TextAtlas,
    text_renderer: TextRenderer,
    viewport: Viewport,
    pictures: HashMap<PathBuf, QuadTexture>,
    settler: Settler,
    kept_format: wgpu::TextureFormat,
    /// The format slides are drawn in: the kept format's sRGB twin, so that text edges and
    /// pictures blend in linear light.
    draw_format: wgpu::TextureFormat,
}

impl std::fmt::Debug for SlideRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlideRenderer").field("pictures", &self.pictures.len()).finish_non_exhaustive()
    }
}

/// A slide's draw list after `prepare`.
#[derive(Debug)]
pub struct PreparedSlide {
    /// Where the slide is drawn (sRGB), then settled into `target`.
    drawn: wgpu::Texture,
    target: wgpu::Texture,
    settle: PreparedSettle,
    scene_size: (u32, u32),
    background: wgpu::Color,
    quads: super::quad::PreparedQuads,
    /// Instance ranges and the texture each is drawn with (`None` = white).
    runs: Vec<(Option<TextureRef>, std::ops::Range<u32>)>,
    /// QR codes become small textures of their own.
    qr_textures: Vec<QuadTexture>,
}

#[derive(Debug, Clone, PartialEq)]
enum TextureRef {
    Picture(PathBuf),
    Qr(usize),
}

impl SlideRenderer {
    /// A renderer whose slides are kept in [`SLIDE_FORMAT`].
    pub fn new(gpu: &Gpu) -> SlideRenderer {
        SlideRenderer::keeping(gpu, SLIDE_FORMAT)
    }

    /// A renderer whose slides are kept in `kept_format`: an 8-bit format that is not sRGB
    /// (the surface's, for windows).
    pub fn keeping(gpu: &Gpu, kept_format: wgpu::TextureFormat) -> SlideRenderer {
        let device = &gpu.device;
        let draw_format = kept_format.add_srgb_suffix();
        let quads = QuadPipeline::new(device, draw_format);
        let white = quads.upload(gpu, "white texel", (1, 1), &[255; 4], Sampling::Smooth);
        let cache = glyphon::Cache::new(device);
        let mut atlas = TextAtlas::new(device, &gpu.queue, &cache, draw_format);
        let text_renderer = TextRenderer::new(&mut atlas, device, wgpu::MultisampleState::default(), None);
        let viewport = Viewport::new(device, &cache);
        SlideRenderer {
            quads,
            white,
            text: TextEngine::new(),
            atlas,
            text_renderer,
            viewport,
            pictures: HashMap::new(),
            settler: Settler::new(device, kept_format, gpu.adapter.get_info().backend != wgpu::Backend::Gl),
            kept_format,
            draw_format,
        }
    }

    /// Uploads a decoded picture; scenes refer to it by path.
    pub fn add_picture(&mut self, gpu: &Gpu, picture: &DecodedImage) {
        let label = format!("picture {}", picture.path.display());
        let texture =
            self.quads.upload(gpu, &label, (picture.width, picture.height), &picture.rgba, Sampling::Smooth);
        self.pictures.insert(picture.path.clone(), texture);
    }

    pub fn has_picture(&self, path: &Path) -> bool {
        self.pictures.contains_key(path)
    }

    /// How many decoded pictures are uploaded.
    pub fn picture_count(&self) -> usize {
        self.pictures.len()
    }

    /// Drops uploaded pictures that `keep` does not list.
    pub fn retain_pictures(&mut self, keep: impl Fn(&Path) -> bool) {
        self.pictures.retain(|path, _| keep(path));
    }

    /// Draws `scene` into a new texture and submits the work.
    pub fn draw(&mut self, gpu: &Gpu, scene: &Scene) -> SlideTexture {
        let prepared = self.prepare(gpu, scene);
        let mut encoder =
            gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("slide") });
        self.render(&mut encoder, &prepared);
        gpu.queue.submit([encoder.finish()]);
        self.atlas.trim();
        SlideTexture { texture: prepared.target, scene_size: prepared.scene_size }
    }

    /// Lays out and uploads everything the slide needs.
    pub fn prepare(&mut self, gpu: &Gpu, scene: &Scene) -> PreparedSlide {
        let max_side = gpu.max_texture_side();
        let scale = (max_side as f32 / scene.width.max(scene.height) as f32).min(1.0);
        let width = ((scene.width as f32 * scale).round() as u32).max(1);
        let height = ((scene.height as f32 * scale).round() as u32).max(1);
        let target = slide_texture(
            &gpu.device,
            "slide",
            (width, height),
            self.kept_format,
            wgpu::TextureUsages::COPY_DST,
        );
        // Drawn here, settled into `target`, dropped with the prepared slide: no full-size
        // buffer is held between slides.
        let drawn = slide_texture(
            &gpu.device,
            "slide drawing",
            (width, height),
            self.draw_format,
            wgpu::TextureUsages::empty(),
        );
        let settle = self.settler.prepare(&gpu.device, &drawn, &target);

        let mut instances = Vec::new();
        let mut runs: Vec<(Option<TextureRef>, std::ops::Range<u32>)> = Vec::new();
        let mut qr_textures = Vec::new();
        let mut texts = Vec::new();
        let mut push = |texture: Option<TextureRef>, instance: QuadInstance| {
            let index = instances.len() as u32;
            instances.push(instance);
            match runs.last_mut() {
                Some((last, range)) if *last == texture => range.end = index + 1,
                _ => runs.push((texture, index..index + 1)),
            }
        };
        for element in &scene.elements {
            match element {
                Element::Rect { rect, color, radius } => {
                    push(None, instance(*rect, FULL_UV, *color, *radius))
                }
                Element::Image { rect, source, radius } => {
                    let Some(picture) = self.pictures.get(source) else {
                        tracing::warn!(picture = %source.display(), "picture not loaded; drawn as an empty frame");
                        continue;
                    };
                    let uv = cover_uv(picture.size(), *rect);
                    push(Some(TextureRef::Picture(source.clone())), instance(*rect, uv, WHITE, *radius));
                }
                Element::Qr { rect, size, modules } => {
                    let (side, rgba) = qr_pixels(*size, modules);
                    let label = format!("qr code {}", qr_textures.len());
                    qr_textures.push(self.quads.upload(gpu, &label, (side, side), &rgba, Sampling::Crisp));
                    push(Some(TextureRef::Qr(qr_textures.len() - 1)), instance(*rect, FULL_UV, WHITE, 0.0));
                }
                Element::Text(text_box) => texts.push((self.text.layout(text_box), text_box.color)),
                Element::Column { rect, gap, texts: column } => {
                    let mut y = rect.y;
                    for text_box in column {
                        let room = rect.bottom() - y;
                        if room < text_box.size_range.1 {
                            break;
                        }
                        let mut placed = text_box.clone();
                        placed.rect.y = y;
                        placed.rect.h = placed.rect.h.min(room);
                        let laid = self.text.layout(&placed);
                        y += laid.height + gap;
                        texts.push((laid, text_box.color));
                    }
                }
            }
        }
        let quads = self.quads.prepare(&gpu.device, (scene.width, scene.height), &instances);
        self.prepare_text(gpu, &texts, (width, height), scale);
        let [r, g, b, _] = scene.background.0;
        let background = wgpu::Color {
            r: f64::from(srgb_to_linear(r)),
            g: f64::from(srgb_to_linear(g)),
            b: f64::from(srgb_to_linear(b)),
            a: 1.0,
        };
        PreparedSlide {
            drawn,
            target,
            settle,
            scene_size: (scene.width, scene.height),
            background,
            quads,
            runs,
            qr_textures,
        }
    }

    fn prepare_text(&mut self, gpu: &Gpu, texts: &[(LaidOutText, Color)], size: (u32, u32), scale: f32) {
        self.viewport.update(&gpu.queue, Resolution { width: size.0, height: size.1 });
        let areas = texts.iter().map(|(laid, color)| {
            let [r, g, b, a] = color.0;
            TextArea {
                buffer: &laid.buffer,
                left: laid.left * scale,
                top: laid.top * scale,
                scale,
                bounds: TextBounds {
                    left: (laid.clip.x * scale).floor() as i32,
                    top: (laid.clip.y * scale).floor() as i32,
                    right: (laid.clip.right() * scale).ceil() as i32,
                    bottom: (laid.clip.bottom() * scale).ceil() as i32,
                },
                default_color: glyphon::Color::rgba(r, g, b, a),
                custom_glyphs: &[],
            }
        });
        let result = self.text_renderer.prepare(
            &gpu.device,
            &gpu.queue,
            &mut self.text.font_system,
            &mut self.atlas,
            &self.viewport,
            areas,
            &mut self.text.swash,
        );
        if let Err(e) = result {
            tracing::warn!(error = %e, "text did not fit the glyph atlas; some text is missing from this slide");
        }
    }

    /// Records the slide's render pass, then its settling into the kept texture.
    pub fn render(&self, encoder: &mut wgpu::CommandEncoder, prepared: &PreparedSlide) {
        self.render_drawing(encoder, prepared);
        self.settler.render(encoder, &prepared.settle);
    }

    fn render_drawing(&self, encoder: &mut wgpu::CommandEncoder, prepared: &PreparedSlide) {
        let view = prepared.drawn.create_view(&wgpu::TextureViewDescriptor::default());
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("slide pass"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(prepared.background),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        let runs = prepared.runs.iter().map(|(texture, range)| {
            let bind_group = match texture {
                None => &self.white.bind_group,
                Some(TextureRef::Picture(path)) => &self.pictures[path].bind_group,
                Some(TextureRef::Qr(index)) => &prepared.qr_textures[*index].bind_group,
            };
            (bind_group, range.clone())
        });
        self.quads.render(&mut pass, &prepared.quads, runs);
        if let Err(e) = self.text_renderer.render(&self.atlas, &self.viewport, &mut pass) {
            tracing::warn!(error = %e, "text could not be drawn on this slide");
        }
    }
}

/// A texture of `size` a slide is drawn into or kept in: a render target, sampled and copied
/// from, plus `extra` uses.
fn slide_texture(
    device: &wgpu::Device,
    label: &str,
    size: (u32, u32),
    format: wgpu::TextureFormat,
    extra: wgpu::TextureUsages,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d { width: size.0, height: size.1, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT
            | wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::COPY_SRC
            | extra,
        view_formats: &[],
    })
}

const FULL_UV: [f32; 4] = [0.0, 0.0, 1.0, 1.0];
const WHITE: Color = Color::rgb(255, 255, 255);

fn instance(rect: Rect, uv: [f32; 4], color: Color, radius: f32) -> QuadInstance {
    let [r, g, b, a] = color.0;
    QuadInstance {
        rect: [rect.x, rect.y, rect.w, rect.h],
        uv,
        color: [srgb_to_linear(r), srgb_to_linear(g), srgb_to_linear(b), f32::from(a) / 255.0],
        radius,
        _pad: [0.0; 3],
    }
}

/// Texture coordinates that scale a `picture` to cover `rect`, cropped around its centre.
pub fn cover_uv(picture: (u32, u32), rect: Rect) -> [f32; 4] {
    let picture_aspect = picture.0 as f32 / picture.1.max(1) as f32;
    let rect_aspect = rect.w / rect.h.max(1.0);
    if picture_aspect > rect_aspect {
        let visible = rect_aspect / picture_aspect;
        let margin = (1.0 - visible) / 2.0;
        [margin, 0.0, 1.0 - margin, 1.0]
    } else {
        let visible = picture_aspect / rect_aspect;
        let margin = (1.0 - visible) / 2.0;
        [0.0, margin, 1.0, 1.0 - margin]
    }
}

/// A QR code as RGBA pixels, one per module, with a four-module quiet zone.
fn qr_pixels(size: usize, modules: &[bool]) -> (u32, Vec<u8>) {
    const QUIET: usize = 4;
    let side = size + 2 * QUIET;
    let mut rgba = vec![255u8; side * side * 4];
    for (index, &dark) in modules.iter().enumerate() {
        if dark {
            let (x, y) = (index % size + QUIET, index / size + QUIET);
            let at = (y * side + x) * 4;
            rgba[at..at + 3].copy_from_slice(&[0, 0, 0]);
        }
    }
    (side as u32, rgba)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_cover_their_frame_cropped_around_the_centre() {
        let cases = [
            ((1000, 500), Rect::new(0.0, 0.0, 500.0, 500.0), [0.25, 0.0, 0.75, 1.0]),
            ((500, 1000), Rect::new(0.0, 0.0, 500.0, 500.0), [0.0, 0.25, 1.0, 0.75]),
            ((800, 600), Rect::new(0.0, 0.0, 400.0, 300.0), [0.0, 0.0, 1.0, 1.0]),
        ];
        for (picture, rect, expected) in cases {
            let uv = cover_uv(picture, rect);
            for (got, want) in uv.iter().zip(expected) {
                assert!((got - want).abs() < 1e-4, "{picture:?} in {rect:?}: {uv:?}");
            }
        }
    }
}
