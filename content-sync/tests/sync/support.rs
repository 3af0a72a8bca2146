//! A real platform on 127.0.0.1 in this process (it can stop and come back on the same
//! port), a board in a temp directory pointed at it, and real pictures made with `image`.
//! Readiness is the bound listener and the daemon's status channel: nothing sleeps to wait.

use std::future::Future;
use std::io::Cursor;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use jiff::Timestamp;
use palier_content::{Cache, CacheReader, DataDir as BoardData, Snapshot};
use palier_platform::administration::{Administration, Administrator, ENROLMENT_CODE_TTL, NewBuilding};
use std::sync::Arc;

use palier_content::Severity;
use palier_content::sample::requests;
use palier_platform::{AppState, DataDir, Role, Settings, Store};
use palier_sync::backoff::Backoff;
use palier_sync::board::DaemonConfig;
use palier_sync::daemon::DaemonStatus;
use serde_json::Value;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// The longest any test waits for something that should take well under a second.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// A running platform with its data directory.
pub struct Platform {
    pub addr: SocketAddr,
    pub data: DataDir,
    pub public_key: String,
    pub store: Arc<dyn Store>,
    http: reqwest::Client,
    running: Option<(oneshot::Sender<()>, JoinHandle<std::io::Result<()>>)>,
    _dir: tempfile::TempDir,
}

impl Platform {
    /// The administration service over this platform's store, as the command line calls it.
    pub fn admin(&self) -> Administration {
        Administration::new(
            Arc::clone(&self.store),
            Arc::new(self.data.media().unwrap()),
            Arc::new(Timestamp::now),
        )
    }

    pub async fn start() -> Platform {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("platform"));
        let public_key = data.init().await.unwrap().public_key;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut platform = Platform {
            addr,
            store: data.open_store().await.unwrap(),
            data,
            public_key,
            http: reqwest::Client::new(),
            running: None,
            _dir: dir,
        };
        platform.serve(listener).await;
        platform
    }

    async fn serve(&mut self, listener: tokio::net::TcpListener) {
        let state = AppState::open(&self.data, Settings::default()).await.unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(palier_platform::serve(listener, state, async move {
            let _ = rx.await;
        }));
        self.running = Some((tx, task));
    }

    /// Stops serving; open connections end.
    pub async fn stop(&mut self) {
        let (tx, task) = self.running.take().expect("platform is running");
        let _ = tx.send(());
        tokio::time::timeout(DEADLINE, task).await.expect("platform stops").unwrap().unwrap();
    }

    /// Serves again on the same address, from the same data.
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.expect("the same port is free again");
        self.serve(listener).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn building(&self) -> String {
        let new = NewBuilding {
            id: Some("bld-tilleuls".into()),
            name: "Résidence Les Tilleuls".into(),
            address: "12 rue des Tilleuls, 69003 Lyon".into(),
            time_zone: "Europe/Paris".into(),
            locale: "fr-FR".into(),
        };
        self.admin().add_building(&Administrator::CommandLine, new).await.unwrap().id
    }

    pub async fn publisher(&self, role: Role, building: &str) -> String {
        self.admin()
            .add_publisher(&Administrator::CommandLine, "test", role, &[building.to_owned()])
            .await
            .unwrap()
            .1
    }

    pub async fn code(&self, building: &str) -> String {
        let roles = vec!["lift".to_owned()];
        self.admin()
            .create_enrolment_code(&Administrator::CommandLine, building, &roles, ENROLMENT_CODE_TTL)
            .await
            .unwrap()
            .0
    }

    /// Uploads a picture; returns its sha256.
    pub async fn upload(&self, token: &str, bytes: Vec<u8>) -> String {
        let response = self
            .http
            .post(self.url("/v1/publish/media"))
            .bearer_auth(token)
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let media: Value = response.json().await.unwrap();
        media["sha256"].as_str().unwrap().to_owned()
    }

    /// Publishes a new item; returns the new generation.
    pub async fn publish(&self, token: &str, item: &Value) -> u64 {
        self.write(token, item, false).await
    }

    /// Publishes the next version of an item; returns the new generation.
    pub async fn update(&self, token: &str, item: &Value) -> u64 {
        self.write(token, item, true).await
    }

    async fn write(&self, token: &str, item: &Value, update: bool) -> u64 {
        let request = if update {
            self.http.put(self.url(&format!("/v1/publish/items/{}", item["id"].as_str().unwrap())))
        } else {
            self.http.post(self.url("/v1/publish/items"))
        };
        let response = request.bearer_auth(token).json(item).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{status}: {body}");
        body["generation"].as_u64().unwrap()
    }

    pub async fn withdraw(&self, token: &str, id: &str) {
        let response = self
            .http
            .delete(self.url(&format!("/v1/publish/items/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// The publisher's proof of play for an item.
    pub async fn plays(&self, token: &str, id: &str) -> Value {
        let url = self.url(&format!("/v1/publish/items/{id}/plays"));
        self.http.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
    }

    /// The stored bytes of a picture, to corrupt.
    pub fn media_file(&self, sha256: &str) -> PathBuf {
        self.data.media_dir().join(sha256)
    }
}

/// An urgent flash of the landlord.
pub fn flash(id: &str, title: &str) -> Value {
    requests::flash(id, Severity::Urgent, title)
}

pub use requests::promo;

/// A JPEG with some texture (so it weighs what a photo weighs), different for each seed.
pub fn jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let v = x.wrapping_mul(31).wrapping_add(y.wrapping_mul(17)).wrapping_add(seed.wrapping_mul(7919));
        Rgb([(v % 251) as u8, ((v / 3) % 241) as u8, ((x ^ y ^ seed) % 256) as u8])
    });
    encode(DynamicImage::ImageRgb8(picture), ImageFormat::Jpeg)
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 90]));
    encode(DynamicImage::ImageRgb8(picture), ImageFormat::Png)
}

fn encode(picture: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    picture.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

/// A board in a temp directory: its board file, configured for `platform`.
pub struct TestBoard {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

/// The screen side of test boards: pictures above 640 px get a rendition.
pub const SIDE: u32 = 640;

impl TestBoard {
    pub fn new(platform: &Platform, code: &str) -> TestBoard {
        TestBoard::with_key(platform, code, &platform.public_key)
    }

    pub fn with_key(platform: &Platform, code: &str, key: &str) -> TestBoard {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("palier.toml");
        let text = format!(
            "data_dir = {data:?}\n\n[[screen]]\nname = \"lift\"\nrole = \"lift\"\nwidth = {SIDE}\nheight = 360\n\n\
             [sync]\nplatform_url = \"http://{addr}\"\nplatform_key = \"{key}\"\nenrolment_code = \"{code}\"\n\
             request_timeout_s = 5\n",
            data = dir.path().join("data"),
            addr = platform.addr,
        );
        std::fs::write(&config_path, text).unwrap();
        TestBoard { dir, config_path }
    }

    /// Another board file on the same data directory with another pinned key.
    pub fn rekeyed(&self, key: &str) -> DaemonConfig {
        let mut config = self.config();
        config.settings.platform_key = Some(key.to_owned());
        config
    }

    pub fn config(&self) -> DaemonConfig {
        DaemonConfig::load(&self.config_path).unwrap().0
    }

    /// A configuration with fast retries and the given poll interval.
    pub fn fast_config(&self, poll: Duration) -> DaemonConfig {
        let mut config = self.config();
        config.timing.poll = poll;
        config.timing.retry = Backoff { base: Duration::from_millis(20), cap: Duration::from_millis(200) };
        config
    }

    pub fn data(&self) -> BoardData {
        BoardData::new(self.dir.path().join("data"))
    }

    pub fn snapshot(&self) -> Snapshot {
        CacheReader::open(&self.data().cache()).unwrap().snapshot().unwrap()
    }

    pub fn last_error(&self) -> Option<String> {
        Cache::open(&self.data().cache()).unwrap().sync_state().unwrap().last_error
    }

    /// File names in `media/`, sorted.
    pub fn media_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.data().media())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }
}

/// Waits until the daemon's status satisfies `ready`, or fails after [`DEADLINE`].
pub async fn wait_for(
    status: &mut watch::Receiver<DaemonStatus>,
    what: &str,
    ready: impl Fn(&DaemonStatus) -> bool,
) -> DaemonStatus {
    let outcome =
        tokio::time::timeout(DEADLINE, status.wait_for(|s| ready(s))).await.map(|r| r.map(|s| s.clone()));
    match outcome {
        Ok(Ok(reached)) => reached,
        Ok(Err(_)) => panic!("the daemon stopped while waiting for {what}"),
        Err(_) => panic!("no {what} within {DEADLINE:?}; daemon status: {:?}", *status.borrow()),
    }
}

/// Runs the daemon in this process until the returned sender fires.
pub fn spawn_daemon(
    config: DaemonConfig,
) -> (watch::Receiver<DaemonStatus>, oneshot::Sender<()>, JoinHandle<Result<(), palier_sync::BoardError>>) {
    let daemon = palier_sync::Daemon::new(config);
    let status = daemon.subscribe();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(daemon.run(async move {
        let _ = rx.await;
    }));
    (status, tx, task)
}

/// Checks that every picture the cache references is on disk, under its own hash.
pub fn assert_media_verified(snapshot: &Snapshot) {
    for item in &snapshot.items {
        for media in &item.media {
            let bytes = std::fs::read(snapshot.media_path(media))
                .unwrap_or_else(|e| panic!("{}: media {} missing: {e}", item.id, media.sha256));
            assert_eq!(palier_content::demo::sha256_hex(&bytes), media.sha256, "{}", item.id);
        }
    }
}

/// Anything that should finish quickly.
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future).await.unwrap_or_else(|_| panic!("{what} took over {DEADLINE:?}"))
}

/// The real `palier-sync` binary with `--config`.
pub fn palier_sync(config: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_palier-sync"));
    command.arg("--config").arg(config).args(args).env("RUST_LOG", "warn");
    command
}

/// Runs the binary to completion off the runtime's threads (the platform keeps serving).
pub async fn run_binary(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut command = palier_sync(config, args);
    within("palier-sync", async {
        tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
    })
    .await
}
