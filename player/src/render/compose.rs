//! Composes slide textures onto an output, the only work done per frame.
//!
//! A static screen costs nothing; a frame is one draw per slide layer, each a rectangle whose
//! corners carry the slide's coordinates (rotation for panels hung sideways and letterboxing
//! are there, not in per-pixel math) and whose fragment stage reads one texel. Slides are
//! kept as 8-bit gamma-encoded textures (see [`super::settle`]) and composed onto an 8-bit
//! target that is not sRGB: a crossfade mixes encoded values, as browsers do, with the
//! pipeline's constant blend, and night dimming is one more blended draw. On a software
//! rasterizer this is the difference between converting every pixel to linear light and back
//! on every frame and copying bytes; on a GPU it is the usual blending hardware.

use bytemuck::{Pod, Zeroable};

use super::layouts;
use palier_content::config::Rotation;

/// One slide layer of a frame.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    pub slide: &'a SlideBinding,
    pub opacity: f32,
}

/// A slide texture bound for composition: read texel for texel when it maps one to one onto
/// the output, filtered when scaled.
#[derive(Debug)]
pub struct SlideBinding {
    texture: wgpu::Texture,
    exact: wgpu::BindGroup,
    scaled: wgpu::BindGroup,
    /// The slide texture's size.
    size: (u32, u32),
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
struct Placement {
    /// Clip space: left, top, right, bottom.
    rect: [f32; 4],
    /// Slide coordinates at the corners: top left, top right, bottom left, bottom right.
    top: [f32; 4],
    bottom: [f32; 4],
}

/// The most layers a frame composes (the outgoing and the incoming slide).
const LAYERS: usize = 2;

/// What `prepare` decided for the frame `render` records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prepared {
    layers: [Option<LayerDraw>; LAYERS],
    /// The first layer is the output's size, upright, opaque and of the output's format: it
    /// is copied, not drawn (where the output takes copies: Vulkan surfaces and textures).
    copy_first: bool,
    /// The night's dimming as a factor on encoded values (`None` by day).
    dim: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct LayerDraw {
    /// Every texel maps onto one output pixel: read, not filtered.
    exact: bool,
    /// Below 1, drawn over what is there with this weight.
    opacity: f32,
}

/// The composition pipelines for one output format.
#[derive(Debug)]
pub struct Compositor {
    /// A layer written over the target.
    opaque: wgpu::RenderPipeline,
    /// A layer mixed with the target by the blend constant (its opacity).
    fade: wgpu::RenderPipeline,
    /// Scales the target by the blend constant (night dimming).
    dim: wgpu::RenderPipeline,
    slide_layout: wgpu::BindGroupLayout,
    nearest: wgpu::Sampler,
    linear: wgpu::Sampler,
    /// One placement per layer slot, and the whole output's (for dimming).
    placements: [(wgpu::Buffer, wgpu::BindGroup); LAYERS],
    whole: (wgpu::Buffer, wgpu::BindGroup),
}

impl Compositor {
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Compositor {
        let shader = device.create_shader_module(wgpu::include_wgsl!("compose.wgsl"));
        let placement_layout =
            layouts::uniform_layout(device, "compose placement layout", wgpu::ShaderStages::VERTEX);
        let slide_layout = layouts::texture_layout(device, "compose slide layout");
        let with_slide = [Some(&placement_layout), Some(&slide_layout)];
        let pipeline = |label, groups: &[Option<&wgpu::BindGroupLayout>], entry, blend| {
            let target = layouts::Target { format, fragment_entry: entry, blend };
            layouts::strip_pipeline(device, label, &shader, groups, &[], target)
        };
        let constant = |src, dst| wgpu::BlendComponent {
            src_factor: src,
            dst_factor: dst,
            operation: wgpu::BlendOperation::Add,
        };
        let mix = constant(wgpu::BlendFactor::Constant, wgpu::BlendFactor::OneMinusConstant);
        let scale = constant(wgpu::BlendFactor::Zero, wgpu::BlendFactor::Constant);
        let placement = |label| {
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size_of::<Placement>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &placement_layout,
                entries: &[wgpu::BindGroupEntry { binding: 0, resource: buffer.as_entire_binding() }],
            });
            (buffer, group)
        };
        Compositor {
            opaque: pipeline("compose pipeline (opaque)", &with_slide, "fs_slide", None),
            fade: pipeline(
                "compose pipeline (fade)",
                &with_slide,
                "fs_slide",
                Some(wgpu::BlendState { color: mix, alpha: mix }),
            ),
            dim: pipeline(
                "compose pipeline (dim)",
                &[Some(&placement_layout)],
                "fs_dim",
                Some(wgpu::BlendState {
                    color: scale,
                    alpha: constant(wgpu::BlendFactor::Zero, wgpu::BlendFactor::One),
                }),
            ),
            slide_layout,
            nearest: layouts::sampler(device, "compose sampler (exact)", wgpu::FilterMode::Nearest),
            linear: layouts::sampler(device, "compose sampler (scaled)", wgpu::FilterMode::Linear),
            placements: [placement("compose layer 1"), placement("compose layer 2")],
            whole: placement("compose whole output"),
        }
    }

    /// Binds a slide texture for composition; keep the binding as long as the slide.
    pub fn bind(&self, device: &wgpu::Device, slide: &wgpu::Texture) -> SlideBinding {
        let view = slide.create_view(&wgpu::TextureViewDescriptor::default());
        let group = |label, sampler: &wgpu::Sampler| {
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &self.slide_layout,
                entries: &[
                    wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(&view) },
                    wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::Sampler(sampler) },
                ],
            })
        };
        SlideBinding {
            texture: slide.clone(),
            exact: group("compose slide (exact)", &self.nearest),
            scaled: group("compose slide (scaled)", &self.linear),
            size: (slide.width(), slide.height()),
        }
    }

    /// Writes the frame's placements: the prepare half. One or two layers (more are
    /// ignored): the first over black, the second over the first. A slide whose shape
    /// (after rotation) differs from the output's is letterboxed, never stretched.
    /// `brightness` scales the light (1 by day).
    pub fn prepare(
        &self,
        queue: &wgpu::Queue,
        layers: &[Layer<'_>],
        rotation: Rotation,
        brightness: f32,
        target: &wgpu::Texture,
    ) -> Prepared {
        let output = (target.width(), target.height());
        let mut prepared = Prepared { layers: [None; LAYERS], copy_first: false, dim: None };
        for (slot, layer) in layers.iter().take(LAYERS).enumerate() {
            let opacity = layer.opacity.clamp(0.0, 1.0);
            let extent = fit_extent(output, layer.slide.size, rotation);
            let placement = placement(rotation, extent);
            queue.write_buffer(&self.placements[slot].0, 0, bytemuck::bytes_of(&placement));
            let exact = turned(layer.slide.size, rotation) == output;
            prepared.layers[slot] = Some(LayerDraw { exact, opacity });
            if slot == 0 {
                let slide = &layer.slide.texture;
                prepared.copy_first = exact
                    && rotation == Rotation::R0
                    && opacity >= 1.0
                    && slide.format() == target.format()
                    && slide.usage().contains(wgpu::TextureUsages::COPY_SRC)
                    && target.usage().contains(wgpu::TextureUsages::COPY_DST);
            }
        }
        let brightness = brightness.clamp(0.0, 1.0);
        if brightness < 1.0 {
            queue.write_buffer(&self.whole.0, 0, bytemuck::bytes_of(&placement(Rotation::R0, (1.0, 1.0))));
            prepared.dim = Some(encoded_scale(brightness));
        }
        prepared
    }

    /// Records the frame into `target`: black, then each layer, then dimming.
    pub fn render(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        target: &wgpu::Texture,
        layers: &[Layer<'_>],
        prepared: Prepared,
    ) {
        let copied = match layers.first() {
            Some(first) if prepared.copy_first => {
                encoder.copy_texture_to_texture(
                    first.slide.texture.as_image_copy(),
                    target.as_image_copy(),
                    target.size(),
                );
                1
            }
            _ => 0,
        };
        let view = target.create_view(&wgpu::TextureViewDescriptor::default());
        let load = if copied == 1 { wgpu::LoadOp::Load } else { wgpu::LoadOp::Clear(wgpu::Color::BLACK) };
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("compose pass"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations { load, store: wgpu::StoreOp::Store },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        for (slot, (layer, draw)) in layers.iter().zip(prepared.layers).enumerate().skip(copied) {
            let Some(draw) = draw else { continue };
            if draw.opacity <= 0.0 {
                continue;
            }
            if draw.opacity < 1.0 {
                pass.set_pipeline(&self.fade);
                let weight = f64::from(draw.opacity);
                pass.set_blend_constant(wgpu::Color { r: weight, g: weight, b: weight, a: weight });
            } else {
                pass.set_pipeline(&self.opaque);
            }
            pass.set_bind_group(0, &self.placements[slot].1, &[]);
            pass.set_bind_group(1, if draw.exact { &layer.slide.exact } else { &layer.slide.scaled }, &[]);
            pass.draw(0..4, 0..1);
        }
        if let Some(factor) = prepared.dim {
            let factor = f64::from(factor);
            pass.set_pipeline(&self.dim);
            pass.set_blend_constant(wgpu::Color { r: factor, g: factor, b: factor, a: 1.0 });
            pass.set_bind_group(0, &self.whole.1, &[]);
            pass.draw(0..4, 0..1);
        }
    }
}

/// The factor on gamma-encoded values that scales the light by `brightness` (exact for a
/// pure 2.2 gamma, within a few levels of 255 for sRGB's dark end).
pub fn encoded_scale(brightness: f32) -> f32 {
    brightness.clamp(0.0, 1.0).powf(1.0 / 2.2)
}

/// Where a slide turned by `rotation` and covering `extent` of the output (centred) goes, and
/// which slide corner lands on each corner of that rectangle: the content turns clockwise
/// by `rotation` on the panel.
fn placement(rotation: Rotation, extent: (f32, f32)) -> Placement {
    // Slide coordinates of the panel's top left, top right, bottom left, bottom right.
    let corners: [[f32; 2]; 4] = match rotation {
        Rotation::R0 => [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        Rotation::R90 => [[0.0, 1.0], [0.0, 0.0], [1.0, 1.0], [1.0, 0.0]],
        Rotation::R180 => [[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]],
        Rotation::R270 => [[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.0, 1.0]],
    };
    let [tl, tr, bl, br] = corners;
    Placement {
        rect: [-extent.0, extent.1, extent.0, -extent.1],
        top: [tl[0], tl[1], tr[0], tr[1]],
        bottom: [bl[0], bl[1], br[0], br[1]],
    }
}

/// A slide's size once turned by `rotation`.
fn turned(slide: (u32, u32), rotation: Rotation) -> (u32, u32) {
    match rotation {
        Rotation::R0 | Rotation::R180 => slide,
        Rotation::R90 | Rotation::R270 => (slide.1, slide.0),
    }
}

/// The share of the output's width and height that a `slide` turned by `rotation` covers
/// once fitted inside it, centred.
fn fit_extent(output: (u32, u32), slide: (u32, u32), rotation: Rotation) -> (f32, f32) {
    let (sw, sh) = turned(slide, rotation);
    let (ow, oh) = (output.0.max(1) as f32, output.1.max(1) as f32);
    let scale = (ow / sw.max(1) as f32).min(oh / sh.max(1) as f32);
    (sw as f32 * scale / ow, sh as f32 * scale / oh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slides_fill_matching_outputs_and_are_letterboxed_otherwise() {
        let third = 1080.0 * 1080.0 / 1920.0 / 1920.0;
        let cases = [
            ((1920, 1080), (1920, 1080), Rotation::R0, (1.0, 1.0)),
            ((1920, 1080), (1080, 1920), Rotation::R90, (1.0, 1.0)),
            ((1920, 1080), (1080, 1920), Rotation::R0, (third, 1.0)),
            ((1080, 1920), (1920, 1080), Rotation::R0, (1.0, third)),
        ];
        for (output, slide, rotation, (w, h)) in cases {
            let extent = fit_extent(output, slide, rotation);
            assert!(
                (extent.0 - w).abs() < 1e-5 && (extent.1 - h).abs() < 1e-5,
                "{output:?} {slide:?}: {extent:?}"
            );
        }
    }

    /// Where an output point (0..1, y down) lands on the slide, as the rasterizer
    /// interpolates the rectangle's corners; `None` outside the rectangle (black there).
    fn slide_uv(placement: &Placement, p: (f32, f32)) -> Option<(f32, f32)> {
        // Output point in clip space (y up), then its place across the rectangle.
        let (cx, cy) = (p.0 * 2.0 - 1.0, 1.0 - p.1 * 2.0);
        let [left, top, right, bottom] = placement.rect;
        let (s, t) = ((cx - left) / (right - left), (cy - top) / (bottom - top));
        if !(-1e-4..=1.0 + 1e-4).contains(&s) || !(-1e-4..=1.0 + 1e-4).contains(&t) {
            return None;
        }
        let lerp = |a: f32, b: f32, w: f32| a + (b - a) * w;
        let (top_row, bottom_row) = (placement.top, placement.bottom);
        let u = lerp(lerp(top_row[0], top_row[2], s), lerp(bottom_row[0], bottom_row[2], s), t);
        let v = lerp(lerp(top_row[1], top_row[3], s), lerp(bottom_row[1], bottom_row[3], s), t);
        Some((u, v))
    }

    #[test]
    fn output_points_land_on_the_right_slide_points() {
        let third = 1080.0 * 1080.0 / 1920.0 / 1920.0;
        let cases = [
            ("upright", Rotation::R0, (1.0, 1.0), (0.0, 0.0), Some((0.0, 0.0))),
            ("upright, bottom right", Rotation::R0, (1.0, 1.0), (1.0, 1.0), Some((1.0, 1.0))),
            ("upright, a quarter across", Rotation::R0, (1.0, 1.0), (0.25, 0.5), Some((0.25, 0.5))),
            // Turned clockwise: the slide's top left is at the panel's top right.
            ("turned 90°", Rotation::R90, (1.0, 1.0), (1.0, 0.0), Some((0.0, 0.0))),
            ("turned 90°, panel's top left", Rotation::R90, (1.0, 1.0), (0.0, 0.0), Some((0.0, 1.0))),
            ("turned 90°, a quarter across", Rotation::R90, (1.0, 1.0), (0.25, 0.5), Some((0.5, 0.75))),
            ("turned 180°", Rotation::R180, (1.0, 1.0), (1.0, 1.0), Some((0.0, 0.0))),
            ("turned 270°", Rotation::R270, (1.0, 1.0), (0.0, 1.0), Some((0.0, 0.0))),
            ("turned 270°, a quarter across", Rotation::R270, (1.0, 1.0), (0.25, 0.5), Some((0.5, 0.25))),
            // A portrait slide letterboxed on a landscape output: its left edge is a third
            // of the way in from the centre; the bars beside it show no slide.
            ("letterboxed left edge", Rotation::R0, (third, 1.0), (0.5 - third / 2.0, 0.0), Some((0.0, 0.0))),
            ("letterboxed middle", Rotation::R0, (third, 1.0), (0.5, 0.5), Some((0.5, 0.5))),
            ("letterbox bar", Rotation::R0, (third, 1.0), (0.1, 0.5), None),
        ];
        for (name, rotation, extent, output_point, want) in cases {
            let got = slide_uv(&placement(rotation, extent), output_point);
            let close = match (got, want) {
                (Some(g), Some(w)) => (g.0 - w.0).abs() < 1e-3 && (g.1 - w.1).abs() < 1e-3,
                (None, None) => true,
                _ => false,
            };
            assert!(close, "{name}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn dimming_on_encoded_values_scales_the_light() {
        // sRGB encode of linear light, as 0..255.
        let encode = |linear: f32| {
            let s =
                if linear <= 0.003_130_8 { linear * 12.92 } else { 1.055 * linear.powf(1.0 / 2.4) - 0.055 };
            s * 255.0
        };
        let decode = |byte: f32| {
            let c = byte / 255.0;
            if c <= 0.040_45 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        for brightness in [1.0, 0.8, 0.5, 0.3] {
            for byte in [60.0, 128.0, 200.0, 255.0] {
                let exact = encode(decode(byte) * brightness);
                let ours = byte * encoded_scale(brightness);
                assert!((exact - ours).abs() <= 4.0, "{byte} at {brightness}: {ours} instead of {exact}");
            }
        }
        assert_eq!(encoded_scale(1.0), 1.0);
        assert_eq!(encoded_scale(0.0), 0.0);
    }
}
