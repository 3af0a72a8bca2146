//! Slides are drawn in an sRGB texture, so that text edges and scaled pictures blend in linear
//! light, then settled once into the 8-bit texture they are kept and composed from, which
//! holds the same encoded bytes in a format that is not sRGB. Composing then reads and writes
//! bytes as they are (see [`super::compose`]): no conversion per pixel on every frame.

use super::layouts;

/// The pipeline that settles drawn slides, for one kept format.
#[derive(Debug)]
pub struct Settler {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
}

impl Settler {
    pub fn new(device: &wgpu::Device, kept: wgpu::TextureFormat) -> Settler {
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
        Settler { pipeline, layout }
    }

    /// Binds `drawn` (sRGB) for settling into `kept` (the same size, not sRGB).
    pub fn prepare(
        &self,
        device: &wgpu::Device,
        drawn: &wgpu::Texture,
        kept: &wgpu::Texture,
    ) -> PreparedSettle {
        let drawn_view = drawn.create_view(&wgpu::TextureViewDescriptor::default());
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("settle"),
            layout: &self.layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::TextureView(&drawn_view),
            }],
        });
        PreparedSettle { group, kept: kept.create_view(&wgpu::TextureViewDescriptor::default()) }
    }

    /// Records the settling pass: every texel of the drawn slide into the kept one.
    pub fn render(&self, encoder: &mut wgpu::CommandEncoder, prepared: &PreparedSettle) {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("settle pass"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &prepared.kept,
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
        pass.set_bind_group(0, &prepared.group, &[]);
        pass.draw(0..4, 0..1);
    }
}

/// A settling pass ready to record.
#[derive(Debug)]
pub struct PreparedSettle {
    group: wgpu::BindGroup,
    kept: wgpu::TextureView,
}
