//! The GPU: instance, adapter, device and queue, chosen once at start and logged.
//!
//! The backend comes from `WGPU_BACKEND` when set, else from the configuration: `vulkan`,
//! `gl`, or `auto`, which tries Vulkan and then GL (the safer path on Pi-class GPUs and the
//! one Mesa's llvmpipe offers through EGL). Windows need the display handle at instance
//! creation for GL; headless rendering does not. Limits are the downlevel WebGL2 set raised
//! to the adapter's texture sizes, so what works here works on a Raspberry Pi.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use palier_content::config::BackendChoice;

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

/// The backends to try, in order.
pub fn backend_order(choice: BackendChoice) -> Vec<wgpu::Backends> {
    if let Some(from_env) = wgpu::Backends::from_env() {
        return vec![from_env];
    }
    match choice {
        BackendChoice::Vulkan => vec![wgpu::Backends::VULKAN],
        BackendChoice::Gl => vec![wgpu::Backends::GL],
        BackendChoice::Auto => vec![wgpu::Backends::VULKAN, wgpu::Backends::GL],
    }
}

impl Gpu {
    /// A device for offscreen rendering: `render`, `sheet`, `check` and tests.
    pub fn headless(choice: BackendChoice) -> Result<Gpu, GpuError> {
        let mut tried = Vec::new();
        for backends in backend_order(choice) {
            tried.push(format!("{backends:?}"));
            let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
            descriptor.backends = backends;
            let instance = wgpu::Instance::new(descriptor);
            if let Ok(adapter) = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::LowPower,
                compatible_surface: None,
                ..wgpu::RequestAdapterOptions::default()
            })) {
                return Gpu::with_adapter(instance, adapter);
            }
        }
        Err(GpuError::NoAdapter { tried: tried.join(", then ") })
    }

    /// A device that can present to `surface`, created from `instance`.
    pub fn for_surface(instance: wgpu::Instance, surface: &wgpu::Surface<'_>) -> Result<Gpu, GpuError> {
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::LowPower,
            compatible_surface: Some(surface),
            ..wgpu::RequestAdapterOptions::default()
        }))
        .map_err(|_| GpuError::NoAdapter { tried: "a window surface".to_owned() })?;
        Gpu::with_adapter(instance, adapter)
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
