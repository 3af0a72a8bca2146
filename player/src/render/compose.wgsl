// Puts up to two slide textures on an output in one pass: rotation for panels hung
// sideways, letterboxing, the crossfade's opacities and night dimming. Every output pixel is
// written once, opaque; nothing is blended with what the target held.

struct Frame {
    // Per layer, maps output coordinates (0..1, y down) to slide coordinates:
    // uv = m * (p - 0.5) + 0.5, m column-major (m00, m10, m01, m11). It includes the
    // letterbox scale: uv outside 0..1 is outside the slide (black there).
    a: vec4<f32>,
    b: vec4<f32>,
    // Layer a is drawn over black, layer b over a.
    opacity: vec2<f32>,
    brightness: f32,
    _pad: f32,
};

@group(0) @binding(0) var<uniform> frame: Frame;
@group(1) @binding(0) var slide_a: texture_2d<f32>;
@group(1) @binding(1) var sampler_a: sampler;
@group(2) @binding(0) var slide_b: texture_2d<f32>;
@group(2) @binding(1) var sampler_b: sampler;

struct Varyings {
    @builtin(position) position: vec4<f32>,
    @location(0) p: vec2<f32>,
};

// The whole output, as a 4-vertex strip.
@vertex
fn vs_main(@builtin(vertex_index) vertex: u32) -> Varyings {
    let corner = vec2<f32>(f32(vertex & 1u), f32((vertex >> 1u) & 1u));
    var out: Varyings;
    out.position = vec4<f32>(corner.x * 2.0 - 1.0, 1.0 - corner.y * 2.0, 0.0, 1.0);
    out.p = corner;
    return out;
}

fn slide_uv(m: vec4<f32>, p: vec2<f32>) -> vec2<f32> {
    return mat2x2<f32>(m.xy, m.zw) * (p - vec2<f32>(0.5, 0.5)) + vec2<f32>(0.5, 0.5);
}

fn inside(uv: vec2<f32>) -> f32 {
    return select(0.0, 1.0, all(uv >= vec2<f32>(0.0, 0.0)) && all(uv <= vec2<f32>(1.0, 1.0)));
}

// The texel under `uv`, for a slide that maps one to one onto output pixels.
fn texel(uv: vec2<f32>, size: vec2<u32>) -> vec2<i32> {
    let last = vec2<f32>(size) - vec2<f32>(1.0, 1.0);
    return vec2<i32>(clamp(floor(uv * vec2<f32>(size)), vec2<f32>(0.0, 0.0), last));
}

fn over(a: vec4<f32>, uv_a: vec2<f32>, b: vec4<f32>, uv_b: vec2<f32>) -> vec4<f32> {
    let oa = frame.opacity.x * inside(uv_a);
    let ob = frame.opacity.y * inside(uv_b);
    let rgb = a.rgb * oa * (1.0 - ob) + b.rgb * ob;
    return vec4<f32>(rgb * frame.brightness, 1.0);
}

// Slides the size of the output (turned or not): one texel read per layer, no filtering.
@fragment
fn fs_exact(in: Varyings) -> @location(0) vec4<f32> {
    let uv_a = slide_uv(frame.a, in.p);
    let uv_b = slide_uv(frame.b, in.p);
    let a = textureLoad(slide_a, texel(uv_a, textureDimensions(slide_a)), 0);
    let b = textureLoad(slide_b, texel(uv_b, textureDimensions(slide_b)), 0);
    return over(a, uv_a, b, uv_b);
}

// Slides scaled to the output: filtered.
@fragment
fn fs_scaled(in: Varyings) -> @location(0) vec4<f32> {
    let uv_a = slide_uv(frame.a, in.p);
    let uv_b = slide_uv(frame.b, in.p);
    let a = textureSample(slide_a, sampler_a, uv_a);
    let b = textureSample(slide_b, sampler_b, uv_b);
    return over(a, uv_a, b, uv_b);
}
