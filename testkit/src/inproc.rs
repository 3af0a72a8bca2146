//! A real platform served on 127.0.0.1 in the test's own process: on SQLite with a media
//! directory, or scaled out on a new PostgreSQL database with media in a new bucket
//! ([`crate::servers`]). Its clock is the real one plus an offset the test moves; it stops
//! and comes back on the same port, from the same data. Readiness is the bound listener:
//! nothing sleeps to wait.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use jiff::{SignedDuration, Timestamp};
use palier_content::wire::EnrolResponse;
use palier_platform::administration::{Administration, Administrator, ENROLMENT_CODE_TTL, NewBuilding};
use palier_platform::media::BucketConfig;
use palier_platform::server::Clock;
use palier_platform::{AppState, DataDir, Role, Settings, Store};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Who administers in the tests: the command line's operator.
pub const OPERATOR: Administrator = Administrator::CommandLine;

/// Where a platform keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One machine: SQLite and a media directory, in the data directory.
    Sqlite,
    /// Past one machine: a new PostgreSQL database and a new S3 bucket.
    Scaled,
}

#[derive(serde::Serialize)]
struct MediaSection {
    media: BucketConfig,
}

/// Points a data directory (not initialised yet) at a new PostgreSQL database and a new
/// bucket through its `platform.toml`.
pub async fn scale_out(root: &std::path::Path) {
    std::fs::create_dir_all(root).unwrap();
    let bucket = crate::servers::s3_bucket().await;
    let media = BucketConfig {
        s3_bucket: bucket.name,
        s3_endpoint: Some(bucket.endpoint),
        access_key_id: Some(bucket.access_key_id),
        secret_access_key: Some(bucket.secret_access_key),
        ..BucketConfig::default()
    };
    let database = tokio::task::spawn_blocking(crate::servers::postgres_database).await.unwrap();
    let config =
        format!("database_url = {database:?}\n{}", toml::to_string(&MediaSection { media }).unwrap());
    std::fs::write(DataDir::new(root).config_path(), config).unwrap();
}

/// A running (or paused) platform and its data directory.
pub struct Platform {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// The state the server runs on (renewed by [`Platform::restart`]).
    pub state: AppState,
    /// A second connection to the same database, for reading as an operator would.
    pub store: Arc<dyn Store>,
    pub data: DataDir,
    /// `ed25519:…`, to pin on boards.
    pub public_key: String,
    /// Seconds added to the real clock, so tests can move the platform's time.
    pub offset_s: Arc<AtomicI64>,
    settings: Settings,
    clock: Clock,
    running: Option<(oneshot::Sender<()>, JoinHandle<std::io::Result<()>>)>,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("base", &self.base)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Platform {
    /// On SQLite, with the protocol's settings.
    pub async fn start() -> Platform {
        Platform::start_on(Backend::Sqlite, Settings::default()).await
    }

    pub async fn start_with(settings: Settings) -> Platform {
        Platform::start_on(Backend::Sqlite, settings).await
    }

    pub async fn start_on(backend: Backend, settings: Settings) -> Platform {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("data");
        if backend == Backend::Scaled {
            scale_out(&root).await;
        }
        let data = DataDir::new(root);
        let public_key = data.init().await.expect("init").public_key;
        let (store, media) = (data.open_store().await.unwrap().describe(), data.media().unwrap().describe());
        match backend {
            Backend::Scaled => {
                assert!(store.starts_with("postgres://") && media.starts_with("s3://"), "{store}, {media}")
            }
            Backend::Sqlite => {
                assert!(store.starts_with("sqlite:") && !media.starts_with("s3://"), "{store}, {media}")
            }
        }
        let offset_s = Arc::new(AtomicI64::new(0));
        let offset = Arc::clone(&offset_s);
        let clock: Clock =
            Arc::new(move || Timestamp::now() + SignedDuration::from_secs(offset.load(Ordering::SeqCst)));
        let state = Platform::state(&data, settings.clone(), &clock).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let mut platform = Platform {
            base: format!("http://{addr}"),
            addr,
            http: reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap(),
            state,
            store: data.open_store().await.unwrap(),
            data,
            public_key,
            offset_s,
            settings,
            clock,
            running: None,
            _dir: dir,
        };
        platform.serve(listener);
        platform
    }

    async fn state(data: &DataDir, settings: Settings, clock: &Clock) -> AppState {
        let store = data.open_store().await.unwrap();
        AppState::with_clock(
            store,
            data.load_signer().unwrap(),
            data.media().unwrap(),
            settings,
            Arc::clone(clock),
        )
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(palier_platform::serve(listener, self.state.clone(), async move {
            let _ = rx.await;
        }));
        self.running = Some((tx, task));
    }

    /// Stops serving and waits for it: open event streams must not hold it up.
    pub async fn pause(&mut self) {
        let (tx, task) = self.running.take().expect("the platform is running");
        let _ = tx.send(());
        tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }

    /// Stops serving for good.
    pub async fn stop(mut self) {
        self.pause().await;
    }

    /// Serves again on the same address, from the same data, with a new state.
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.expect("the same port is free again");
        self.state = Platform::state(&self.data, self.settings.clone(), &self.clock).await;
        self.serve(listener);
    }

    /// The administration service, as the command line calls it.
    pub fn admin(&self) -> &Administration {
        self.state.administration()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Moves the platform's clock.
    pub fn advance(&self, by: SignedDuration) {
        self.offset_s.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    /// A building whose residents' posts need no moderation (the tests about moderation
    /// use [`Platform::moderated_building`]).
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

    /// A publisher's API token.
    pub async fn publisher(&self, role: Role, buildings: &[&str]) -> String {
        let buildings: Vec<String> = buildings.iter().map(|b| b.to_string()).collect();
        self.admin().add_publisher(&OPERATOR, "test", role, &buildings).await.unwrap().1
    }

    /// A one-time enrolment code for a board of `building` with screens of `roles`.
    pub async fn code(&self, building: &str, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        self.admin().create_enrolment_code(&OPERATOR, building, &roles, ENROLMENT_CODE_TTL).await.unwrap().0
    }

    /// Enrols a board through the API.
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

    /// Publishes a new item and expects 201; returns the answer.
    pub async fn publish(&self, token: &str, item: &Value) -> Value {
        let response = self.post_json("/v1/publish/items", Some(token), item).await;
        success(response, StatusCode::CREATED).await
    }

    /// Publishes the next version of an item and expects 200; returns the answer.
    pub async fn update(&self, token: &str, item: &Value) -> Value {
        let path = format!("/v1/publish/items/{}", item["id"].as_str().expect("the item's id"));
        success(self.put_json(&path, token, item).await, StatusCode::OK).await
    }

    pub async fn withdraw(&self, token: &str, id: &str) {
        let response = self.delete(&format!("/v1/publish/items/{id}"), token).await;
        assert!(response.status().is_success(), "withdrawing {id}: {}", response.status());
    }

    /// The publisher's proof of play for an item.
    pub async fn plays(&self, token: &str, id: &str) -> Value {
        success(self.get(&format!("/v1/publish/items/{id}/plays"), token).await, StatusCode::OK).await
    }

    /// Uploads a picture; returns its sha256.
    pub async fn upload(&self, token: &str, bytes: Vec<u8>) -> String {
        let response = self.http.post(self.url("/v1/publish/media")).bearer_auth(token).body(bytes).send();
        let response = response.await.unwrap();
        let status = response.status();
        let media: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "upload: {status} {media}");
        media["sha256"].as_str().unwrap().to_owned()
    }

    /// The stored bytes of a picture (SQLite's media directory), to corrupt.
    pub fn media_file(&self, sha256: &str) -> PathBuf {
        self.data.media_dir().join(sha256)
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

/// The body of an answer that must have `status`.
async fn success(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
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
