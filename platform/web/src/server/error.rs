//! Error answers: every non-2xx answer except 304 is `{"error": {"code", "message"}}`
//! (protocol §6), with the headers its status calls for.

use axum::http::header::{CONTENT_RANGE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use palier_content::wire::ErrorBody;

use crate::media::UploadError;
use crate::publishing::PublishingError;
use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), headers: Vec::new() }
    }

    fn with_header(mut self, name: HeaderName, value: String) -> ApiError {
        if let Ok(value) = HeaderValue::from_str(&value) {
            self.headers.push((name, value));
        }
        self
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
            .with_header(WWW_AUTHENTICATE, "Bearer".to_owned())
    }

    pub fn invalid_code() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_code",
            "enrolment code is unknown, already used or expired; ask the platform admin for a new code",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn payload_too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }

    pub fn range_not_satisfiable(size: u64) -> ApiError {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
            format!("the range lies outside the file's {size} bytes"),
        )
        .with_header(CONTENT_RANGE, format!("bytes */{size}"))
    }

    pub fn too_many_requests(retry_after_secs: u64, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
            .with_header(RETRY_AFTER, retry_after_secs.max(1).to_string())
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            // The details (paths, SQL errors) go to the log, not to the client.
            tracing::error!(code = self.code, "{}", self.message);
            "the platform hit an internal error; its log has the details".to_owned()
        } else {
            self.message
        };
        let mut response = (self.status, axum::Json(ErrorBody::new(self.code, message))).into_response();
        response.headers_mut().extend(self.headers);
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        PublishingError::from(e).into()
    }
}

impl From<PublishingError> for ApiError {
    fn from(e: PublishingError) -> ApiError {
        match e {
            PublishingError::Invalid(m) => ApiError::bad_request(m),
            PublishingError::NotFound(m) => ApiError::not_found(m),
            PublishingError::Forbidden(f) => ApiError::forbidden(f.message),
            PublishingError::Conflict { message, .. } => ApiError::conflict(message),
            PublishingError::ManifestFull(m) => ApiError::new(StatusCode::CONFLICT, "manifest_full", m),
            PublishingError::Upload(UploadError::NotAPicture(m)) => ApiError::unsupported_media_type(m),
            PublishingError::Upload(UploadError::TooLarge(m)) => ApiError::payload_too_large(m),
            other @ (PublishingError::Store(_) | PublishingError::MediaFiles { .. }) => {
                ApiError::internal(other.to_string())
            }
        }
    }
}
