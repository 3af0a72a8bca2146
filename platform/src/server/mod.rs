//! The HTTP server: shared state, the route table, and `serve(listener, state, shutdown)`.
//!
//! The device API follows `docs/protocol.md`; the publishing API and both are described in
//! `docs/openapi.json`, served at `/v1/openapi.json`. Handlers are thin: they parse, call the
//! publishing service ([`crate::publishing`]) or the store, and map the outcome to HTTP. A
//! housekeeping task takes expired items out of the manifests once a minute. On shutdown,
//! open event streams end so the graceful shutdown does not wait on them.

mod device;
mod error;
mod events;
pub(crate) mod extract;
mod lift;
pub(crate) mod limiter;
mod media;
mod publish;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use jiff::Timestamp;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use error::ApiError;

use crate::datadir::{DataDir, DataDirError};
use crate::hints::Hints;
use crate::media::MediaFiles;
use crate::publishing::Publishing;
use crate::signing::ManifestSigner;
use crate::store::Store;

pub use crate::publishing::Clock;

/// The API document, kept in `docs/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");

/// Every route, as the API document names it: kept in step by a test.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/v1/openapi.json"),
    ("post", "/v1/device/enrol"),
    ("get", "/v1/device/manifest"),
    ("get", "/v1/device/events"),
    ("post", "/v1/device/plays"),
    ("post", "/v1/device/heartbeat"),
    ("get", "/v1/media/{sha256}"),
    ("post", "/v1/publish/items"),
    ("get", "/v1/publish/items/{id}"),
    ("put", "/v1/publish/items/{id}"),
    ("delete", "/v1/publish/items/{id}"),
    ("get", "/v1/publish/items/{id}/plays"),
    ("delete", "/v1/publish/people/{person_id}"),
    ("post", "/v1/publish/media"),
    ("post", "/v1/lift/{lift_id}/status"),
];

/// The console's settings (from `platform.toml`).
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {
    /// `palier-player`, run for exact previews; `None`: pages say no renderer is configured.
    pub player: Option<std::path::PathBuf>,
    /// The console's public address (`https://…`), for links and Secure cookies.
    pub public_url: Option<String>,
    /// Cookies only over HTTPS: on when `public_url` is `https://…`.
    pub secure_cookies: bool,
}

/// Failed console logins one account, and one client address, may make per window.
#[derive(Debug)]
pub(crate) struct LoginLimits {
    pub(crate) by_account: limiter::FailureLimiter<String>,
    pub(crate) by_address: limiter::FailureLimiter<std::net::IpAddr>,
}

/// Tunables of a running server. The defaults are the protocol's numbers.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Interval of `: keep-alive` comments on event streams (protocol: 15 s).
    pub keep_alive: Duration,
    /// How often expired items are taken out of the manifests.
    pub housekeeping: Duration,
    /// Failed enrolments one client address may make per window before 429.
    pub enrol_failures: u32,
    pub enrol_window: Duration,
    /// Failed console logins per account, and per client address, per window.
    pub login_failures_per_account: u32,
    pub login_failures_per_address: u32,
    pub login_window: Duration,
    pub console: ConsoleSettings,
    /// How often due feeds are looked for; `None` fetches none (tests that fetch by hand).
    pub feeds_tick: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            keep_alive: Duration::from_secs(15),
            housekeeping: Duration::from_secs(60),
            enrol_failures: 20,
            enrol_window: Duration::from_secs(600),
            login_failures_per_account: 5,
            login_failures_per_address: 30,
            login_window: Duration::from_secs(900),
            console: ConsoleSettings::default(),
            feeds_tick: Some(Duration::from_secs(20)),
        }
    }
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    publishing: Publishing,
    signer: ManifestSigner,
    media: MediaFiles,
    hints: Hints,
    settings: Settings,
    clock: Clock,
    enrol_limiter: limiter::FailureLimiter<std::net::IpAddr>,
    login_limits: LoginLimits,
    renderer: crate::console::preview::Renderer,
    thumbnails: crate::console::screens::Thumbnails,
    upload_bodies: Arc<tokio::sync::Semaphore>,
    closing: watch::Sender<bool>,
}

/// How many picture uploads may hold their body in memory at once (each up to
/// [`crate::media::MAX_UPLOAD_BYTES`]); the others wait, unread, in their connection.
pub const PARALLEL_UPLOAD_BODIES: usize = 4;

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("store", &self.inner.store.describe()).finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        signer: ManifestSigner,
        media: MediaFiles,
        settings: Settings,
    ) -> AppState {
        AppState::with_clock(store, signer, media, settings, Arc::new(Timestamp::now))
    }

    pub fn with_clock(
        store: Arc<dyn Store>,
        signer: ManifestSigner,
        media: MediaFiles,
        settings: Settings,
        clock: Clock,
    ) -> AppState {
        let enrol_limiter = limiter::FailureLimiter::new(settings.enrol_failures, settings.enrol_window);
        let hints = Hints::new();
        let publishing =
            Publishing::new(Arc::clone(&store), Arc::new(media.clone()), hints.clone(), Arc::clone(&clock));
        let login_limits = LoginLimits {
            by_account: limiter::FailureLimiter::new(
                settings.login_failures_per_account,
                settings.login_window,
            ),
            by_address: limiter::FailureLimiter::new(
                settings.login_failures_per_address,
                settings.login_window,
            ),
        };
        let renderer = crate::console::preview::Renderer::new(settings.console.player.clone(), media.clone());
        AppState {
            inner: Arc::new(Inner {
                store,
                publishing,
                signer,
                media,
                hints,
                settings,
                clock,
                enrol_limiter,
                login_limits,
                renderer,
                thumbnails: Default::default(),
                upload_bodies: Arc::new(tokio::sync::Semaphore::new(PARALLEL_UPLOAD_BODIES)),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// The state of an initialised data directory.
    pub async fn open(data: &DataDir, settings: Settings) -> Result<AppState, DataDirError> {
        let store = data.open_store().await?;
        let signer = data.load_signer()?;
        Ok(AppState::new(store, signer, data.media()?, settings))
    }

    pub fn now(&self) -> Timestamp {
        (self.inner.clock)()
    }

    pub fn hints(&self) -> &Hints {
        &self.inner.hints
    }

    pub fn store(&self) -> &dyn Store {
        &*self.inner.store
    }

    pub fn store_arc(&self) -> Arc<dyn Store> {
        Arc::clone(&self.inner.store)
    }

    pub fn media_files(&self) -> &MediaFiles {
        &self.inner.media
    }

    pub fn console_settings(&self) -> &ConsoleSettings {
        &self.inner.settings.console
    }

    pub(crate) fn console_limits(&self) -> &LoginLimits {
        &self.inner.login_limits
    }

    pub(crate) fn console_renderer(&self) -> &crate::console::preview::Renderer {
        &self.inner.renderer
    }

    /// A place to read one upload's body into memory; see [`PARALLEL_UPLOAD_BODIES`].
    pub(crate) async fn upload_body_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.inner.upload_bodies)
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal(format!("upload slots: {e}")))
    }

    pub(crate) fn console_thumbnails(&self) -> &crate::console::screens::Thumbnails {
        &self.inner.thumbnails
    }

    /// The publishing service every interface calls.
    /// The media files (pictures, update bundles).
    pub fn media(&self) -> &MediaFiles {
        &self.inner.media
    }

    pub fn publishing(&self) -> &Publishing {
        &self.inner.publishing
    }

    /// One housekeeping pass: expired items leave the manifests, with a `withdraw` hint;
    /// expired console sessions and password links are forgotten.
    pub async fn housekeeping(&self) -> Result<(), ApiError> {
        self.publishing().expire().await?;
        self.store().forget_expired_sessions(self.now()).await?;
        Ok(())
    }
}

/// The route table: the APIs under `/v1`, the console everywhere else.
pub fn router(state: AppState) -> Router {
    let console = crate::console::routes(&state)
        .layer(axum::extract::DefaultBodyLimit::max(crate::console::session::MAX_FORM_BYTES));
    Router::new()
        .merge(console)
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/device/enrol", post(device::enrol))
        .route("/v1/device/manifest", get(device::manifest))
        .route("/v1/device/events", get(events::events))
        .route("/v1/device/plays", post(device::plays))
        .route("/v1/device/heartbeat", post(device::heartbeat))
        .route("/v1/media/{sha256}", get(media::download))
        .route("/v1/publish/items", post(publish::create))
        .route("/v1/publish/items/{id}", get(publish::read).put(publish::update).delete(publish::withdraw))
        .route("/v1/publish/items/{id}/plays", get(publish::plays))
        .route("/v1/publish/people/{person_id}", delete(publish::withdraw_person))
        .route("/v1/publish/media", post(media::upload))
        .route("/v1/lift/{lift_id}/status", post(lift::status))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/v1/") {
        ApiError::not_found("no such endpoint; GET /v1/openapi.json lists them").into_response()
    } else {
        crate::console::ConsoleError::NotFound(String::new()).into_response()
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; GET /v1/openapi.json lists them",
    )
}

/// Serves the API on `listener` until `shutdown` completes; then open event streams end and
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let closing = state.inner.closing.clone();
    // Other replicas' hints, for as long as this one serves streams (one-shot commands that
    // open a state do not listen).
    let _hint_relay = state.store().relay_hints(state.hints());
    let housekeeping = tokio::spawn(housekeeping_loop(state.clone()));
    let feeds = state
        .inner
        .settings
        .feeds_tick
        .map(|tick| tokio::spawn(crate::feeds::runner::run(state.publishing().clone(), tick)));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let signal = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    let served = axum::serve(listener, app).with_graceful_shutdown(signal).await;
    housekeeping.abort();
    if let Some(feeds) = feeds {
        feeds.abort();
    }
    served
}

async fn housekeeping_loop(state: AppState) {
    let period = state.inner.settings.housekeeping;
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = state.housekeeping().await {
            tracing::warn!("housekeeping failed: {}", e.message);
        }
    }
}
