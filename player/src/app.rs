//! The windows: one borderless fullscreen window per screen, driven by the [`Engine`].
//!
//! A single timer list lives in the engine and the slide store; the event loop sleeps until
//! its next deadline (`ControlFlow::WaitUntil`) and draws only when something changed: a new
//! slide (a 600 ms crossfade, then nothing), the clock's minute, a window exposed or resized.
//! Surfaces lost with a monitor unplugged are recreated, and windows are put back on their
//! monitor when it returns.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use palier_content::config::Output;
use winit::application::ApplicationHandler;
use winit::event::{ElementState, KeyEvent, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy};
use winit::keyboard::{Key, NamedKey};
use winit::monitor::MonitorHandle;
use winit::window::{Fullscreen, Window, WindowId};

use palier_content::notify::{Notifier, watchdog_interval};

use crate::board::{brightness, crossfade_progress};
use crate::cache_watch::CacheWatch;
use crate::engine::Engine;
use crate::render::adapter::Need;
use crate::render::compose::{Compositor, Layer};
use crate::render::{Gpu, GpuError, gpu::backends};
use crate::slides::{SlideKey, SlideStore};

/// Why the windowed player could not run.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(
        "no display to open windows on ({0}); on a machine without a screen use \
         `palier-player --headless` to play offscreen, or `palier-player render` / `sheet` to \
         draw frames to PNG files"
    )]
    NoDisplay(winit::error::EventLoopError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error("the event loop stopped: {0}")]
    EventLoop(winit::error::EventLoopError),
}

/// How long before a slide is due its texture is drawn.
const PREPARE_AHEAD: SignedDuration = SignedDuration::from_secs(2);
/// How often monitors are checked for a screen unplugged or plugged back.
const MONITOR_CHECK: Duration = Duration::from_secs(10);

/// Runs the windows until closed (or, in kiosk mode, until `stop` is raised by SIGTERM).
pub fn run(engine: Engine, demo: bool, stop: Arc<AtomicBool>) -> Result<(), AppError> {
    let event_loop = EventLoop::<Wake>::with_user_event().build().map_err(AppError::NoDisplay)?;
    let proxy = event_loop.create_proxy();
    let cache_proxy = proxy.clone();
    let cache_watch = CacheWatch::start(engine.cache_path(), move || {
        let _ = cache_proxy.send_event(Wake::Cache);
    });
    let mut engine = engine;
    if cache_watch.is_some() {
        engine.set_watched(Timestamp::now());
    }
    let mut app = App {
        engine,
        demo,
        stop,
        proxy,
        state: None,
        error: None,
        last_monitor_check: Instant::now(),
        monitors: Vec::new(),
        service: Service::from_env(),
        _cache_watch: cache_watch,
    };
    event_loop.run_app(&mut app).map_err(AppError::EventLoop)?;
    match app.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct App {
    engine: Engine,
    demo: bool,
    stop: Arc<AtomicBool>,
    proxy: EventLoopProxy<Wake>,
    state: Option<Screens>,
    error: Option<AppError>,
    last_monitor_check: Instant,
    monitors: Vec<String>,
    service: Service,
    _cache_watch: Option<CacheWatch>,
}

/// Why another thread woke the event loop.
#[derive(Debug, Clone, Copy)]
enum Wake {
    /// A picture finished decoding.
    Picture,
    /// The cache changed on disk.
    Cache,
}

/// What the service manager hears: ready once every screen presented a frame, the watchdog
/// petted only after a frame is presented.
struct Service {
    notifier: Notifier,
    watchdog: Option<Duration>,
    last_ping: Instant,
    presented: HashSet<usize>,
    ready: bool,
}

impl Service {
    fn from_env() -> Service {
        Service {
            notifier: Notifier::from_env(),
            watchdog: watchdog_interval(),
            last_ping: Instant::now(),
            presented: HashSet::new(),
            ready: false,
        }
    }

    /// A frame of `screen` reached the screen.
    fn presented(&mut self, screen: usize, screens: usize) {
        if !self.ready {
            self.presented.insert(screen);
            if self.presented.len() == screens {
                self.ready = true;
                tracing::info!(screens, "first frame presented");
                self.notifier.ready(&format!("playing on {screens} screens"));
            }
        }
        if self.watchdog.is_some() {
            self.notifier.watchdog();
            self.last_ping = Instant::now();
        }
    }

    /// When a frame must be presented again to keep the watchdog fed, if it is enabled.
    fn next_ping(&self) -> Option<Instant> {
        self.watchdog.map(|interval| self.last_ping + interval)
    }
}

/// The windows and the GPU side, once they exist.
struct Screens {
    gpu: Gpu,
    outputs: Vec<OutputWindow>,
    compositor: Compositor,
    slides: SlideStore,
    /// The key of the slide each screen shows, and of the one it fades from.
    shown: Vec<Option<SlideKey>>,
    fading_from: Vec<Option<SlideKey>>,
    /// The key of each screen's next slide, once drawn ahead.
    prepared: Vec<Option<SlideKey>>,
    /// On a software adapter every frame costs CPU: crossfades run at 30 frames a second,
    /// paced by the timer list. On a GPU they run at the display's rate, paced by vsync.
    crossfade_pacing: Option<Duration>,
    /// When each window's next crossfade frame is due (software adapters only).
    next_frame: Vec<Option<Instant>>,
}

struct OutputWindow {
    window: Arc<Window>,
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
}

impl App {
    fn create(&mut self, event_loop: &ActiveEventLoop) -> Result<Screens, AppError> {
        let monitors: Vec<MonitorHandle> = event_loop.available_monitors().collect();
        self.monitors = monitors.iter().map(|m| m.name().unwrap_or_default()).collect();
        let primary = event_loop.primary_monitor().or_else(|| monitors.first().cloned());
        let screens = self.engine.config().screens.clone();
        let mut windows = Vec::new();
        // A demo on fewer monitors than screens opens windows side by side instead.
        let side_by_side = self.demo && monitors.len() < screens.len();
        for (index, screen) in screens.iter().enumerate() {
            let monitor =
                if side_by_side { None } else { find_monitor(&monitors, screen.output.as_ref(), index) };
            let mut attributes = Window::default_attributes()
                .with_title(format!("Palier — {}", screen.name))
                .with_decorations(self.demo && monitor.is_none());
            match (&monitor, self.demo) {
                (Some(m), _) => {
                    attributes = attributes.with_fullscreen(Some(Fullscreen::Borderless(Some(m.clone()))))
                }
                (None, true) => {
                    // Demo on fewer monitors than screens: windows scaled to fit side by side.
                    let monitor_size =
                        primary.as_ref().map_or((1920, 1080), |m| (m.size().width, m.size().height));
                    let [x, y, w, h] = crate::demo_windows::layout(&screens, monitor_size)[index];
                    attributes = attributes
                        .with_inner_size(winit::dpi::PhysicalSize::new(w, h))
                        .with_position(winit::dpi::PhysicalPosition::new(x, y));
                }
                (None, false) => {
                    tracing::warn!(screen = %screen.name, output = ?screen.output, "monitor not found; fullscreen on the current one");
                    attributes = attributes.with_fullscreen(Some(Fullscreen::Borderless(None)));
                }
            }
            let window =
                Arc::new(event_loop.create_window(attributes).map_err(|e| AppError::NoDisplay(e.into()))?);
            window.set_cursor_visible(false);
            windows.push(window);
        }

        let mut descriptor = wgpu::InstanceDescriptor::new_with_display_handle_from_env(Box::new(
            event_loop.owned_display_handle(),
        ));
        descriptor.backends = backends(self.engine.config().player.backend);
        let instance = wgpu::Instance::new(descriptor);
        let surfaces =
            windows.iter().map(|w| instance.create_surface(w.clone())).collect::<Result<Vec<_>, _>>();
        let surfaces = surfaces.map_err(GpuError::Surface)?;
        let largest_side =
            windows.iter().map(|w| w.inner_size()).map(|s| s.width.max(s.height)).max().unwrap_or(0);
        let gpu = Gpu::for_surfaces(instance, &surfaces, Need { largest_side })?;
        let mut outputs = Vec::new();
        for (window, surface) in windows.iter().zip(surfaces) {
            let caps = surface.get_capabilities(&gpu.adapter);
            // Slides are kept gamma-encoded and composed byte for byte (render::compose):
            // the surface must store what it is given, not encode it again.
            let format = surface_format(&caps.formats);
            let size = window.inner_size();
            // Copies onto the surface let the compositor put an upright slide on
            // screen without a draw (render::compose); not every backend offers them.
            let usage =
                wgpu::TextureUsages::RENDER_ATTACHMENT | (caps.usages & wgpu::TextureUsages::COPY_DST);
            let config = wgpu::SurfaceConfiguration {
                usage,
                format,
                color_space: wgpu::SurfaceColorSpace::Auto,
                width: size.width.max(1),
                height: size.height.max(1),
                present_mode: wgpu::PresentMode::AutoVsync,
                // Two images: a frame on screen and one being drawn (each a full-size
                // buffer in memory on a software adapter).
                desired_maximum_frame_latency: 1,
                alpha_mode: wgpu::CompositeAlphaMode::Auto,
                view_formats: vec![],
            };
            surface.configure(&gpu.device, &config);
            outputs.push(OutputWindow { window: window.clone(), surface, config });
        }
        let compositor = Compositor::new(&gpu.device, outputs[0].config.format);
        let proxy = self.proxy.clone();
        let slides = SlideStore::new(&gpu, outputs[0].config.format, move || {
            let _ = proxy.send_event(Wake::Picture);
        });
        let count = outputs.len();
        let software = gpu.adapter.get_info().device_type == wgpu::DeviceType::Cpu;
        let crossfade_pacing = software.then(|| Duration::from_millis(33));
        Ok(Screens {
            gpu,
            outputs,
            compositor,
            slides,
            shown: vec![None; count],
            fading_from: vec![None; count],
            prepared: vec![None; count],
            crossfade_pacing,
            next_frame: vec![None; count],
        })
    }

    /// Handles what is due now; returns the screens to redraw.
    fn tick(&mut self, now: Timestamp) {
        let Some(state) = &mut self.state else { return };
        state.slides.receive(&state.gpu);
        let changed = self.engine.advance(now);
        for &index in &changed {
            state.fading_from[index] = state.shown[index].take();
            let upcoming = self.engine.upcoming(index).clone();
            let screen = &self.engine.screens()[index].config;
            state.slides.prefetch(self.engine.board(), screen, &upcoming, upcoming.start);
        }
        // Draw the next slides a little ahead of time.
        for index in 0..state.outputs.len() {
            let upcoming = self.engine.upcoming(index).clone();
            if upcoming.start - PREPARE_AHEAD <= now {
                let generation = self.engine.board().snapshot.generation;
                let key = SlideKey::new(index, &upcoming, upcoming.start, generation);
                if state.prepared[index].as_ref() != Some(&key) {
                    state.prepared[index] = Some(key.clone());
                    let screen = self.engine.screens()[index].config.clone();
                    if let Err(skip) = state.slides.ensure(
                        &state.gpu,
                        self.engine.board(),
                        &screen,
                        &upcoming,
                        &key,
                        upcoming.start,
                    ) {
                        self.engine.skip_item(&skip.item, skip.reason, now);
                    }
                }
            }
        }
        for (index, output) in state.outputs.iter().enumerate() {
            let screen = &self.engine.screens()[index];
            let key = SlideKey::new(index, &screen.current, now, screen.generation);
            if changed.contains(&index) || state.shown[index].as_ref() != Some(&key) {
                output.window.request_redraw();
            }
        }
    }

    fn redraw(&mut self, window_id: WindowId) {
        let Some(state) = &mut self.state else { return };
        let Some(index) = state.outputs.iter().position(|o| o.window.id() == window_id) else { return };
        let now = Timestamp::now();
        let generation = self.engine.screens()[index].generation;
        let showing = self.engine.screens()[index].current.clone();
        let screen = self.engine.screens()[index].config.clone();
        let key = SlideKey::new(index, &showing, now, generation);
        if let Err(skip) = state.slides.ensure(&state.gpu, self.engine.board(), &screen, &showing, &key, now)
        {
            self.engine.skip_item(&skip.item, skip.reason, now);
            state.outputs[index].window.request_redraw();
            return;
        }
        let crossfade = SignedDuration::from_millis(i64::from(self.engine.config().player.crossfade_ms));
        let since = self.engine.screens()[index].shown_since;
        let mut progress = crossfade_progress(since, now, crossfade);
        if state.fading_from[index].as_ref().is_none_or(|from| state.slides.get(from).is_none()) {
            progress = 1.0;
        }
        let current = state.slides.get(&key).expect("ensured above");
        let current_binding = state.compositor.bind(&state.gpu.device, &current.texture);
        let previous_binding = match (&state.fading_from[index], progress < 1.0) {
            (Some(from), true) => {
                state.slides.get(from).map(|s| state.compositor.bind(&state.gpu.device, &s.texture))
            }
            _ => None,
        };
        let mut layers = Vec::new();
        if let Some(binding) = &previous_binding {
            layers.push(Layer { slide: binding, opacity: 1.0 });
        }
        layers.push(Layer { slide: &current_binding, opacity: progress });
        let level = brightness(self.engine.config().player.night.as_ref(), now, &self.engine.board().tz);
        let screens = state.outputs.len();
        let output = &mut state.outputs[index];
        let frame = match output.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(frame) | wgpu::CurrentSurfaceTexture::Suboptimal(frame) => {
                frame
            }
            wgpu::CurrentSurfaceTexture::Outdated => {
                output.surface.configure(&state.gpu.device, &output.config);
                output.window.request_redraw();
                return;
            }
            wgpu::CurrentSurfaceTexture::Lost => {
                tracing::warn!(screen = %screen.name, "surface lost; recreating it");
                match state.gpu.instance.create_surface(output.window.clone()) {
                    Ok(surface) => {
                        surface.configure(&state.gpu.device, &output.config);
                        output.surface = surface;
                    }
                    Err(e) => tracing::error!(error = %e, "could not recreate the surface"),
                }
                output.window.request_redraw();
                return;
            }
            other => {
                tracing::debug!(screen = %screen.name, status = ?std::mem::discriminant(&other), "no frame this time");
                output.window.request_redraw();
                return;
            }
        };
        let prepared =
            state.compositor.prepare(&state.gpu.queue, &layers, screen.rotation, level, &frame.texture);
        let mut encoder =
            state.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("frame") });
        state.compositor.render(&mut encoder, &frame.texture, &layers, prepared);
        state.gpu.queue.submit([encoder.finish()]);
        output.window.pre_present_notify();
        state.gpu.queue.present(frame);
        // One line per frame at debug level under its own target: the benchmark counts them.
        tracing::debug!(target: "palier_player::frames", screen = index, progress, "frame presented");
        self.service.presented(index, screens);
        if progress < 1.0 {
            match state.crossfade_pacing {
                Some(interval) => state.next_frame[index] = Some(Instant::now() + interval),
                None => output.window.request_redraw(),
            }
        } else {
            state.fading_from[index] = None;
        }
        state.shown[index] = Some(key);
        // Keep what is on screen, fading out, or drawn ahead; drop the rest.
        let keep: HashSet<SlideKey> =
            state.shown.iter().chain(&state.fading_from).chain(&state.prepared).flatten().cloned().collect();
        state.slides.retain(&keep);
    }

    fn check_monitors(&mut self, event_loop: &ActiveEventLoop) {
        let monitors: Vec<MonitorHandle> = event_loop.available_monitors().collect();
        let names: Vec<String> = monitors.iter().map(|m| m.name().unwrap_or_default()).collect();
        if names == self.monitors {
            return;
        }
        tracing::info!(before = ?self.monitors, now = ?names, "monitors changed; putting screens back");
        self.monitors = names;
        let Some(state) = &self.state else { return };
        for (index, output) in state.outputs.iter().enumerate() {
            let screen = &self.engine.screens()[index].config;
            if let Some(monitor) = find_monitor(&monitors, screen.output.as_ref(), index) {
                output.window.set_fullscreen(Some(Fullscreen::Borderless(Some(monitor))));
            }
            output.window.request_redraw();
        }
    }
}

/// The surface format to compose into: 8-bit and not sRGB, BGRA first (what X11 and most
/// display engines scan out, and the one Mesa's software rasterizer has a fast path for).
fn surface_format(offered: &[wgpu::TextureFormat]) -> wgpu::TextureFormat {
    use wgpu::TextureFormat as F;
    [F::Bgra8Unorm, F::Rgba8Unorm].into_iter().find(|f| offered.contains(f)).unwrap_or_else(|| {
        tracing::warn!(?offered, "no 8-bit surface format that is not sRGB; colours will be too light");
        offered[0]
    })
}

/// The monitor a screen names, or the n-th when it names none.
fn find_monitor(monitors: &[MonitorHandle], output: Option<&Output>, index: usize) -> Option<MonitorHandle> {
    match output {
        Some(Output::Name(name)) => monitors.iter().find(|m| m.name().as_deref() == Some(name)).cloned(),
        Some(Output::Index(n)) => monitors.get(*n).cloned(),
        None => monitors.get(index).cloned(),
    }
}

impl ApplicationHandler<Wake> for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.state.is_some() {
            return;
        }
        match self.create(event_loop) {
            Ok(state) => {
                for output in &state.outputs {
                    output.window.request_redraw();
                }
                self.state = Some(state);
            }
            Err(e) => {
                self.error = Some(e);
                event_loop.exit();
            }
        }
    }

    fn user_event(&mut self, _event_loop: &ActiveEventLoop, event: Wake) {
        match event {
            // A picture finished decoding: upload it now.
            Wake::Picture => {
                if let Some(state) = &mut self.state {
                    state.slides.receive(&state.gpu);
                }
            }
            // Read the new content in `about_to_wait`, which runs next.
            Wake::Cache => self.engine.cache_touched(Timestamp::now()),
        }
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, window_id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => {
                self.engine.finish(Timestamp::now());
                event_loop.exit();
            }
            WindowEvent::KeyboardInput {
                event:
                    KeyEvent { logical_key: Key::Named(NamedKey::Escape), state: ElementState::Pressed, .. },
                ..
            } if self.demo => {
                self.engine.finish(Timestamp::now());
                event_loop.exit();
            }
            WindowEvent::Resized(size) => {
                if let Some(state) = &mut self.state
                    && let Some(output) = state.outputs.iter_mut().find(|o| o.window.id() == window_id)
                {
                    output.config.width = size.width.max(1);
                    output.config.height = size.height.max(1);
                    output.surface.configure(&state.gpu.device, &output.config);
                    output.window.request_redraw();
                }
            }
            WindowEvent::RedrawRequested => self.redraw(window_id),
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        if self.stop.load(Ordering::Relaxed) {
            tracing::info!("stopping");
            self.engine.finish(Timestamp::now());
            event_loop.exit();
            return;
        }
        let now = Timestamp::now();
        self.tick(now);
        if self.last_monitor_check.elapsed() >= MONITOR_CHECK {
            self.last_monitor_check = Instant::now();
            self.check_monitors(event_loop);
        }
        if let Some(state) = &mut self.state {
            for (index, due) in state.next_frame.iter_mut().enumerate() {
                if due.is_some_and(|at| at <= Instant::now()) {
                    *due = None;
                    state.outputs[index].window.request_redraw();
                }
            }
        }
        let mut deadline = self.engine.next_deadline(now);
        for index in 0..self.engine.screens().len() {
            let prepare_at = self.engine.upcoming(index).start - PREPARE_AHEAD;
            if prepare_at > now {
                deadline = deadline.min(prepare_at);
            }
        }
        let wait = deadline.duration_since(now).max(SignedDuration::ZERO);
        let monitor_wait = MONITOR_CHECK.saturating_sub(self.last_monitor_check.elapsed());
        let mut wait = Duration::try_from(wait).unwrap_or_default().min(monitor_wait);
        if let Some(next_frame) =
            self.state.as_ref().and_then(|s| s.next_frame.iter().flatten().min().copied())
        {
            wait = wait.min(next_frame.saturating_duration_since(Instant::now()));
        }
        // A static screen presents nothing for minutes: re-present it to feed the watchdog.
        if let Some(ping_at) = self.service.next_ping() {
            if ping_at <= Instant::now()
                && let Some(output) = self.state.as_ref().and_then(|s| s.outputs.first())
            {
                output.window.request_redraw();
            }
            wait = wait.min(ping_at.saturating_duration_since(Instant::now()));
        }
        event_loop.set_control_flow(ControlFlow::WaitUntil(Instant::now() + wait));
    }
}
