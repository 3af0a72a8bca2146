//! Device endpoints of protocol §5: enrolment, the signed manifest, plays and heartbeats.
//! (Events are in `events`, media in `media`.)

use std::io::Write;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::{SignedDuration, Timestamp};
use palier_content::limits::{MAX_MANIFEST_BYTES, MAX_PLAYS_PER_BATCH, MAX_SHORT_TEXT_CHARS};
use palier_content::validate::check_id;
use palier_content::wire::{
    EnrolRequest, EnrolResponse, Heartbeat, PlayRecord, PlayTrigger, PlaysAck, RejectedPlay, SIGNATURE_HEADER,
};
use serde_json::Value;

use super::error::ApiError;
use super::extract::{DeviceAuth, JsonBody};
use crate::boards::Enrolled;
use crate::client::ClientIp;
use crate::secret::hash_secret;
use crate::state::AppState;
use crate::store::Device;
use palier_content::system::SystemUpdate;

/// A manifest stays acceptable this long after it was issued (protocol §5.2).
pub const MANIFEST_LIFETIME: SignedDuration = SignedDuration::from_hours(7 * 24);

/// `POST /v1/device/enrol`.
pub async fn enrol(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    JsonBody(request): JsonBody<EnrolRequest>,
) -> Result<Json<EnrolResponse>, ApiError> {
    let limiter = state.enrol_limiter();
    if let Some(ip) = client
        && let Err(wait) = limiter.check(&ip, Instant::now())
    {
        return Err(ApiError::too_many_requests(wait, "too many refused enrolment codes; try again later"));
    }
    let name = printable(&request.device_name);
    let software_version = printable(&request.software_version);
    let enrolled = state.boards().enrol(&request.code, name, software_version).await?;
    let Some(Enrolled { device, token }) = enrolled else {
        if let Some(ip) = client {
            limiter.record_failure(ip, Instant::now());
        }
        return Err(ApiError::invalid_code());
    };
    tracing::info!(device = %device.id, building = %device.building_id, "device enrolled");
    Ok(Json(EnrolResponse {
        device_id: device.id.to_string(),
        token,
        building_id: device.building_id.to_string(),
        roles: device.roles,
    }))
}

/// Free text from a device, kept short and without control characters.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(MAX_SHORT_TEXT_CHARS).collect()
}

/// The manifest's ETag: it changes when, and only when, the generation or the system
/// update assigned to the device does.
fn etag(device: &Device, generation: u64, update: Option<&SystemUpdate>) -> String {
    let salt = hash_secret(device.id.as_str());
    match update {
        None => format!("\"g{generation}-{}\"", &salt[..6]),
        Some(update) => format!("\"g{generation}-{}-u{}\"", &salt[..6], &update.sha256[..8]),
    }
}

/// RFC 9110 `If-None-Match`: `*` or a list of (possibly weak) tags.
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    let Some(value) = headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else { return false };
    value.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        },
    )
}

/// `GET /v1/device/manifest`.
pub async fn manifest(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let gzip = accepts_gzip(&headers);
    let issued_at = Timestamp::from_second(state.now().as_second()).unwrap_or_else(|_| state.now());
    let boards = state.boards();
    let generation = boards.generation(&device).await?;
    let system_update = boards.desired_update(&device).await?;
    let tag = etag(&device, generation.generation, system_update.as_ref());
    if none_match(&headers, &tag) {
        return Ok(
            (StatusCode::NOT_MODIFIED, [(ETAG, tag), (CACHE_CONTROL, "no-cache".to_owned())]).into_response()
        );
    }
    let manifest = boards.manifest(&device, issued_at, MANIFEST_LIFETIME, system_update).await?;
    let tag = etag(&device, manifest.generation, manifest.system_update.as_ref());
    let body = serde_json::to_vec(&manifest).map_err(|e| ApiError::internal(format!("manifest: {e}")))?;
    if body.len() > MAX_MANIFEST_BYTES {
        return Err(ApiError::internal(format!(
            "manifest of device {} is {} bytes, over the protocol limit",
            device.id,
            body.len()
        )));
    }
    let signer = state.signer().clone();
    // Signing and compressing are CPU work: off the async threads.
    tokio::task::spawn_blocking(move || {
        let signature = signer.sign(&body);
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, "application/json")
            .header(CACHE_CONTROL, "no-cache")
            .header(ETAG, tag)
            .header(VARY, "Accept-Encoding")
            .header(SIGNATURE_HEADER, signature);
        let body = if gzip {
            response = response.header(CONTENT_ENCODING, "gzip");
            let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
            encoder
                .write_all(&body)
                .and_then(|_| encoder.finish())
                .map_err(|e| ApiError::internal(format!("gzip: {e}")))?
        } else {
            body
        };
        response.body(Body::from(body)).map_err(|e| ApiError::internal(format!("manifest response: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal(format!("manifest task: {e}")))?
}

/// Reads one play record on its own; the error is the reason it is rejected.
fn judge_play(raw: &Value) -> Result<PlayRecord, String> {
    let play: PlayRecord =
        serde_json::from_value(raw.clone()).map_err(|e| format!("not a play record: {e}"))?;
    check_id("id", &play.id)?;
    if play.duration_ms == 0 {
        return Err("duration_ms is 0; a play lasts at least 1 ms".to_owned());
    }
    let fallback = play.trigger == PlayTrigger::Fallback;
    if play.item_id.is_empty() && !fallback {
        return Err(format!(
            "item_id is empty but trigger is {}; only the fallback slide has no item",
            play.trigger.as_str()
        ));
    }
    if !play.item_id.is_empty() && fallback {
        return Err("trigger is fallback but item_id is set; the fallback slide has no item".to_owned());
    }
    Ok(play)
}

/// `POST /v1/device/plays`.
pub async fn plays(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<PlaysAck>, ApiError> {
    let records = body
        .get("plays")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("the body must be an object with a \"plays\" array"))?;
    if records.len() > MAX_PLAYS_PER_BATCH {
        return Err(ApiError::payload_too_large(format!(
            "{} play records in one upload; send at most {MAX_PLAYS_PER_BATCH}",
            records.len()
        )));
    }
    let mut ack = PlaysAck::default();
    let mut accepted = Vec::new();
    for (index, raw) in records.iter().enumerate() {
        let Some(id) = raw.get("id").and_then(Value::as_str) else {
            return Err(ApiError::bad_request(format!("plays[{index}].id is missing or not a string")));
        };
        match judge_play(raw) {
            Ok(play) => {
                ack.acknowledged.push(play.id.clone());
                accepted.push(play);
            }
            Err(reason) => ack.rejected.push(RejectedPlay { id: id.to_owned(), reason }),
        }
    }
    state.boards().record_plays(&device.id, &accepted).await?;
    Ok(Json(ack))
}

/// `POST /v1/device/heartbeat`.
pub async fn heartbeat(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    JsonBody(beat): JsonBody<Heartbeat>,
) -> Result<StatusCode, ApiError> {
    state.boards().record_heartbeat(&device.id, &beat).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        let offer = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, v.parse().unwrap());
            accepts_gzip(&h)
        };
        assert!(offer("gzip"));
        assert!(offer("br, gzip;q=0.5"));
        assert!(!offer("gzip;q=0"));
        assert!(!offer("br"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
