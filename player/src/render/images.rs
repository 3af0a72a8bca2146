//! Pictures: checked from their header, decoded off the render thread, scaled to what the
//! screen needs.
//!
//! Pictures normally arrive pre-scaled by `palier-sync`; the player still refuses anything
//! past the protocol's dimension caps before decoding (an image bomb costs a header read)
//! and scales down what is larger than the slide, so one odd file cannot exhaust a board's
//! memory. Decoding runs on a worker thread, well before the slide is due.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use palier_content::limits::{MAX_MEDIA_PIXELS, MAX_MEDIA_SIDE};

/// A decoded picture, sRGB RGBA8.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// Why a picture cannot be shown. The item that uses it is skipped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImageError {
    #[error("{path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "{path} is {width}×{height}, past the {MAX_MEDIA_SIDE}-pixel side or {MAX_MEDIA_PIXELS}-pixel cap"
    )]
    TooLarge { path: PathBuf, width: u32, height: u32 },
}

/// Reads the dimensions from the header only; refuses pictures past the caps.
pub fn check_header(path: &Path) -> Result<(u32, u32), ImageError> {
    let size = imagesize_of(path)?;
    let (width, height) = size;
    if width == 0
        || height == 0
        || width > MAX_MEDIA_SIDE
        || height > MAX_MEDIA_SIDE
        || u64::from(width) * u64::from(height) > MAX_MEDIA_PIXELS
    {
        return Err(ImageError::TooLarge { path: path.to_path_buf(), width, height });
    }
    Ok(size)
}

fn imagesize_of(path: &Path) -> Result<(u32, u32), ImageError> {
    let unreadable = |reason: String| ImageError::Unreadable { path: path.to_path_buf(), reason };
    let reader = image::ImageReader::open(path).map_err(|e| unreadable(e.to_string()))?;
    let reader = reader.with_guessed_format().map_err(|e| unreadable(e.to_string()))?;
    reader.into_dimensions().map_err(|e| unreadable(e.to_string()))
}

/// Decodes `path` and scales it down so that neither side exceeds `max_side`.
pub fn decode(path: &Path, max_side: u32) -> Result<DecodedImage, ImageError> {
    let (width, height) = check_header(path)?;
    let unreadable = |reason: String| ImageError::Unreadable { path: path.to_path_buf(), reason };
    let mut reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| unreadable(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(MAX_MEDIA_PIXELS * 4 + (1 << 20));
    reader.limits(limits);
    let mut picture = reader.decode().map_err(|e| unreadable(e.to_string()))?;
    if picture.width() > max_side || picture.height() > max_side {
        picture = picture.resize(max_side, max_side, image::imageops::FilterType::Triangle);
    }
    let rgba = picture.into_rgba8();
    Ok(DecodedImage {
        path: path.to_path_buf(),
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    })
}

/// A worker thread that decodes pictures on request.
#[derive(Debug)]
pub struct ImageLoader {
    requests: mpsc::Sender<(PathBuf, u32)>,
    results: mpsc::Receiver<Result<DecodedImage, ImageError>>,
}

impl ImageLoader {
    /// Starts the worker. `wake` runs after each decoded picture (to wake an event loop).
    pub fn start(wake: impl Fn() + Send + 'static) -> ImageLoader {
        let (requests, inbox) = mpsc::channel::<(PathBuf, u32)>();
        let (outbox, results) = mpsc::channel();
        thread::Builder::new()
            .name("image-decoder".to_owned())
            .spawn(move || {
                for (path, max_side) in inbox {
                    if outbox.send(decode(&path, max_side)).is_err() {
                        break;
                    }
                    wake();
                }
            })
            .expect("spawning the image decoder thread");
        ImageLoader { requests, results }
    }

    pub fn request(&self, path: PathBuf, max_side: u32) {
        // The worker only stops when this loader is dropped.
        let _ = self.requests.send((path, max_side));
    }

    /// Results decoded so far, without waiting.
    pub fn ready(&self) -> Vec<Result<DecodedImage, ImageError>> {
        self.results.try_iter().collect()
    }

    /// Waits for the next result (headless rendering).
    pub fn wait(&self) -> Option<Result<DecodedImage, ImageError>> {
        self.results.recv().ok()
    }
}
