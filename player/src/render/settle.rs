//! Slides are drawn in an sRGB texture, so that text edges and scaled pictures blend in linear
//! light, then settled once into the 8-bit texture they are kept and composed from, which
//! holds the same encoded bytes in a format that is not sRGB. Composing then reads and writes
//! bytes as they are (see [`super::compose`]): no conversion per pixel on every frame. Where
//! the backend copies between the two formats byte for byte (Vulkan), settling is that copy;
//! OpenGL ES forbids such copies, so there it is a pass that reads and encodes every texel.

use super::layouts;

/// The pipeline that settles drawn slides, for one kept format.
#[derive(Debug)]
pub struct Settler {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    /// Settle by copying (the drawn and kept formats differ only in being sRGB).
    copies: bool,
}

impl Settler {
    /// `copies`: the backend copies between sRGB and plain formats as bytes (not OpenGL).
    pub fn new(device: &wgpu::Device, kept: wgpu::TextureFormat, copies: bool) -> Settler {
        let shader = device.create_shader_module(wgpu::include_wgsl!("settle.wgsl"));
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("settle layout"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Texture {
                    multisampled: false,
                    view_dimension: wgpu::TextureViewDimension::D2,
                    sample_type: wgpu::TextureSampleType::Float { filterable: false },
                },
                count: None,
            }],
        });
        let target = layouts::Target { format: kept, fragment_entry: "fs_main", blend: None };
        let pipeline =
            layouts::strip_pipeline(device, "settle pipeline", &shader, &[Some(&layout)], &[], target);
        Settler { pipeline, layout, copies }
    }

    /// Readies the settling of `drawn` (sRGB) into `kept` (the same size, not sRGB).
    pub fn prepare(
        &self,
        device: &wgpu::Device,
        drawn: &wgpu::Texture,
        kept: &wgpu::Texture,
    ) -> PreparedSettle {
        if self.copies {
            return PreparedSettle::Copy { drawn: drawn.clone(), kept: kept.clone() };
        }
        let drawn_view = drawn.create_view(&wgpu::TextureViewDescriptor::default());
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("settle"),
            layout: &self.layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::TextureView(&drawn_view),
            }],
        });
        PreparedSettle::Pass { group, kept: kept.create_view(&wgpu::TextureViewDescriptor::default()) }
    }

    /// Records the settling: every texel of the drawn slide into the kept one.
    pub fn render(&self, encoder: &mut wgpu::CommandEncoder, prepared: &PreparedSettle) {
        let (group, kept) = match prepared {
            PreparedSettle::Copy { drawn, kept } => {
                encoder.copy_texture_to_texture(drawn.as_image_copy(), kept.as_image_copy(), kept.size());
                return;
            }
            PreparedSettle::Pass { group, kept } => (group, kept),
        };
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("settle pass"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: kept,
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
        pass.set_bind_group(0, group, &[]);
        pass.draw(0..4, 0..1);
    }
}

/// A settling ready to record.
#[derive(Debug)]
pub enum PreparedSettle {
    Copy { drawn: wgpu::Texture, kept: wgpu::Texture },
    Pass { group: wgpu::BindGroup, kept: wgpu::TextureView },
}
