//! Request extractors: bearer authentication of devices and publishers, and JSON bodies
//! read with the protocol's size, type and encoding rules (§2), so every handler gets the
//! same 401, 413, 415 and 400 answers.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use palier_content::limits::MAX_REQUEST_BYTES;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::publishing::Actor;
use crate::secret::bearer;
use crate::state::AppState;
use crate::store::Device;

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    header
        .to_str()
        .ok()
        .and_then(bearer)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not Bearer <token>"))
}

/// An enrolled, not revoked device.
#[derive(Debug, Clone)]
pub struct DeviceAuth(pub Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<DeviceAuth, ApiError> {
        let token = bearer_token(parts)?;
        let device = state.boards().by_token(token).await?.ok_or_else(|| {
            ApiError::unauthorized("device token unknown or revoked; re-enrol with a new code")
        })?;
        Ok(DeviceAuth(device))
    }
}

/// A publisher with a valid token, acting through the publishing API.
#[derive(Debug, Clone)]
pub struct PublisherAuth(pub Actor);

impl FromRequestParts<AppState> for PublisherAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<PublisherAuth, ApiError> {
        let token = bearer_token(parts)?;
        let actor = state
            .accounts()
            .publisher(token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("publisher token unknown or revoked"))?;
        Ok(PublisherAuth(actor))
    }
}

/// Refuses a content-encoded request body (protocol §2: bodies are sent uncompressed).
pub fn refuse_encoding(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase()) {
        None => Ok(()),
        Some(e) if e.is_empty() || e == "identity" => Ok(()),
        Some(e) => Err(ApiError::unsupported_media_type(format!(
            "request bodies are sent uncompressed, not with Content-Encoding {e}"
        ))),
    }
}

/// Reads a body of at most `limit` bytes: 413 past it.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::payload_too_large(format!("the body is over its {limit}-byte limit"));
    let declared =
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(ApiError::bad_request(format!("could not read the body: {e}"))),
    }
}

/// Parses JSON with an error that names the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if e.inner().is_syntax() || e.inner().is_eof() {
            ApiError::bad_request(format!("the body is not valid JSON: {}", e.inner()))
        } else if path == "." {
            ApiError::bad_request(format!("the body is not the expected JSON: {}", e.inner()))
        } else {
            ApiError::bad_request(format!("body field {path}: {}", e.inner()))
        }
    })?;
    de.end().map_err(|e| ApiError::bad_request(format!("trailing data after the JSON body: {e}")))?;
    Ok(value)
}

/// A JSON request body of at most `MAX_REQUEST_BYTES`, sent as `application/json`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &AppState) -> Result<JsonBody<T>, ApiError> {
        let (parts, body) = request.into_parts();
        let content_type = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            let given = if content_type.is_empty() { "none".to_owned() } else { format!("{content_type:?}") };
            return Err(ApiError::unsupported_media_type(format!(
                "send the body as Content-Type: application/json (got {given})"
            )));
        }
        refuse_encoding(&parts.headers)?;
        let bytes = read_body(&parts.headers, body, MAX_REQUEST_BYTES).await?;
        Ok(JsonBody(parse_json(&bytes)?))
    }
}
