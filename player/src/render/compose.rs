//! Composes slide textures onto an output, the only work done per frame.
//!
//! A static screen costs nothing; a crossfade draws the outgoing slide, then the incoming one
//! at growing opacity. Rotation (panels hung in portrait) and night dimming happen here, in
//! the renderer, never in the OS.

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
struct LayerUniform {
    m: [f32; 4],
    area: [f32; 4],
    opacity: f32,
    brightness: f32,
    _pad: [f32; 2],
}

/// The composition pipeline for one output format.
#[derive(Debug)]
pub struct Compositor {
    pipeline: wgpu::RenderPipeline,
    slide_layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    /// One uniform buffer per layer, so both layers of a crossfade go in one submission.
    layers: [(wgpu::Buffer, wgpu::BindGroup); 2],
}

impl Compositor {
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Compositor {
        let shader = device.create_shader_module(wgpu::include_wgsl!("compose.wgsl"));
        let layer_layout =
            layouts::uniform_layout(device, "compose layer layout", wgpu::ShaderStages::VERTEX_FRAGMENT);
        let slide_layout = layouts::texture_layout(device, "compose slide layout");
        let pipeline = layouts::strip_pipeline(
            device,
            "compose pipeline",
            &shader,
            &[Some(&layer_layout), Some(&slide_layout)],
            &[],
            format,
        );
        let sampler = layouts::sampler(device, "compose sampler", wgpu::FilterMode::Linear);
        let layer = |label| {
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size_of::<LayerUniform>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &layer_layout,
                entries: &[wgpu::BindGroupEntry { binding: 0, resource: buffer.as_entire_binding() }],
            });
            (buffer, bind_group)
        };
        Compositor {
            pipeline,
            slide_layout,
            sampler,
            layers: [layer("compose layer 0"), layer("compose layer 1")],
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

    /// Writes the layers' parameters: the prepare half. At most two layers. A slide whose
    /// shape (after rotation) differs from the output's is letterboxed, never stretched.
    pub fn prepare(
        &self,
        queue: &wgpu::Queue,
        layers: &[Layer<'_>],
        rotation: Rotation,
        brightness: f32,
        output: (u32, u32),
    ) {
        for (index, layer) in layers.iter().take(2).enumerate() {
            let area = fit_area(output, layer.slide.size, rotation);
            let uniform = LayerUniform {
                m: rotation_matrix(rotation),
                area,
                opacity: layer.opacity.clamp(0.0, 1.0),
                brightness: brightness.clamp(0.0, 1.0),
                _pad: [0.0; 2],
            };
            queue.write_buffer(&self.layers[index].0, 0, bytemuck::bytes_of(&uniform));
        }
    }

    /// Records the frame into `target`: black, then each layer in order.
    pub fn render(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        target: &wgpu::TextureView,
        layers: &[Layer<'_>],
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
        pass.set_pipeline(&self.pipeline);
        for (index, layer) in layers.iter().take(2).enumerate() {
            pass.set_bind_group(0, &self.layers[index].1, &[]);
            pass.set_bind_group(1, &layer.slide.bind_group, &[]);
            pass.draw(0..4, 0..1);
        }
    }
}

/// The clip-space rectangle where a `slide` turned by `rotation` fits the `output`, centred.
fn fit_area(output: (u32, u32), slide: (u32, u32), rotation: Rotation) -> [f32; 4] {
    let (sw, sh) = match rotation {
        Rotation::R0 | Rotation::R180 => slide,
        Rotation::R90 | Rotation::R270 => (slide.1, slide.0),
    };
    let (ow, oh) = (output.0.max(1) as f32, output.1.max(1) as f32);
    let scale = (ow / sw.max(1) as f32).min(oh / sh.max(1) as f32);
    let (w, h) = (sw as f32 * scale / ow, sh as f32 * scale / oh);
    [-w, h, w, -h]
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
        let cases = [
            ((1920, 1080), (1920, 1080), Rotation::R0, [-1.0, 1.0, 1.0, -1.0]),
            ((1920, 1080), (1080, 1920), Rotation::R90, [-1.0, 1.0, 1.0, -1.0]),
            ((1920, 1080), (1080, 1920), Rotation::R0, [-0.31640625, 1.0, 0.31640625, -1.0]),
            ((1080, 1920), (1920, 1080), Rotation::R0, [-1.0, 0.31640625, 1.0, -0.31640625]),
        ];
        for (output, slide, rotation, expected) in cases {
            let area = fit_area(output, slide, rotation);
            for (got, want) in area.iter().zip(expected) {
                assert!((got - want).abs() < 1e-5, "{output:?} {slide:?} {rotation:?}: {area:?}");
            }
        }
    }
}
