//! Palier's player: what residents see on the lift and lobby screens.
//!
//! Pure modules decide and describe (`playlist`: what shows when; `scene`: how a slide is
//! laid out; `locale`: the words and dates), the `render` module draws with wgpu, and `app`
//! drives windows with winit. The same renderer feeds windows, the headless `render` and
//! `sheet` commands, and the golden-image tests.

pub mod app;
pub mod board;
pub mod cache_watch;
pub mod demo_windows;
pub mod engine;
pub mod headless;
pub mod live;
pub mod locale;
pub mod memory;
pub mod playlist;
pub mod render;
pub mod scene;
pub mod slides;
pub mod source;
