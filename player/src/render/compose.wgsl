// Puts a slide texture on an output: one draw per layer, a rectangle (the whole output, or the
// slide's letterboxed place in it) whose corners carry the slide coordinates, so rotation and
// letterboxing cost nothing per pixel. The fragment stage is a single texture read of a
// coordinate passed through unchanged: on Mesa's llvmpipe (boards without a usable GPU) such
// a draw onto an 8-bit target runs on its fast 8-bit path instead of the general one.
// Crossfades and night dimming are the pipeline's blending with a constant, not shader math.

struct Placement {
    // The rectangle in clip space: left, top, right, bottom.
    rect: vec4<f32>,
    // Slide coordinates at the rectangle's corners: top left, top right; bottom left,
    // bottom right.
    top: vec4<f32>,
    bottom: vec4<f32>,
};

@group(0) @binding(0) var<uniform> placement: Placement;
@group(1) @binding(0) var slide: texture_2d<f32>;
@group(1) @binding(1) var slide_sampler: sampler;

struct Varyings {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

// The rectangle as a 4-vertex strip: top left, top right, bottom left, bottom right.
@vertex
fn vs_main(@builtin(vertex_index) vertex: u32) -> Varyings {
    let right = (vertex & 1u) == 1u;
    let bottom = (vertex & 2u) == 2u;
    var out: Varyings;
    out.position = vec4<f32>(
        select(placement.rect.x, placement.rect.z, right),
        select(placement.rect.y, placement.rect.w, bottom),
        0.0,
        1.0,
    );
    let row = select(placement.top, placement.bottom, bottom);
    out.uv = select(row.xy, row.zw, right);
    return out;
}

@fragment
fn fs_slide(in: Varyings) -> @location(0) vec4<f32> {
    return textureSample(slide, slide_sampler, in.uv);
}

// Night dimming: drawn with a blend that scales what the target holds by the constant.
@fragment
fn fs_dim() -> @location(0) vec4<f32> {
    return vec4<f32>(0.0, 0.0, 0.0, 0.0);
}
