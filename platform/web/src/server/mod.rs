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
mod media;
mod publish;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use tokio::net::TcpListener;

pub use error::ApiError;

pub use crate::publishing::Clock;
pub use crate::state::{AppState, ConsoleSettings, PARALLEL_UPLOAD_BODIES, Settings};

/// The API document, kept in `docs/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../../../../docs/openapi.json");

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

/// The route table: the APIs under `/v1` on the services, the console everywhere else on its
/// own state beside them.
pub fn router(state: AppState) -> Router {
    let console = crate::console::routes(state.clone())
        .layer(axum::extract::DefaultBodyLimit::max(crate::console::session::MAX_FORM_BYTES));
    let api = Router::new()
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
        .with_state(state);
    Router::new()
        .merge(console)
        .merge(api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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
    let closing = state.closing().clone();
    // Other replicas' hints, for as long as this one serves streams (one-shot commands that
    // open a state do not listen).
    let _hint_relay = state.store().relay_hints(state.hints());
    let housekeeping = tokio::spawn(housekeeping_loop(state.clone()));
    let feeds = state
        .settings()
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
    let period = state.settings().housekeeping;
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = state.housekeeping().await {
            tracing::warn!("housekeeping failed: {e}");
        }
    }
}
