//! Rectangles and pictures: one instanced pipeline draws rounded rectangles, solid or
//! textured, in target pixels.
//!
//! Solid rectangles sample a 1×1 white texture, so both kinds share one pipeline and runs
//! of rectangles with the same texture go out in a single instanced draw.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::gpu::Gpu;
use super::layouts;

/// One rectangle as the shader reads it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct QuadInstance {
    pub rect: [f32; 4],
    pub uv: [f32; 4],
    /// Linear RGB with straight alpha.
    pub color: [f32; 4],
    pub radius: f32,
    pub _pad: [f32; 3],
}

/// A texture ready to be drawn by the quad pipeline.
#[derive(Debug)]
pub struct QuadTexture {
    pub texture: wgpu::Texture,
    pub bind_group: wgpu::BindGroup,
}

impl QuadTexture {
    pub fn size(&self) -> (u32, u32) {
        (self.texture.width(), self.texture.height())
    }
}

/// How a texture is sampled: smooth for photos, crisp for QR codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    Smooth,
    Crisp,
}

/// The pipeline, its layouts and samplers, for one target format.
#[derive(Debug)]
pub struct QuadPipeline {
    pipeline: wgpu::RenderPipeline,
    globals_layout: wgpu::BindGroupLayout,
    texture_layout: wgpu::BindGroupLayout,
    smooth: wgpu::Sampler,
    crisp: wgpu::Sampler,
}

impl QuadPipeline {
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> QuadPipeline {
        let shader = device.create_shader_module(wgpu::include_wgsl!("quad.wgsl"));
        let globals_layout =
            layouts::uniform_layout(device, "quad globals layout", wgpu::ShaderStages::VERTEX);
        let texture_layout = layouts::texture_layout(device, "quad texture layout");
        let attributes =
            wgpu::vertex_attr_array![0 => Float32x4, 1 => Float32x4, 2 => Float32x4, 3 => Float32];
        let instances = wgpu::VertexBufferLayout {
            array_stride: size_of::<QuadInstance>() as wgpu::BufferAddress,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &attributes,
        };
        let pipeline = layouts::strip_pipeline(
            device,
            "quad pipeline",
            &shader,
            &[Some(&globals_layout), Some(&texture_layout)],
            &[Some(instances)],
            layouts::Target {
                format,
                fragment_entry: "fs_main",
                blend: Some(wgpu::BlendState::ALPHA_BLENDING),
            },
        );
        QuadPipeline {
            pipeline,
            globals_layout,
            texture_layout,
            smooth: layouts::sampler(device, "smooth sampler", wgpu::FilterMode::Linear),
            crisp: layouts::sampler(device, "crisp sampler", wgpu::FilterMode::Nearest),
        }
    }

    /// Uploads an sRGB RGBA picture as a texture the pipeline can draw.
    pub fn upload(
        &self,
        gpu: &Gpu,
        label: &str,
        (width, height): (u32, u32),
        rgba: &[u8],
        sampling: Sampling,
    ) -> QuadTexture {
        let (device, queue) = (&gpu.device, &gpu.queue);
        let size = wgpu::Extent3d { width, height, depth_or_array_layers: 1 };
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8UnormSrgb,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        queue.write_texture(
            texture.as_image_copy(),
            rgba,
            wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(4 * width), rows_per_image: None },
            size,
        );
        let bind_group = self.bind_texture(device, label, &texture, sampling);
        QuadTexture { texture, bind_group }
    }

    /// A bind group sampling `texture`, for textures made elsewhere (slides).
    pub fn bind_texture(
        &self,
        device: &wgpu::Device,
        label: &str,
        texture: &wgpu::Texture,
        sampling: Sampling,
    ) -> wgpu::BindGroup {
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let sampler = match sampling {
            Sampling::Smooth => &self.smooth,
            Sampling::Crisp => &self.crisp,
        };
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &self.texture_layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(&view) },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::Sampler(sampler) },
            ],
        })
    }

    /// Uploads the target size and the instances of one pass: the prepare half.
    pub fn prepare(
        &self,
        device: &wgpu::Device,
        target: (u32, u32),
        instances: &[QuadInstance],
    ) -> PreparedQuads {
        let globals: [f32; 4] = [target.0 as f32, target.1 as f32, 0.0, 0.0];
        let globals_buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("quad globals"),
            contents: bytemuck::cast_slice(&globals),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let globals = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("quad globals"),
            layout: &self.globals_layout,
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: globals_buffer.as_entire_binding() }],
        });
        let instances = (!instances.is_empty()).then(|| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("quad instances"),
                contents: bytemuck::cast_slice(instances),
                usage: wgpu::BufferUsages::VERTEX,
            })
        });
        PreparedQuads { globals, instances }
    }

    /// Records draws of `runs` (texture, instance range) in order: the render half.
    pub fn render<'a>(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        prepared: &PreparedQuads,
        runs: impl IntoIterator<Item = (&'a wgpu::BindGroup, std::ops::Range<u32>)>,
    ) {
        let Some(instances) = &prepared.instances else { return };
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &prepared.globals, &[]);
        pass.set_vertex_buffer(0, instances.slice(..));
        for (bind_group, range) in runs {
            pass.set_bind_group(1, bind_group, &[]);
            pass.draw(0..4, range);
        }
    }
}

/// Buffers uploaded for one pass.
#[derive(Debug)]
pub struct PreparedQuads {
    globals: wgpu::BindGroup,
    instances: Option<wgpu::Buffer>,
}

/// An sRGB colour channel (0–255) in linear light, as the blending hardware wants it.
pub fn srgb_to_linear(channel: u8) -> f32 {
    let c = f32::from(channel) / 255.0;
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}
