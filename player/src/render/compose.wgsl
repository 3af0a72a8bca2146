// Puts a slide texture on an output: rotation for panels hung sideways, opacity for
// crossfades, brightness for night dimming.

struct Layer {
    // Maps output coordinates (0..1, y down) to slide coordinates: uv = m * (p - 0.5) + 0.5.
    m: vec4<f32>,        // column-major 2x2: (m00, m10, m01, m11)
    // Where the slide lands on the output, in clip space: x0, y0 (top left), x1, y1.
    area: vec4<f32>,
    opacity: f32,
    brightness: f32,
    _pad: vec2<f32>,
};

@group(0) @binding(0) var<uniform> layer: Layer;
@group(1) @binding(0) var slide: texture_2d<f32>;
@group(1) @binding(1) var slide_sampler: sampler;

struct Varyings {
    @builtin(position) position: vec4<f32>,
    @location(0) p: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32) -> Varyings {
    let corner = vec2<f32>(f32(vertex & 1u), f32((vertex >> 1u) & 1u));
    var out: Varyings;
    out.position = vec4<f32>(mix(layer.area.xy, layer.area.zw, corner), 0.0, 1.0);
    out.p = corner;
    return out;
}

@fragment
fn fs_main(in: Varyings) -> @location(0) vec4<f32> {
    let m = mat2x2<f32>(layer.m.xy, layer.m.zw);
    let uv = m * (in.p - vec2<f32>(0.5, 0.5)) + vec2<f32>(0.5, 0.5);
    let texel = textureSample(slide, slide_sampler, uv);
    return vec4<f32>(texel.rgb * layer.brightness, layer.opacity);
}
