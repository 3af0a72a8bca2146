//! The player without windows: the same engine and renderer in real time, drawing every
//! slide offscreen. Boards without a display and the end-to-end tests run this; plays and
//! screen status are recorded exactly as with windows.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use palier_content::notify::{Notifier, watchdog_interval};

use crate::cache_watch::CacheWatch;
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
    let mut slides = SlideStore::new(&gpu, SLIDE_FORMAT, || {});
    // Cache changes cut the wait short (see cache_watch).
    // `touched` stays alive here, so the wait below is a wait even when no watch runs.
    let (touched, woken) = std::sync::mpsc::channel();
    let watch_sender = touched.clone();
    let cache_watch = CacheWatch::start(engine.cache_path(), move || {
        let _ = watch_sender.send(());
    });
    if cache_watch.is_some() {
        engine.set_watched(Timestamp::now());
    }
    let compositor = Compositor::new(&gpu.device, SLIDE_FORMAT);
    let mut shown: Vec<Option<SlideKey>> = vec![None; engine.screens().len()];
    let mut first_frame = true;
    let notifier = Notifier::from_env();
    let watchdog = watchdog_interval();
    let mut last_ping = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Timestamp::now();
        slides.receive(&gpu);
        engine.advance(now);
        #[allow(clippy::needless_range_loop)] // the engine is borrowed mutably inside
        for index in 0..engine.screens().len() {
            let screen = &engine.screens()[index];
            let key = SlideKey::new(index, &screen.current, now, screen.generation);
            // Re-present a static screen when the watchdog wants proof of life.
            let ping_due = index == 0 && watchdog.is_some_and(|w| last_ping.elapsed() >= w);
            if shown[index].as_ref() == Some(&key) && !ping_due {
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
                        notifier.ready("playing headless");
                        first_frame = false;
                    }
                    if watchdog.is_some() {
                        notifier.watchdog();
                        last_ping = Instant::now();
                    }
                    shown[index] = Some(key);
                    let upcoming = engine.upcoming(index).clone();
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
        let mut wait = deadline
            .duration_since(Timestamp::now())
            .clamp(SignedDuration::ZERO, SignedDuration::from_secs(1));
        if let Some(interval) = watchdog {
            let until_ping = interval.saturating_sub(last_ping.elapsed());
            wait = wait.min(SignedDuration::try_from(until_ping).unwrap_or(SignedDuration::ZERO));
        }
        if woken.recv_timeout(std::time::Duration::try_from(wait).unwrap_or_default()).is_ok() {
            while woken.try_recv().is_ok() {}
            engine.cache_touched(Timestamp::now());
        }
    }
    drop(touched);
    engine.finish(Timestamp::now());
    Ok(())
}
