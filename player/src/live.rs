//! The player without windows: the same engine and renderer in real time, drawing every
//! slide offscreen. Boards without a display and the end-to-end tests run this; plays and
//! screen status are recorded exactly as with windows.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::{SignedDuration, Timestamp};

use crate::engine::Engine;
use crate::render::compose::{Compositor, Layer};
use crate::render::frame::compose_offscreen;
use crate::render::{Gpu, SLIDE_FORMAT};
use crate::slides::{SlideKey, SlideStore};

/// Runs until `stop` is raised, then records the last plays.
pub fn run(
    mut engine: Engine,
    gpu: Gpu,
    stop: Arc<AtomicBool>,
) -> Result<(), crate::render::readback::ReadbackError> {
    let mut slides = SlideStore::new(&gpu, || {});
    let compositor = Compositor::new(&gpu.device, SLIDE_FORMAT);
    let mut shown: Vec<Option<SlideKey>> = vec![None; engine.screens().len()];
    let mut first_frame = true;
    while !stop.load(Ordering::Relaxed) {
        let now = Timestamp::now();
        slides.receive(&gpu);
        engine.advance(now);
        for index in 0..engine.screens().len() {
            let screen = &engine.screens()[index];
            let key = SlideKey::new(index, &screen.current, now, screen.generation);
            if shown[index].as_ref() == Some(&key) {
                continue;
            }
            let (config, showing) = (screen.config.clone(), screen.current.clone());
            match slides.ensure(&gpu, engine.board(), &config, &showing, &key, now) {
                Ok(slide) => {
                    let binding = compositor.bind(&gpu.device, &slide.texture);
                    let layers = [Layer { slide: &binding, opacity: 1.0 }];
                    compose_offscreen(
                        &gpu,
                        &compositor,
                        (config.width, config.height),
                        &layers,
                        config.rotation,
                        1.0,
                    )?;
                    if first_frame {
                        tracing::info!(screen = %config.name, "first frame presented");
                        first_frame = false;
                    }
                    shown[index] = Some(key);
                    let upcoming = engine.upcoming(index);
                    slides.prefetch(engine.board(), &config, &upcoming, upcoming.start);
                }
                Err(skip) => {
                    engine.skip_item(&skip.item, skip.reason, now);
                }
            }
        }
        let keep: HashSet<SlideKey> = shown.iter().flatten().cloned().collect();
        slides.retain(&keep);
        let deadline = engine.next_deadline(now);
        let wait = deadline
            .duration_since(Timestamp::now())
            .clamp(SignedDuration::ZERO, SignedDuration::from_secs(1));
        std::thread::sleep(std::time::Duration::try_from(wait).unwrap_or_default());
    }
    engine.finish(Timestamp::now());
    Ok(())
}
