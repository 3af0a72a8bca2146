// Rounded, optionally textured rectangles in target pixels, one instance per rectangle.

struct Globals {
    target_size: vec2<f32>,
    _pad: vec2<f32>,
};

@group(0) @binding(0) var<uniform> globals: Globals;
@group(1) @binding(0) var picture: texture_2d<f32>;
@group(1) @binding(1) var picture_sampler: sampler;

struct Instance {
    @location(0) rect: vec4<f32>,   // x, y, width, height in pixels
    @location(1) uv: vec4<f32>,     // u0, v0, u1, v1
    @location(2) color: vec4<f32>,  // linear RGB, straight alpha; multiplies the texel
    @location(3) radius: f32,       // corner radius in pixels
};

struct Varyings {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
    @location(1) color: vec4<f32>,
    @location(2) local: vec2<f32>,
    @location(3) half_size: vec2<f32>,
    @location(4) radius: f32,
};

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32, instance: Instance) -> Varyings {
    let corner = vec2<f32>(f32(vertex & 1u), f32((vertex >> 1u) & 1u));
    let pixel = instance.rect.xy + corner * instance.rect.zw;
    let ndc = vec2<f32>(pixel.x / globals.target_size.x * 2.0 - 1.0, 1.0 - pixel.y / globals.target_size.y * 2.0);
    var out: Varyings;
    out.position = vec4<f32>(ndc, 0.0, 1.0);
    out.uv = mix(instance.uv.xy, instance.uv.zw, corner);
    out.color = instance.color;
    out.half_size = instance.rect.zw * 0.5;
    out.local = (corner - vec2<f32>(0.5, 0.5)) * instance.rect.zw;
    out.radius = min(instance.radius, min(out.half_size.x, out.half_size.y));
    return out;
}

@fragment
fn fs_main(in: Varyings) -> @location(0) vec4<f32> {
    var color = textureSample(picture, picture_sampler, in.uv) * in.color;
    // Signed distance to the rounded rectangle's edge, for an antialiased border.
    let q = abs(in.local) - in.half_size + vec2<f32>(in.radius, in.radius);
    let distance = length(max(q, vec2<f32>(0.0, 0.0))) + min(max(q.x, q.y), 0.0) - in.radius;
    color.a = color.a * clamp(0.5 - distance, 0.0, 1.0);
    return color;
}
