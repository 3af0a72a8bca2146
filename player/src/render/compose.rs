//! Composes slide textures onto an output, the only work done per frame.
//!
//! A static screen costs nothing; a crossfade frame is one full-output draw that reads the
//! outgoing and the incoming slide and writes every pixel once, opaque (no blending, which
//! on a software rasterizer costs a read of the target and a second pass). Slides the size of
//! the output are read texel by texel, without filtering; rotation (panels hung in portrait),
//! letterboxing and night dimming happen in the same draw, in the renderer, never in the OS.

use bytemuck::{Pod, Zeroable};

use super::layouts;
use palier_content::config::Rotation;

/// One slide layer of a frame.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    pub slide: &'a SlideBinding,
    pub opacity: f32,
}

/// A slide texture bound for composition.
#[derive(Debug)]
pub struct SlideBinding {
    bind_group: wgpu::BindGroup,
    /// The slide texture's size.
    size: (u32, u32),
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct FrameUniform {
    /// Per layer, output coordinates to slide coordinates (rotation and letterbox scale).
    a: [f32; 4],
    b: [f32; 4],
    opacity: [f32; 2],
    brightness: f32,
    _pad: f32,
}

/// What `prepare` decided for the frame `render` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// Every layer maps one to one onto output pixels: texels are read, not filtered.
    exact: bool,
}

/// The composition pipelines for one output format.
#[derive(Debug)]
pub struct Compositor {
    /// For slides the size of the output (the usual case): one texel read per layer.
    exact: wgpu::RenderPipeline,
    /// For slides scaled to fit: filtered reads.
    scaled: wgpu::RenderPipeline,
    slide_layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    frame: (wgpu::Buffer, wgpu::BindGroup),
}

impl Compositor {
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Compositor {
        let shader = device.create_shader_module(wgpu::include_wgsl!("compose.wgsl"));
        let frame_layout =
            layouts::uniform_layout(device, "compose frame layout", wgpu::ShaderStages::FRAGMENT);
        let slide_layout = layouts::texture_layout(device, "compose slide layout");
        let groups = [Some(&frame_layout), Some(&slide_layout), Some(&slide_layout)];
        // Every pixel is written once, opaque: no blending with the target.
        let pipeline = |label, entry| {
            let target = layouts::Target { format, fragment_entry: entry, blend: None };
            layouts::strip_pipeline(device, label, &shader, &groups, &[], target)
        };
        let sampler = layouts::sampler(device, "compose sampler", wgpu::FilterMode::Linear);
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("compose frame"),
            size: size_of::<FrameUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("compose frame"),
            layout: &frame_layout,
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: buffer.as_entire_binding() }],
        });
        Compositor {
            exact: pipeline("compose pipeline (exact)", "fs_exact"),
            scaled: pipeline("compose pipeline (scaled)", "fs_scaled"),
            slide_layout,
            sampler,
            frame: (buffer, bind_group),
        }
    }

    /// Binds a slide texture for composition; keep the binding as long as the slide.
    pub fn bind(&self, device: &wgpu::Device, slide: &wgpu::Texture) -> SlideBinding {
        let view = slide.create_view(&wgpu::TextureViewDescriptor::default());
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("compose slide"),
            layout: &self.slide_layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(&view) },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::Sampler(&self.sampler) },
            ],
        });
        SlideBinding { bind_group, size: (slide.width(), slide.height()) }
    }

    /// Writes the frame's parameters: the prepare half. One or two layers (more are
    /// ignored): the first over black, the second over the first. A slide whose shape
    /// (after rotation) differs from the output's is letterboxed, never stretched.
    pub fn prepare(
        &self,
        queue: &wgpu::Queue,
        layers: &[Layer<'_>],
        rotation: Rotation,
        brightness: f32,
        output: (u32, u32),
    ) -> Prepared {
        let matrix = |layer: Option<&Layer<'_>>| {
            layer.map_or([0.0; 4], |l| slide_matrix(rotation, fit_extent(output, l.slide.size, rotation)))
        };
        let opacity = |layer: Option<&Layer<'_>>| layer.map_or(0.0, |l| l.opacity.clamp(0.0, 1.0));
        let uniform = FrameUniform {
            a: matrix(layers.first()),
            b: matrix(layers.get(1)),
            opacity: [opacity(layers.first()), opacity(layers.get(1))],
            brightness: brightness.clamp(0.0, 1.0),
            _pad: 0.0,
        };
        queue.write_buffer(&self.frame.0, 0, bytemuck::bytes_of(&uniform));
        let exact = layers.iter().take(2).all(|l| turned(l.slide.size, rotation) == output);
        Prepared { exact }
    }

    /// Records the frame into `target`: every pixel, in one draw.
    pub fn render(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        target: &wgpu::TextureView,
        layers: &[Layer<'_>],
        prepared: Prepared,
    ) {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("compose pass"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: target,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        let Some(first) = layers.first() else { return };
        // A single layer is bound twice; the second binding has opacity 0.
        let second = layers.get(1).unwrap_or(first);
        pass.set_pipeline(if prepared.exact { &self.exact } else { &self.scaled });
        pass.set_bind_group(0, &self.frame.1, &[]);
        pass.set_bind_group(1, &first.slide.bind_group, &[]);
        pass.set_bind_group(2, &second.slide.bind_group, &[]);
        pass.draw(0..4, 0..1);
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

/// Output coordinates to slide coordinates, around the centre: the content turns clockwise
/// by `rotation` on the panel and covers `extent` of the output.
fn slide_matrix(rotation: Rotation, extent: (f32, f32)) -> [f32; 4] {
    let [c0x, c0y, c1x, c1y] = rotation_matrix(rotation);
    [c0x / extent.0, c0y / extent.0, c1x / extent.1, c1y / extent.1]
}

/// Output coordinates to slide coordinates, around the centre: the content turns clockwise
/// by `rotation` on the panel.
fn rotation_matrix(rotation: Rotation) -> [f32; 4] {
    // Columns of the 2×2 matrix, each (x, y).
    match rotation {
        Rotation::R0 => [1.0, 0.0, 0.0, 1.0],
        Rotation::R90 => [0.0, -1.0, 1.0, 0.0],
        Rotation::R180 => [-1.0, 0.0, 0.0, -1.0],
        Rotation::R270 => [0.0, 1.0, -1.0, 0.0],
    }
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

    /// Where an output point (0..1, y down) lands on the slide, as the shader computes it.
    fn slide_uv(m: [f32; 4], p: (f32, f32)) -> (f32, f32) {
        let (x, y) = (p.0 - 0.5, p.1 - 0.5);
        (m[0] * x + m[2] * y + 0.5, m[1] * x + m[3] * y + 0.5)
    }

    #[test]
    fn output_corners_land_on_the_right_slide_corners() {
        let third = 1080.0 * 1080.0 / 1920.0 / 1920.0;
        let cases = [
            ("upright", Rotation::R0, (1.0, 1.0), (0.0, 0.0), (0.0, 0.0)),
            ("upright, bottom right", Rotation::R0, (1.0, 1.0), (1.0, 1.0), (1.0, 1.0)),
            // Turned clockwise: the slide's top left is at the panel's top right.
            ("turned 90°", Rotation::R90, (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)),
            ("turned 180°", Rotation::R180, (1.0, 1.0), (1.0, 1.0), (0.0, 0.0)),
            ("turned 270°", Rotation::R270, (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)),
            // A portrait slide letterboxed on a landscape output: its left edge is a third
            // of the way in from the centre.
            ("letterboxed left edge", Rotation::R0, (third, 1.0), (0.5 - third / 2.0, 0.0), (0.0, 0.0)),
            ("letterbox bar", Rotation::R0, (third, 1.0), (0.1, 0.5), (-0.764_2, 0.5)),
        ];
        for (name, rotation, extent, output_point, want) in cases {
            let got = slide_uv(slide_matrix(rotation, extent), output_point);
            assert!((got.0 - want.0).abs() < 1e-3 && (got.1 - want.1).abs() < 1e-3, "{name}: {got:?}");
        }
    }
}
