// Turns a slide drawn in an sRGB texture (where text and pictures were blended in linear
// light) into the 8-bit gamma-encoded texture that is kept and composed: each texel read,
// encoded again and written to a target that stores the value as is. Exact for every byte.

@group(0) @binding(0) var drawn: texture_2d<f32>;

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32) -> @builtin(position) vec4<f32> {
    let corner = vec2<f32>(f32(vertex & 1u), f32((vertex >> 1u) & 1u));
    return vec4<f32>(corner.x * 2.0 - 1.0, 1.0 - corner.y * 2.0, 0.0, 1.0);
}

fn encode(linear: vec3<f32>) -> vec3<f32> {
    let c = clamp(linear, vec3<f32>(0.0), vec3<f32>(1.0));
    let low = c * 12.92;
    let high = 1.055 * pow(c, vec3<f32>(1.0 / 2.4)) - vec3<f32>(0.055);
    return select(high, low, c <= vec3<f32>(0.0031308));
}

@fragment
fn fs_main(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
    let texel = textureLoad(drawn, vec2<i32>(position.xy), 0);
    return vec4<f32>(encode(texel.rgb), texel.a);
}
