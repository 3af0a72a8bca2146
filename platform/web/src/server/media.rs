//! `GET /v1/media/{sha256}` for devices (protocol §5.4: immutable, ranges; streamed from
//! the data directory or the bucket, or a redirect to the bucket's public address) and
//! `POST /v1/publish/media` for publishers (raw bytes in, the normalised picture's MediaRef
//! out). At most [`super::PARALLEL_UPLOAD_BODIES`] upload bodies are held at once.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION,
    RANGE,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use palier_content::MediaRef;

use super::error::ApiError;
use super::extract::{DeviceAuth, PublisherAuth, read_body, refuse_encoding};
use crate::ids::MediaAddress;
use crate::media::{ByteRange, parse_range};
use crate::state::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `GET /v1/media/{sha256}`.
pub async fn download(
    State(state): State<AppState>,
    DeviceAuth(_device): DeviceAuth,
    Path(sha256): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::not_found(format!("no media at address {sha256:?}"));
    let address = MediaAddress::parse(&sha256).map_err(|_| unknown())?;
    let media = state.boards().media(&address).await?.ok_or_else(unknown)?;
    if let Some(url) = state.media().public_url(address.as_str()) {
        // A CDN or the bucket answers: the file is immutable, so the redirect may be cached too.
        return Ok(
            (StatusCode::FOUND, [(LOCATION, url), (CACHE_CONTROL, IMMUTABLE.to_owned())]).into_response()
        );
    }
    let files = state.media();
    let failed =
        |e: std::io::Error| ApiError::internal(format!("media {sha256} in {}: {e}", files.describe()));
    let size = files.size(address.as_str()).await.map_err(failed)?;
    let etag = format!("\"{sha256}\"");
    let common = [
        (CONTENT_TYPE, media.mime.clone()),
        (ETAG, etag.clone()),
        (CACHE_CONTROL, IMMUTABLE.to_owned()),
        (ACCEPT_RANGES, "bytes".to_owned()),
    ];
    let cached = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"));
    if cached {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let range =
        headers.get(RANGE).and_then(|v| v.to_str().ok()).map_or(ByteRange::Whole, |r| parse_range(r, size));
    let (status, start, length) = match range {
        ByteRange::Whole => (StatusCode::OK, 0, size),
        ByteRange::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        ByteRange::Unsatisfiable => return Err(ApiError::range_not_satisfiable(size)),
    };
    let body = Body::from_stream(files.stream(address.as_str(), start, length).await.map_err(failed)?);
    let mut response = (status, common, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_LENGTH, length.into());
    if status == StatusCode::PARTIAL_CONTENT {
        let value = format!("bytes {start}-{}/{size}", start + length - 1);
        headers.insert(CONTENT_RANGE, value.parse().expect("a valid header"));
    }
    Ok(response)
}

/// `POST /v1/publish/media`: the picture's raw bytes; any declared type is ignored.
pub async fn upload(
    State(state): State<AppState>,
    PublisherAuth(publisher): PublisherAuth,
    request: Request,
) -> Result<(StatusCode, Json<MediaRef>), ApiError> {
    let (parts, body) = request.into_parts();
    refuse_encoding(&parts.headers)?;
    // The body is held in memory until the picture is stored: bounded by the upload slots.
    let _slot = state.upload_body_slot().await.map_err(ApiError::internal)?;
    let bytes = read_body(&parts.headers, body, crate::media::MAX_UPLOAD_BYTES).await?;
    let uploaded = state.publishing().upload_media(&publisher, Vec::from(bytes)).await?;
    let status = if uploaded.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(uploaded.media)))
}
