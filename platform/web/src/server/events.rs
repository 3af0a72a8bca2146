//! `GET /v1/device/events`: the server-sent stream of change hints (protocol §5.3).
//!
//! The stream opens with `retry: 5000`, sends one `changed` event at once when the device's
//! `Last-Event-ID` is behind, then one per hint of its building whose generation is above
//! what it was last told, and a `: keep-alive` comment every 15 s. A lagging stream skips
//! to the current generation. The stream ends when the device is revoked (checked at each
//! keep-alive) or the server shuts down.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use futures_util::Stream;
use palier_content::wire::ChangeHint;
use tokio::sync::broadcast::error::RecvError;

use super::error::ApiError;
use super::extract::DeviceAuth;
use crate::state::AppState;

/// The reconnection delay announced to generic SSE clients.
const RETRY: Duration = Duration::from_millis(5000);

fn changed(generation: u64, reason: &str) -> Event {
    let hint = ChangeHint { generation, reason: reason.to_owned() };
    Event::default()
        .event("changed")
        .id(generation.to_string())
        .data(serde_json::to_string(&hint).expect("hints serialize"))
}

/// `GET /v1/device/events`.
pub async fn events(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last_event_id: u64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    // Subscribe before reading the generation, so no change falls between the two.
    let mut hints = state.hints().subscribe(&device.building_id);
    let current = state.boards().generation(&device).await?;
    let keep_alive = state.settings().keep_alive;
    let mut closing = state.closing().subscribe();
    let stream = async_stream::stream! {
        yield Ok(Event::default().retry(RETRY));
        let mut told = last_event_id;
        if current.generation > told {
            told = current.generation;
            yield Ok(changed(current.generation, &current.reason));
        }
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
        loop {
            if *closing.borrow_and_update() {
                break;
            }
            tokio::select! {
                hint = hints.recv() => match hint {
                    Ok(hint) if hint.generation > told => {
                        told = hint.generation;
                        yield Ok(changed(hint.generation, &hint.reason));
                    }
                    Ok(hint) if !hint.is_recheck() => {}
                    // Hints were lost (skipped, or sent while this replica was not listening).
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        if let Ok(now) = state.boards().generation(&device).await {
                            if now.generation > told {
                                told = now.generation;
                                yield Ok(changed(now.generation, &now.reason));
                            }
                        }
                    }
                    Err(RecvError::Closed) => break,
                },
                _ = ticker.tick() => {
                    let active = state.boards().still_enrolled(&device.id).await;
                    if matches!(active, Ok(false)) {
                        break;
                    }
                    yield Ok(Event::default().comment("keep-alive"));
                }
                _ = closing.changed() => break,
            }
        }
    };
    Ok(Sse::new(stream))
}
