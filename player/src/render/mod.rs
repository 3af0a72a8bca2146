//! The GPU side of the player: slides drawn once into textures, frames composed from them.
//!
//! Every type here borrows the device through [`Gpu`] and splits `prepare` (layout, uploads)
//! from `render` (recording a pass). The same code draws into window surfaces and into
//! offscreen textures for the `render`, `sheet` and `check` commands and the golden tests.

pub mod adapter;
pub mod compose;
pub mod format;
pub mod frame;
pub mod gpu;
pub mod images;
pub mod layouts;
pub mod quad;
pub mod readback;
pub mod settle;
pub mod slide;
pub mod text;

pub use compose::{Compositor, Layer, SlideBinding};
pub use gpu::{Gpu, GpuError};
pub use slide::{SLIDE_FORMAT, SlideRenderer, SlideTexture};
