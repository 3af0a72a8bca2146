//! The test kit's platform on 127.0.0.1 in this process (it can stop and come back on the
//! same port), a board in a temp directory pointed at it, and the kit's pictures and items.
//! Readiness is the bound listener and the daemon's status channel: nothing sleeps to wait.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use palier_content::{Cache, CacheReader, DataDir as BoardData, Snapshot};
use palier_sync::backoff::Backoff;
use palier_sync::board::DaemonConfig;
use palier_sync::daemon::DaemonStatus;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use palier_testkit::inproc::Platform;
pub use palier_testkit::items::{promo, urgent as flash};
pub use palier_testkit::pictures::{jpeg, opaque_png as png};

/// The longest any test waits for something that should take well under a second.
pub const DEADLINE: Duration = Duration::from_secs(15);

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
