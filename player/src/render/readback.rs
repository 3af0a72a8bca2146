//! Reads a rendered texture back into memory: headless frames, PNG files and tests see
//! exactly the pixels a window would get.

use super::gpu::Gpu;

/// Why a frame could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadbackError {
    #[error("the GPU did not finish the frame: {0}")]
    Poll(#[from] wgpu::PollError),
    #[error("the frame buffer could not be mapped: {0}")]
    Map(#[from] wgpu::BufferAsyncError),
    #[error("the frame buffer mapping was lost")]
    Lost,
}

/// Copies `texture` (8-bit RGBA or BGRA, with COPY_SRC) into an RGBA image.
pub fn read_rgba(gpu: &Gpu, texture: &wgpu::Texture) -> Result<image::RgbaImage, ReadbackError> {
    let (width, height) = (texture.width(), texture.height());
    let unpadded = width * 4;
    let padded = unpadded.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: u64::from(padded) * u64::from(height),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder =
        gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(height),
            },
        },
        wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
    );
    let submission = gpu.queue.submit([encoder.finish()]);
    let slice = buffer.slice(..);
    let (sender, receiver) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |result| {
        let _ = sender.send(result);
    });
    gpu.device.poll(wgpu::PollType::Wait { submission_index: Some(submission), timeout: None })?;
    receiver.recv().map_err(|_| ReadbackError::Lost)??;
    let mut pixels = Vec::with_capacity((unpadded * height) as usize);
    {
        let mapped = slice.get_mapped_range().map_err(|_| ReadbackError::Lost)?;
        for row in mapped.chunks(padded as usize).take(height as usize) {
            pixels.extend_from_slice(&row[..unpadded as usize]);
        }
    }
    buffer.unmap();
    if matches!(texture.format(), wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb) {
        for pixel in pixels.chunks_exact_mut(4) {
            pixel.swap(0, 2);
        }
    }
    image::RgbaImage::from_raw(width, height, pixels).ok_or(ReadbackError::Lost)
}
