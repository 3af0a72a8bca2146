//! The texture format the renderer keeps slides in, named below both the GPU set-up (which
//! checks an adapter can draw it) and the slides (which use it).

/// The format slides are kept in and headless frames composed in: 8-bit, gamma-encoded, not
/// sRGB (see [`super::settle`]). Windows keep slides in their surface's format instead.
pub const SLIDE_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
