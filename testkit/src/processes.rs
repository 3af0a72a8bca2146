//! The real processes: a `palier-platform` and boards (`palier-sync` and a headless
//! `palier-player`) in temporary directories, talking over loopback; the end-to-end suite's
//! and the bench's harness.
//!
//! What a screen shows is read from the player itself: its plays journal and the screen
//! status it keeps in `plays.sqlite`. The binaries come from the workspace's target directory;
//! `cargo test --workspace` builds them before any test runs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use palier_content::wire::{PlayRecord, ScreenStatus};
use palier_content::{DataDir, PlaysJournal};
use serde_json::Value;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("testkit/ sits in the workspace").to_path_buf()
}

/// The bundled demo pack.
pub fn demo_dir() -> PathBuf {
    workspace_root().join("assets").join("demo")
}

/// A workspace binary, from the same profile directory as the running test (in
/// `target/<profile>/deps/`) or program (`target/<profile>/`, as `palier-soak`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the running program's path");
    let dir = exe.parent().expect("target/<profile>/…");
    let profile_dir = if dir.ends_with("deps") { dir.parent().expect("target/<profile>/deps") } else { dir };
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo test --workspace` (or `cargo build --workspace`) first",
        path.display()
    );
    path
}

/// Polls `condition` until it holds or `timeout` passes; returns how long it took. The state
/// read lives in SQLite files written by other processes, which cannot signal this one.
pub fn wait_until(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if condition() {
            return start.elapsed();
        }
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting until {what}");
        std::thread::sleep(Duration::from_millis(40));
    }
}

/// Runs an admin command of the platform and returns its standard output, trimmed.
fn admin(data: &Path, args: &[&str]) -> String {
    let output = Command::new(binary("palier-platform"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("palier-platform runs");
    assert!(output.status.success(), "palier-platform {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The last whitespace-separated word of the last non-empty line: what admin commands print.
pub fn printed_value(output: &str) -> String {
    output
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or("")
        .to_owned()
}

/// A reference platform with one building, a landlord and the neighbourhood app. It listens
/// on a port it chose itself the first time it serves, and on that same port after a stop.
#[derive(Debug)]
pub struct Platform {
    _dir: tempfile::TempDir,
    data: PathBuf,
    server: Option<Child>,
    /// `http://127.0.0.1:PORT` once it served; boards are written after the first `serve`.
    pub url: String,
    /// `ed25519:…`, to pin on boards.
    pub key: String,
    pub building: String,
    pub landlord: String,
    pub neighbourhood: String,
    http: reqwest::blocking::Client,
}

impl Platform {
    /// Initialises the data directory; the server is not started yet.
    pub fn init() -> Platform {
        Platform::init_with("")
    }

    /// Initialises a data directory whose `platform.toml` starts with `settings` (e.g.
    /// `database_url = "postgres://…"`).
    pub fn init_with(settings: &str) -> Platform {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("platform");
        std::fs::create_dir_all(&data).expect("the data directory");
        // The console draws its previews with the player built beside the platform.
        let config = format!("{settings}\nplayer = {:?}\n", binary("palier-player"));
        std::fs::write(data.join("platform.toml"), config).expect("platform.toml");
        let key = printed_value(&admin(&data, &["init"]));
        assert!(key.starts_with("ed25519:"), "init printed {key:?}");
        let building = printed_value(&admin(
            &data,
            &[
                "building",
                "add",
                "--name",
                "Résidence Les Tilleuls",
                "--address",
                "12 rue des Tilleuls, 69003 Lyon",
                "--time-zone",
                "Europe/Paris",
                "--locale",
                "fr-FR",
            ],
        ));
        // These scenarios are about delivery: residents' posts go straight to the screens.
        admin(&data, &["building", "moderation", "--building", &building, "--kinds", ""]);
        let landlord = printed_value(&admin(
            &data,
            &["publisher", "add", "--role", "landlord", "--building", &building],
        ));
        let neighbourhood = printed_value(&admin(
            &data,
            &["publisher", "add", "--role", "neighbourhood", "--building", &building],
        ));
        Platform {
            _dir: dir,
            data,
            server: None,
            url: String::new(),
            key,
            building,
            landlord,
            neighbourhood,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
        }
    }

    /// A second platform process on the same database (its `platform.toml` and signing
    /// key copied): a replica, not serving yet. Only for a shared database (PostgreSQL).
    pub fn replica(&self) -> Platform {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("platform");
        std::fs::create_dir_all(&data).expect("the data directory");
        for file in ["platform.toml", "signing.key"] {
            std::fs::copy(self.data.join(file), data.join(file)).expect("the replica's settings");
        }
        Platform {
            _dir: dir,
            data,
            server: None,
            url: String::new(),
            key: self.key.clone(),
            building: self.building.clone(),
            landlord: self.landlord.clone(),
            neighbourhood: self.neighbourhood.clone(),
            http: self.http.clone(),
        }
    }

    /// Adds a publisher with `role` (`landlord`, `shop`, `neighbourhood`) for the building;
    /// returns its token.
    pub fn add_publisher(&self, role: &str) -> String {
        printed_value(&admin(&self.data, &["publisher", "add", "--role", role, "--building", &self.building]))
    }

    /// Runs an admin command of this platform; returns what it printed.
    pub fn admin(&self, args: &[&str]) -> String {
        admin(&self.data, args)
    }

    /// Adds a person to the console (`user add`); returns the path of their link to set a
    /// password (`/password/…`).
    pub fn add_person(&self, email: &str, role: &str) -> String {
        let scope: Vec<&str> = if role == "admin" { vec![] } else { vec!["--building", &self.building] };
        self.add_person_scoped(email, role, &scope)
    }

    /// Adds a person with these scope arguments (`--building …`, `--area …`); returns the
    /// path of their link to set a password.
    pub fn add_person_scoped(&self, email: &str, role: &str, scope: &[&str]) -> String {
        let mut args = vec!["user", "add", "--email", email, "--role", role];
        args.extend_from_slice(scope);
        let link = self.admin(&args);
        let at = link.find("/password/").unwrap_or_else(|| panic!("user add printed {link:?}"));
        link[at..].to_owned()
    }

    /// A one-time enrolment code for a device with `roles` (comma-separated).
    pub fn device_code(&self, roles: &str) -> String {
        self.device_code_in(&self.building, roles)
    }

    /// A one-time enrolment code for a device of another building.
    pub fn device_code_in(&self, building: &str, roles: &str) -> String {
        printed_value(&admin(&self.data, &["device", "code", "--building", building, "--roles", roles]))
    }

    /// POSTs a JSON body as `token`'s publisher; returns the answer.
    pub fn post(&self, path: &str, token: &str, body: Value) -> Value {
        self.request(reqwest::Method::POST, path, token, Some(body))
    }

    /// Starts serving and waits until it listens: the first time on a port the platform
    /// picks (and reports), later on the same port, so boards find it again.
    pub fn serve(&mut self) {
        assert!(self.server.is_none(), "already serving");
        let listen = if self.url.is_empty() { "127.0.0.1:0".to_owned() } else { self.addr().to_owned() };
        let mut child = Command::new(binary("palier-platform"))
            .arg("--data")
            .arg(&self.data)
            .args(["serve", "--listen", &listen])
            .stdout(Stdio::piped())
            .stderr(self.log())
            .spawn()
            .expect("palier-platform serves");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the platform says where it listens");
        let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}"));
        self.url = url.to_owned();
        self.server = Some(child);
    }

    /// The server's log file, appended to by each `serve`.
    fn log(&self) -> Stdio {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.join("platform.log"))
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null())
    }

    /// The last lines of the server's log, for failure messages.
    pub fn logs(&self) -> String {
        let text = std::fs::read_to_string(self.data.join("platform.log")).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// The serving process's id, while it serves.
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    /// `127.0.0.1:PORT`, once it served.
    pub fn addr(&self) -> &str {
        self.url.strip_prefix("http://").unwrap_or(&self.url)
    }

    /// Stops the server at once (SIGKILL): the network is gone for the boards.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn request(&self, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.url)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let text = response.text().unwrap_or_default();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Publishes an item as `token`'s publisher; returns the stored item.
    pub fn publish(&self, token: &str, item: Value) -> Value {
        self.request(reqwest::Method::POST, "/v1/publish/items", token, Some(item))
    }

    /// Publishes the next version of an item (`PUT`); returns the stored item.
    pub fn update(&self, token: &str, item: Value) -> Value {
        let id = item["id"].as_str().expect("the item's id").to_owned();
        self.request(reqwest::Method::PUT, &format!("/v1/publish/items/{id}"), token, Some(item))
    }

    /// `GET /v1/publish/items/{id}`: the item and its moderation state.
    pub fn read_item(&self, token: &str, id: &str) -> Value {
        self.request(reqwest::Method::GET, &format!("/v1/publish/items/{id}"), token, None)
    }

    pub fn withdraw(&self, token: &str, id: &str) {
        self.request(reqwest::Method::DELETE, &format!("/v1/publish/items/{id}"), token, None);
    }

    /// Withdraws everything of a neighbour who left.
    pub fn forget_person(&self, person_id: &str) {
        self.request(
            reqwest::Method::DELETE,
            &format!("/v1/publish/people/{person_id}"),
            &self.neighbourhood,
            None,
        );
    }

    /// Uploads a picture as the neighbourhood app; returns its sha256.
    pub fn upload_media(&self, bytes: Vec<u8>) -> String {
        let response = self
            .http
            .post(format!("{}/v1/publish/media", self.url))
            .bearer_auth(&self.neighbourhood)
            .body(bytes)
            .send()
            .expect("media upload");
        assert!(response.status().is_success(), "media upload: {}", response.status());
        let value: Value = response.json().expect("media JSON");
        value["sha256"].as_str().expect("sha256").to_owned()
    }

    /// Where and when `id` was shown, from the plays boards uploaded.
    pub fn plays(&self, token: &str, id: &str) -> Value {
        self.request(reqwest::Method::GET, &format!("/v1/publish/items/{id}/plays"), token, None)
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A board: its data directory, configuration, and its two services when running.
#[derive(Debug)]
pub struct Board {
    _dir: tempfile::TempDir,
    pub data: DataDir,
    pub config: PathBuf,
    pub screens: Vec<String>,
    sync: Option<Child>,
    player: Option<Child>,
}

/// A screen of a test board: name (also its role), width, height.
pub type ScreenSpec<'a> = (&'a str, u32, u32);

impl Board {
    /// Writes the board's `palier.toml` for `platform` (which has served once, so its address
    /// is known), enrolling with `code`.
    pub fn new(platform: &Platform, code: &str, screens: &[ScreenSpec<'_>], poll_interval_s: u64) -> Board {
        assert!(!platform.url.is_empty(), "serve the platform once before writing boards for it");
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::new(dir.path().join("data"));
        std::fs::create_dir_all(data.path()).expect("data dir");
        let mut toml = format!(
            "data_dir = {:?}\nbuilding_name = \"Résidence Les Tilleuls\"\n\n[player]\ncrossfade_ms = 0\ncache_poll_ms = 250\n\n\
             [sync]\nplatform_url = {:?}\nplatform_key = {:?}\nenrolment_code = {:?}\npoll_interval_s = {poll_interval_s}\n\
             heartbeat_interval_s = 30\n",
            data.path(),
            platform.url,
            platform.key,
            code
        );
        for (name, width, height) in screens {
            toml.push_str(&format!(
                "\n[[screen]]\nname = {name:?}\nrole = {name:?}\nwidth = {width}\nheight = {height}\n"
            ));
        }
        let config = dir.path().join("palier.toml");
        std::fs::write(&config, toml).expect("palier.toml");
        Board {
            _dir: dir,
            data,
            config,
            screens: screens.iter().map(|s| s.0.to_owned()).collect(),
            sync: None,
            player: None,
        }
    }

    pub fn start_sync(&mut self) {
        let child = Command::new(binary("palier-sync"))
            .arg("--config")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(log_file(&self.data, "sync.log"))
            .spawn()
            .expect("palier-sync runs");
        self.sync = Some(child);
    }

    pub fn start_player(&mut self) {
        let child = Command::new(binary("palier-player"))
            .arg("--config")
            .arg(&self.config)
            .arg("--headless")
            .stdout(Stdio::null())
            .stderr(log_file(&self.data, "player.log"))
            .spawn()
            .expect("palier-player runs");
        self.player = Some(child);
    }

    /// Stops the player with SIGTERM (it records its last plays) and waits for it.
    pub fn stop_player(&mut self) {
        if let Some(mut child) = self.player.take() {
            terminate(&mut child, Duration::from_secs(10));
        }
    }

    /// Kills both services with SIGKILL, as a power cut would.
    pub fn kill_all(&mut self) {
        for child in [self.sync.take(), self.player.take()].into_iter().flatten() {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What each screen shows now, by screen name.
    pub fn statuses(&self) -> Vec<ScreenStatus> {
        PlaysJournal::open(&self.data.journal()).and_then(|j| j.screen_statuses()).unwrap_or_default()
    }

    /// True when every screen of the board shows `item_id` (`""` for the fallback slide).
    pub fn all_show(&self, item_id: &str) -> bool {
        let statuses = self.statuses();
        statuses.len() == self.screens.len() && statuses.iter().all(|s| s.item_id == item_id)
    }

    /// True when no screen shows `item_id`.
    pub fn none_shows(&self, item_id: &str) -> bool {
        let statuses = self.statuses();
        statuses.len() == self.screens.len() && statuses.iter().all(|s| s.item_id != item_id)
    }

    /// Plays recorded and not yet acknowledged by the platform.
    pub fn pending_plays(&self) -> Vec<PlayRecord> {
        PlaysJournal::open(&self.data.journal()).and_then(|j| j.pending(100_000)).unwrap_or_default()
    }

    /// Media files on the board (originals and renditions).
    pub fn media_files(&self) -> Vec<String> {
        std::fs::read_dir(self.data.media())
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    }

    /// The services' logs, for failure messages.
    pub fn logs(&self) -> String {
        ["sync.log", "player.log"]
            .iter()
            .map(|name| {
                let text = std::fs::read_to_string(self.data.path().join(name)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                format!("--- {name}\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn log_file(data: &DataDir, name: &str) -> Stdio {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.path().join(name))
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null())
}

/// SIGTERM, then wait for the process to exit (SIGKILL once `grace` has passed).
pub fn terminate(child: &mut Child, grace: Duration) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    // A thread waits for the exit itself; the process stays unreaped (its pid cannot be
    // reused) until that wait returns, so the SIGKILL below can only reach it.
    std::thread::scope(|scope| {
        let (done, exited) = std::sync::mpsc::channel();
        scope.spawn(move || {
            let _ = child.wait();
            let _ = done.send(());
        });
        if exited.recv_timeout(grace).is_err() {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
    });
}

/// The lift board (one portrait screen) and the lobby unit (three landscape screens), small
/// so that software rendering stays quick.
pub const LIFT: &[ScreenSpec<'static>] = &[("lift", 270, 480)];
pub const LOBBY: &[ScreenSpec<'static>] =
    &[("lobby-left", 480, 270), ("lobby-centre", 480, 270), ("lobby-right", 480, 270)];
