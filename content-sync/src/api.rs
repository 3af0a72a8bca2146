//! The device protocol's HTTP client, [`PlatformClient`], and nothing else: one reqwest
//! client (rustls, kept-alive connections) shared by every request of the daemon.
//!
//! It knows the endpoints, headers and status codes of `docs/protocol.md` and turns every
//! failure into an [`ApiError`] that says whether trying again can help. It reads the
//! manifest's bytes exactly as sent (gunzipping them itself, with a hard cap, so the
//! signature can be checked over the uncompressed bytes before anything parses them), and
//! it measures the board's clock against every answer's `Date` header. It does not verify,
//! plan or store anything: that is [`crate::sync`]'s job.

use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use jiff::Timestamp;
use palier_content::limits::MAX_MANIFEST_BYTES;
use palier_content::wire::{
    ClockStatus, EnrolRequest, EnrolResponse, ErrorBody, Heartbeat, PlaysAck, PlaysBatch, SIGNATURE_HEADER,
};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::credentials::DeviceToken;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("palier-sync/", env!("CARGO_PKG_VERSION"));

/// A skew beyond this (in ms, either way) makes the board's clock untrusted.
pub const MAX_TRUSTED_SKEW_MS: i64 = 120_000;

/// Why a request failed, and whether repeating it can help.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("device token revoked: re-enrol with a new code")]
    Unauthorized,
    #[error("enrolment code rejected: ask the platform admin for a new code")]
    InvalidCode,
    #[error("{url}: {status} {code}: {message}")]
    Status { url: String, status: u16, code: String, message: String, retry_after: Option<Duration> },
    #[error("{url}: {message}")]
    BadAnswer { url: String, message: String },
}

/// What to do about a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Timeouts, connection errors, 5xx, 408, 429: try again with backoff.
    Transient,
    /// Any other 4xx, or an answer that breaks the protocol: not as it is.
    Permanent,
}

impl ApiError {
    pub fn retry(&self) -> Retry {
        match self {
            ApiError::Unreachable { .. } => Retry::Transient,
            ApiError::Status { status, .. } if *status >= 500 || *status == 408 || *status == 429 => {
                Retry::Transient
            }
            _ => Retry::Permanent,
        }
    }

    /// The platform's `Retry-After`, if it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The answer to a manifest request.
#[derive(Debug)]
pub enum ManifestAnswer {
    /// 304: the stored ETag is current.
    NotModified,
    Fetched(FetchedManifest),
}

/// A manifest body as received, not yet verified.
#[derive(Debug)]
pub struct FetchedManifest {
    /// Uncompressed, at most `MAX_MANIFEST_BYTES`.
    pub body: Vec<u8>,
    pub signature: Option<String>,
    pub etag: Option<String>,
    /// The answer's `Date` header.
    pub date: Option<Timestamp>,
}

/// The board's clock against the platform's, from the last answer that had a `Date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    pub skew_ms: i64,
    pub server_date: Timestamp,
}

impl ClockReading {
    pub fn status(&self) -> ClockStatus {
        ClockStatus { trusted: self.skew_ms.abs() <= MAX_TRUSTED_SKEW_MS, skew_ms: Some(self.skew_ms) }
    }
}

/// The protocol client. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct PlatformClient {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
    token: Option<DeviceToken>,
    clock: Mutex<Option<ClockReading>>,
}

impl PlatformClient {
    /// A client for the platform at `base` (e.g. `https://palier.example`). `timeout` bounds
    /// each request; for downloads and event streams, each wait for the next bytes.
    pub fn new(base: Url, timeout: Duration) -> Result<PlatformClient, ApiError> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_keepalive(Duration::from_secs(60))
            .build()
            .map_err(|e| ApiError::Unreachable { url: base.to_string(), message: e.to_string() })?;
        Ok(PlatformClient { http, base, timeout, token: None, clock: Mutex::new(None) })
    }

    /// The same client, authenticated as an enrolled device.
    pub fn with_token(mut self, token: DeviceToken) -> PlatformClient {
        self.token = Some(token);
        self
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The last clock measurement, if any answer carried a `Date`.
    pub fn clock(&self) -> Option<ClockReading> {
        *self.clock.lock().expect("clock lock")
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match &self.token {
            Some(token) => request.bearer_auth(token.expose()),
            None => request,
        }
    }

    /// Sends, measures the clock, and turns non-success answers into errors (304 passes).
    async fn send(&self, request: RequestBuilder) -> Result<Response, ApiError> {
        let request = request.build().map_err(|e| unreachable("request", &e))?;
        let url = request.url().path().to_owned();
        let response = self.http.execute(request).await.map_err(|e| unreachable(&url, &e))?;
        self.observe_date(response.headers());
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok(response);
        }
        Err(error_answer(&url, response).await)
    }

    fn observe_date(&self, headers: &HeaderMap) {
        if let Some(date) = parse_date(headers) {
            let skew_ms = Timestamp::now().duration_since(date).as_millis() as i64;
            *self.clock.lock().expect("clock lock") = Some(ClockReading { skew_ms, server_date: date });
        }
    }

    /// `POST /v1/device/enrol`.
    pub async fn enrol(&self, code: &str, device_name: &str) -> Result<EnrolResponse, ApiError> {
        let body = EnrolRequest {
            code: code.trim().to_owned(),
            device_name: device_name.to_owned(),
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let request = self.request(Method::POST, "/v1/device/enrol").json(&body).timeout(self.timeout);
        match self.send(request).await {
            Err(ApiError::Status { status: 403, code, .. }) if code == "invalid_code" => {
                Err(ApiError::InvalidCode)
            }
            other => json(other?).await,
        }
    }

    /// `GET /v1/device/manifest`, conditional on `etag`.
    pub async fn manifest(&self, etag: Option<&str>) -> Result<ManifestAnswer, ApiError> {
        let mut request = self
            .request(Method::GET, "/v1/device/manifest")
            .header(header::ACCEPT_ENCODING, "gzip")
            .timeout(self.timeout);
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let response = self.send(request).await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(ManifestAnswer::NotModified);
        }
        let headers = response.headers().clone();
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let gzip =
            text(header::CONTENT_ENCODING.as_str()).is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip"));
        let url = response.url().path().to_owned();
        // Compressed or not, a body past the limit cannot be a manifest (gzip's framing adds
        // a few bytes at worst to incompressible data).
        let raw = read_capped(response, MAX_MANIFEST_BYTES + 64 * 1024, &url).await?;
        let body = if gzip { gunzip_capped(&raw, MAX_MANIFEST_BYTES, &url)? } else { raw };
        if body.len() > MAX_MANIFEST_BYTES {
            return Err(too_large(&url));
        }
        Ok(ManifestAnswer::Fetched(FetchedManifest {
            body,
            signature: text(SIGNATURE_HEADER),
            etag: text(header::ETAG.as_str()),
            date: parse_date(&headers),
        }))
    }

    /// `GET /v1/media/{sha256}`, from byte `from` on. The caller reads the body: 200 (whole
    /// file) or 206 (the rest); 404 and 416 come back as [`ApiError::Status`].
    pub async fn media(&self, sha256: &str, from: u64) -> Result<Response, ApiError> {
        let mut request = self.request(Method::GET, &format!("/v1/media/{sha256}"));
        if from > 0 {
            request = request.header(header::RANGE, format!("bytes={from}-"));
        }
        // No overall timeout: a 16 MiB picture on a slow line takes what it takes; the
        // caller bounds each wait for the next chunk instead.
        self.send(request).await
    }

    /// `GET /v1/device/events`: the open stream; the caller reads and parses it.
    pub async fn events(&self, last_event_id: u64) -> Result<Response, ApiError> {
        let request = self
            .request(Method::GET, "/v1/device/events")
            .header(header::ACCEPT, "text/event-stream")
            .header("last-event-id", last_event_id.to_string());
        self.send(request).await
    }

    /// `POST /v1/device/plays`.
    pub async fn plays(&self, batch: &PlaysBatch) -> Result<PlaysAck, ApiError> {
        let request = self.request(Method::POST, "/v1/device/plays").json(batch).timeout(self.timeout);
        json(self.send(request).await?).await
    }

    /// `POST /v1/device/heartbeat`.
    pub async fn heartbeat(&self, beat: &Heartbeat) -> Result<(), ApiError> {
        let request = self.request(Method::POST, "/v1/device/heartbeat").json(beat).timeout(self.timeout);
        self.send(request).await.map(drop)
    }
}

fn unreachable(url: &str, e: &reqwest::Error) -> ApiError {
    // reqwest's Display stops at the outer layer; the cause says "connection refused".
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    if e.is_timeout() {
        message = format!("no answer in time ({message})");
    }
    ApiError::Unreachable { url: url.to_owned(), message }
}

fn too_large(url: &str) -> ApiError {
    ApiError::BadAnswer {
        url: url.to_owned(),
        message: format!("manifest body is over the {MAX_MANIFEST_BYTES}-byte limit"),
    }
}

async fn error_answer(url: &str, response: Response) -> ApiError {
    let status = response.status().as_u16();
    if status == 401 {
        return ApiError::Unauthorized;
    }
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_capped(response, 64 * 1024, url).await.unwrap_or_default();
    let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(ErrorBody { error }) => (error.code, error.message),
        Err(_) => (String::new(), String::from_utf8_lossy(&body).chars().take(200).collect()),
    };
    ApiError::Status { url: url.to_owned(), status, code, message, retry_after }
}

async fn json<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let url = response.url().path().to_owned();
    let body = read_capped(response, palier_content::limits::MAX_REQUEST_BYTES * 4, &url).await?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadAnswer { url, message: format!("unreadable answer: {e}") })
}

/// Reads a body, refusing it as soon as it passes `limit` bytes.
async fn read_capped(response: Response, limit: usize, url: &str) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| unreachable(url, &e))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::BadAnswer {
                url: url.to_owned(),
                message: format!("answer is over {limit} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Gunzips `raw`, stopping as soon as the output passes `limit` (a gzip bomb costs nothing).
pub fn gunzip_capped(raw: &[u8], limit: usize, url: &str) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw).take(limit as u64 + 1).read_to_end(&mut out).map_err(|e| {
        ApiError::BadAnswer { url: url.to_owned(), message: format!("gzip body is corrupt: {e}") }
    })?;
    if out.len() > limit {
        return Err(too_large(url));
    }
    Ok(out)
}

/// The `Date` header (RFC 9110 IMF-fixdate).
pub fn parse_date(headers: &HeaderMap) -> Option<Timestamp> {
    let text = headers.get(header::DATE)?.to_str().ok()?;
    jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn gzip_bombs_stop_at_the_limit() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b' '; 200_000]).unwrap();
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 2_000);
        assert!(gunzip_capped(&bomb, 100_000, "/m").unwrap_err().to_string().contains("limit"));
        assert_eq!(gunzip_capped(&bomb, 200_000, "/m").unwrap().len(), 200_000);
        assert!(gunzip_capped(b"not gzip", 10, "/m").unwrap_err().to_string().contains("corrupt"));
    }

    #[test]
    fn dates_and_skew() {
        let mut headers = HeaderMap::new();
        headers.insert(header::DATE, "Tue, 24 Nov 2026 07:58:12 GMT".parse().unwrap());
        assert_eq!(parse_date(&headers), Some("2026-11-24T07:58:12Z".parse().unwrap()));
        let date: Timestamp = "2026-11-24T07:58:12Z".parse().unwrap();
        let reading = |skew_ms| ClockReading { skew_ms, server_date: date }.status();
        assert!(reading(119_000).trusted && reading(-120_000).trusted);
        assert!(!reading(120_001).trusted && !reading(-600_000).trusted);
    }

    #[test]
    fn errors_know_whether_to_retry() {
        let status = |status| ApiError::Status {
            url: "/".into(),
            status,
            code: String::new(),
            message: String::new(),
            retry_after: None,
        };
        for transient in [500, 503, 408, 429] {
            assert_eq!(status(transient).retry(), Retry::Transient, "{transient}");
        }
        for permanent in [400, 403, 404, 413, 416] {
            assert_eq!(status(permanent).retry(), Retry::Permanent, "{permanent}");
        }
        assert_eq!(ApiError::Unauthorized.retry(), Retry::Permanent);
        let unreachable = ApiError::Unreachable { url: "/".into(), message: "refused".into() };
        assert_eq!(unreachable.retry(), Retry::Transient);
    }
}
