//! A real platform on 127.0.0.1:0 in this process, with helpers to set it up and talk to it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use futures_util::{Stream, StreamExt};
use jiff::{SignedDuration, Timestamp};
use palier_content::Severity;
use palier_content::sample::requests;
use palier_content::wire::{ChangeHint, EnrolResponse};
use palier_platform::administration::{Administration, Administrator, ENROLMENT_CODE_TTL, NewBuilding};
use palier_platform::{AppState, DataDir, Role, Settings, Store};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use palier_platform::server::Clock;

/// Who administers in the tests: the command line's operator.
pub const OPERATOR: Administrator = Administrator::CommandLine;

/// True in the `api_postgres` test binary: the same suite on PostgreSQL, with media in an
/// S3-compatible bucket ([`crate::servers`]); false in `api` (SQLite, a media directory).
pub fn scaled_out() -> bool {
    env!("CARGO_CRATE_NAME") == "api_postgres"
}

#[derive(serde::Serialize)]
struct MediaSection {
    media: palier_platform::media::BucketConfig,
}

/// In the scaled-out binary, points a data directory (not initialised yet) at a new
/// PostgreSQL database and a new bucket through its `platform.toml`; nothing otherwise.
pub async fn prepare_data_dir(root: &std::path::Path) {
    if !scaled_out() {
        return;
    }
    std::fs::create_dir_all(root).unwrap();
    let config = format!(
        "database_url = {:?}\n{}",
        crate::servers::postgres_database().await,
        toml::to_string(&MediaSection { media: crate::servers::s3_bucket().await }).unwrap()
    );
    std::fs::write(DataDir::new(root).config_path(), config).unwrap();
}

/// A running platform and its data directory.
pub struct Platform {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    /// A second connection to the same database, for admin set-up as the CLI would do it.
    pub store: Arc<dyn Store>,
    pub public_key: String,
    /// Seconds added to the real clock, so tests can move the platform's time.
    pub offset_s: Arc<AtomicI64>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Platform {
    pub async fn start() -> Platform {
        Platform::start_with(Settings::default()).await
    }

    pub async fn start_with(settings: Settings) -> Platform {
        let dir = tempfile::tempdir().expect("temp dir");
        prepare_data_dir(&dir.path().join("data")).await;
        Platform::start_in(dir, settings).await
    }

    async fn start_in(dir: tempfile::TempDir, settings: Settings) -> Platform {
        let data = DataDir::new(dir.path().join("data"));
        let public_key = data.init().await.expect("init").public_key;
        let (store, media) = (data.open_store().await.unwrap().describe(), data.media().unwrap().describe());
        if scaled_out() {
            assert!(store.starts_with("postgres://") && media.starts_with("s3://"), "{store}, {media}");
        } else {
            assert!(store.starts_with("sqlite:") && !media.starts_with("s3://"), "{store}, {media}");
        }
        let offset_s = Arc::new(AtomicI64::new(0));
        let offset = Arc::clone(&offset_s);
        let clock: Clock =
            Arc::new(move || Timestamp::now() + SignedDuration::from_secs(offset.load(Ordering::SeqCst)));
        let state = AppState::with_clock(
            data.open_store().await.unwrap(),
            data.load_signer().unwrap(),
            data.media().unwrap(),
            settings,
            clock,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(palier_platform::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Platform {
            base: format!("http://{addr}"),
            http: reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap(),
            state,
            store: data.open_store().await.unwrap(),
            public_key,
            offset_s,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Stops the server and waits for it: open event streams must not hold it up.
    pub async fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("server stops").unwrap().unwrap();
    }

    /// The administration service, as the command line calls it.
    pub fn admin(&self) -> &Administration {
        self.state.administration()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn advance(&self, by: SignedDuration) {
        self.offset_s.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    /// A building whose residents' posts need no moderation (the tests about moderation
    /// turn it on with [`Platform::moderated_building`]).
    pub async fn building(&self, name: &str) -> String {
        let id = self.moderated_building(name).await;
        let parsed = palier_platform::ids::BuildingId::parse(&id).unwrap();
        self.admin().set_moderated_kinds(&OPERATOR, &parsed, &[]).await.unwrap();
        id
    }

    /// A building with the default moderation: offers wait for a moderator.
    pub async fn moderated_building(&self, name: &str) -> String {
        let new = NewBuilding {
            id: None,
            name: name.to_owned(),
            address: "12 rue des Tilleuls, 69003 Lyon".to_owned(),
            time_zone: "Europe/Paris".to_owned(),
            locale: "fr-FR".to_owned(),
        };
        self.admin().add_building(&OPERATOR, new).await.unwrap().id
    }

    pub async fn publisher(&self, role: Role, buildings: &[&str]) -> String {
        let buildings: Vec<String> = buildings.iter().map(|b| b.to_string()).collect();
        self.admin().add_publisher(&OPERATOR, "test", role, &buildings).await.unwrap().1
    }

    pub async fn code(&self, building: &str, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        self.admin().create_enrolment_code(&OPERATOR, building, &roles, ENROLMENT_CODE_TTL).await.unwrap().0
    }

    pub async fn enrol(&self, building: &str, roles: &[&str]) -> EnrolResponse {
        let code = self.code(building, roles).await;
        let response = self
            .post_json("/v1/device/enrol", None, &json!({"code": code, "device_name": "test-board"}))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.http.put(self.url(path)).bearer_auth(token).json(body).send().await.unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.http.delete(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    /// Publishes and expects 201; returns the answer.
    pub async fn publish(&self, token: &str, item: &Value) -> Value {
        let response = self.post_json("/v1/publish/items", Some(token), item).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// The device's manifest, checked against the signature, parsed.
    pub async fn manifest(&self, device_token: &str) -> Value {
        let response = self.get("/v1/device/manifest", device_token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let signature = header(&response, "x-palier-signature");
        let body = response.bytes().await.unwrap();
        assert!(verify(&self.public_key, &body, &signature), "manifest signature verifies");
        serde_json::from_slice(&body).unwrap()
    }

    /// Ids of the items in the device's manifest.
    pub async fn item_ids(&self, device_token: &str) -> Vec<String> {
        let manifest = self.manifest(device_token).await;
        manifest["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    }
}

pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("header {name} is missing"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Checks an `X-Palier-Signature` with a public key as `init` prints it.
pub fn verify(public_key: &str, body: &[u8], signature: &str) -> bool {
    let key: [u8; 32] =
        STANDARD.decode(public_key.strip_prefix("ed25519:").unwrap()).unwrap().try_into().unwrap();
    let key = VerifyingKey::from_bytes(&key).unwrap();
    let Ok(signature) = STANDARD.decode(signature) else { return false };
    let Ok(signature) = Signature::from_slice(&signature) else { return false };
    key.verify_strict(body, &signature).is_ok()
}

/// An error answer: asserts the status and code, returns the message.
pub async fn error(response: Response, status: StatusCode, code: &str) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

/// The landlord's flash most tests publish.
pub fn flash(id: &str) -> Value {
    requests::flash(id, Severity::Important, "Coupure d’eau mardi 24 novembre, 9 h – 12 h")
}

pub fn promo(id: &str) -> Value {
    requests::promo(id, &[])
}

/// Camille's offer, published for `person`.
pub fn offer(id: &str, person: &str) -> Value {
    requests::offer(id, person, "Camille", &[])
}

pub use requests::event;

/// A real PNG of these dimensions with a transparent corner (so it stays a PNG once
/// normalised), different for each `seed`.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    use image::ImageEncoder;
    let picture = image::RgbaImage::from_fn(width, height, |x, y| {
        let alpha = if x < 8 && y < 8 { 0 } else { 255 };
        image::Rgba([(x % 256) as u8, (y % 256) as u8, seed, alpha])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&picture, width, height, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// A PNG signature and IHDR chunk only, declaring these dimensions: what a bomb starts with.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

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

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A device's open event stream.
pub struct Events {
    stream: ByteStream,
    buffer: String,
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
        Events { stream: Box::pin(response.bytes_stream()), buffer: String::new() }
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
