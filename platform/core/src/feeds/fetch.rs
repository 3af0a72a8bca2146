//! Fetching a feed and its pictures over HTTP: conditional requests (ETag, Last-Modified),
//! a timeout, a size cap enforced while reading (a declared length is not trusted), few
//! redirects, and errors that say what happened in a sentence.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

/// How long one request may take, headers and body.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// 304: the document did not change since the validators were given.
    NotModified,
    Document {
        bytes: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Unreachable(String),
    #[error("the server answered HTTP {status}")]
    Status { status: u16 },
    #[error("the document is larger than {limit} bytes; nothing was read")]
    TooLarge { limit: usize },
}

/// The HTTP client feeds share.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
}

impl Default for Fetcher {
    fn default() -> Fetcher {
        Fetcher::new()
    }
}

impl Fetcher {
    pub fn new() -> Fetcher {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("Palier/", env!("CARGO_PKG_VERSION"), " (building screens; feed reader)"))
            .build()
            .expect("the HTTP client builds");
        Fetcher { client }
    }

    /// GETs a document, conditionally when validators from the last fetch are given.
    pub async fn document(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        limit: usize,
    ) -> Result<Fetched, FetchError> {
        let mut request = self.client.get(url);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(last_modified) = last_modified {
            request = request.header(IF_MODIFIED_SINCE, last_modified);
        }
        let response = request.send().await.map_err(unreachable)?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
        let bytes = body(response, limit).await?;
        Ok(Fetched::Document { bytes, etag, last_modified })
    }

    /// GETs a picture, at most `limit` bytes.
    pub async fn picture(&self, url: &str, limit: usize) -> Result<Vec<u8>, FetchError> {
        let response = self.client.get(url).send().await.map_err(unreachable)?;
        body(response, limit).await
    }
}

fn unreachable(e: reqwest::Error) -> FetchError {
    let what = if e.is_timeout() {
        format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "the server cannot be reached".to_owned()
    } else if e.is_builder() {
        "the address is not a valid http(s) URL".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        detail = format!("{detail}: {cause}");
        source = cause.source();
    }
    FetchError::Unreachable(format!("{what} ({detail})"))
}

/// Reads a 2xx body, stopping past `limit`.
async fn body(response: reqwest::Response, limit: usize) -> Result<Vec<u8>, FetchError> {
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status { status: status.as_u16() });
    }
    let declared =
        response.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(64 * 1024).min(limit));
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(unreachable)?;
        if bytes.len() + chunk.len() > limit {
            return Err(FetchError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
