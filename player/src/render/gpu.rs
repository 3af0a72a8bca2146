//! The GPU: instance, adapter, device and queue, chosen once at start and logged.
//!
//! The backends come from `WGPU_BACKEND` when set, else from the configuration: `vulkan`,
//! `gl`, or `auto`, both. Every adapter they offer is looked at and one is taken by the rule
//! in [`crate::render::adapter`] (GL before Vulkan on the Pi's V3D, Vulkan first elsewhere,
//! hardware before software; refused when its textures are smaller than a screen, it cannot
//! draw the slides' format, or cannot present to the windows); the log names the adapter,
//! the reason and each refusal. Windows need the display handle at instance creation for GL;
//! headless rendering does not. Limits are the downlevel WebGL2 set raised to the adapter's
//! texture sizes, so what works here works on a Raspberry Pi.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use palier_content::config::BackendChoice;

use crate::render::adapter::{self, Candidate, Need};
use crate::render::format::SLIDE_FORMAT;

static ERRORS: AtomicUsize = AtomicUsize::new(0);

/// How many GPU errors this process has logged (zero unless something is wrong).
pub fn error_count() -> usize {
    ERRORS.load(Ordering::Relaxed)
}

/// Why no usable GPU device could be had.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no GPU adapter found for {tried}; on a machine without a GPU install Mesa's software \
         rasterizers: `apt-get install mesa-vulkan-drivers libegl1 libgl1-mesa-dri`"
    )]
    NoAdapter { tried: String },
    #[error(
        "no GPU adapter can show the slides: {refusals}; install Mesa's software rasterizers \
         (`apt-get install mesa-vulkan-drivers libegl1 libgl1-mesa-dri`) or make the screens smaller"
    )]
    NoneUsable { refusals: String },
    #[error("the {adapter} adapter refused to create a device: {source}")]
    Device { adapter: String, source: wgpu::RequestDeviceError },
    #[error("could not create a surface for a window: {0}")]
    Surface(#[from] wgpu::CreateSurfaceError),
}

/// A device and its queue, with what they run on.
#[derive(Debug)]
pub struct Gpu {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
}

/// The backends to look at.
pub fn backends(choice: BackendChoice) -> wgpu::Backends {
    if let Some(from_env) = wgpu::Backends::from_env() {
        return from_env;
    }
    match choice {
        BackendChoice::Vulkan => wgpu::Backends::VULKAN,
        BackendChoice::Gl => wgpu::Backends::GL,
        BackendChoice::Auto => wgpu::Backends::VULKAN | wgpu::Backends::GL,
    }
}

/// What the choice looks at in a real adapter.
fn candidate(adapter: &wgpu::Adapter, surfaces: &[wgpu::Surface<'_>]) -> Candidate {
    let info = adapter.get_info();
    let needed = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING;
    Candidate {
        name: info.name,
        vendor: info.vendor,
        backend: info.backend,
        device_type: info.device_type,
        max_texture_side: adapter.limits().max_texture_dimension_2d,
        slide_format_usable: adapter
            .get_texture_format_features(SLIDE_FORMAT)
            .allowed_usages
            .contains(needed),
        presents: surfaces.iter().all(|surface| adapter.is_surface_supported(surface)),
    }
}

impl Gpu {
    /// A device for offscreen rendering of full-HD screens: `render`, `sheet`, `check`, tests.
    pub fn headless(choice: BackendChoice) -> Result<Gpu, GpuError> {
        Gpu::headless_for(choice, Need::FULL_HD)
    }

    /// A device for offscreen rendering of screens up to `need`.
    pub fn headless_for(choice: BackendChoice, need: Need) -> Result<Gpu, GpuError> {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        descriptor.backends = backends(choice);
        Gpu::for_surfaces(wgpu::Instance::new(descriptor), &[], need)
    }

    /// A device from `instance` for screens up to `need` that can present to every one of
    /// `surfaces` (none offscreen), on the adapter the rule takes.
    pub fn for_surfaces(
        instance: wgpu::Instance,
        surfaces: &[wgpu::Surface<'_>],
        need: Need,
    ) -> Result<Gpu, GpuError> {
        // The instance was made with the backends to look at; it offers only theirs.
        let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        if adapters.is_empty() {
            return Err(GpuError::NoAdapter { tried: "the backends configured".to_owned() });
        }
        let candidates: Vec<Candidate> = adapters.iter().map(|a| candidate(a, surfaces)).collect();
        let (choice, refusals) = adapter::choose(&candidates, need);
        let describe = |c: &Candidate| format!("{} ({:?}, {:?})", c.name, c.backend, c.device_type);
        for refusal in &refusals {
            tracing::info!(adapter = %describe(&candidates[refusal.index]), reason = %refusal.reason, "GPU adapter refused");
        }
        let Some(choice) = choice else {
            let refusals: Vec<String> = refusals
                .iter()
                .map(|r| format!("{}: {}", describe(&candidates[r.index]), r.reason))
                .collect();
            return Err(GpuError::NoneUsable { refusals: refusals.join("; ") });
        };
        if choice.fallback {
            tracing::warn!(adapter = %describe(&candidates[choice.index]), "falling back to software: no GPU adapter can show the slides");
        }
        tracing::info!(adapter = %describe(&candidates[choice.index]), reason = %choice.reason, "GPU chosen");
        Gpu::with_adapter(instance, adapters.swap_remove(choice.index))
    }

    fn with_adapter(instance: wgpu::Instance, adapter: wgpu::Adapter) -> Result<Gpu, GpuError> {
        let limits = wgpu::Limits::downlevel_webgl2_defaults().using_resolution(adapter.limits());
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("palier device"),
            required_features: wgpu::Features::empty(),
            required_limits: limits,
            experimental_features: wgpu::ExperimentalFeatures::default(),
            memory_hints: wgpu::MemoryHints::MemoryUsage,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|source| GpuError::Device { adapter: adapter.get_info().name, source })?;
        // A validation error is a bug, but a board must keep showing what it can: log it
        // and count it (tests and `check` assert the count stays zero) instead of aborting.
        device.on_uncaptured_error(Arc::new(|error: wgpu::Error| {
            ERRORS.fetch_add(1, Ordering::Relaxed);
            tracing::error!(%error, "GPU error");
        }));
        let gpu = Gpu { instance, adapter, device, queue };
        tracing::info!(adapter = %gpu.describe(), "GPU ready");
        Ok(gpu)
    }

    /// One line for logs: name, backend, driver.
    pub fn describe(&self) -> String {
        let info = self.adapter.get_info();
        format!(
            "{} ({:?}, {:?}, driver {} {})",
            info.name, info.backend, info.device_type, info.driver, info.driver_info
        )
    }

    /// The largest texture side this device accepts (4096 on Pi-class GPUs).
    pub fn max_texture_side(&self) -> u32 {
        self.device.limits().max_texture_dimension_2d
    }
}
