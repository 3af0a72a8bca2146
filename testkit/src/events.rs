//! A board's open event stream (`GET /v1/device/events`), read message by message.

use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use palier_content::wire::ChangeHint;
use reqwest::StatusCode;

use crate::inproc::{Platform, header};

/// One server-sent message: its fields in order (`""` for a comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub fields: Vec<(String, String)>,
}

impl Message {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Vec<u8>>> + Send>>;

/// A device's open event stream.
pub struct Events {
    stream: ByteStream,
    buffer: String,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").field("buffer", &self.buffer).finish_non_exhaustive()
    }
}

impl Events {
    pub async fn open(platform: &Platform, token: &str, last_event_id: Option<u64>) -> Events {
        Events::open_at(&platform.http, &platform.base, token, last_event_id).await
    }

    /// A stream from the platform at `base` (`http://127.0.0.1:PORT`).
    pub async fn open_at(
        http: &reqwest::Client,
        base: &str,
        token: &str,
        last_event_id: Option<u64>,
    ) -> Events {
        let mut request = http
            .get(format!("{base}/v1/device/events"))
            .bearer_auth(token)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "content-type"), "text/event-stream");
        assert_eq!(header(&response, "cache-control"), "no-cache");
        let stream = response.bytes_stream().map(|chunk| chunk.map(|bytes| bytes.to_vec()));
        Events { stream: Box::pin(stream), buffer: String::new() }
    }

    /// The next message, or `None` when the stream ended (or was cut).
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let fields = block
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        let (name, value) = l.split_once(':').unwrap_or((l, ""));
                        (name.to_owned(), value.strip_prefix(' ').unwrap_or(value).to_owned())
                    })
                    .collect();
                return Some(Message { fields });
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => self.buffer.push_str(std::str::from_utf8(&chunk).unwrap()),
                // Ended, cleanly or not (a killed server cuts a chunk).
                None | Some(Err(_)) => return None,
            }
        }
    }

    /// The next `changed` event within `within`, skipping comments and `retry`.
    pub async fn changed(&mut self, within: Duration) -> ChangeHint {
        tokio::time::timeout(within, async {
            loop {
                let message = self.next().await.expect("the stream stays open");
                if message.get("event") == Some("changed") {
                    let hint: ChangeHint = serde_json::from_str(message.get("data").unwrap()).unwrap();
                    assert_eq!(message.get("id"), Some(hint.generation.to_string().as_str()));
                    return hint;
                }
            }
        })
        .await
        .expect("a changed event arrives in time")
    }
}
