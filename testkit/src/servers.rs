//! The real servers the scaled-out platform runs on: a throw-away PostgreSQL cluster
//! (Debian's `pg_virtualenv -t`, or the server the `PG*` environment already names) and an
//! S3-compatible server (moto's, from the virtual environment `.ci/run` makes under
//! `target/s3-server`).
//!
//! Each wrapper holds a pipe from this process; when the process ends (or a
//! [`PostgresCluster`] is dropped), the pipe closes and the wrapper stops its server, so
//! nothing outlives the tests or the bench.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A PostgreSQL server for as long as this value lives.
#[derive(Debug)]
pub struct PostgresCluster {
    /// The `pg_virtualenv` wrapper, when the cluster is ours.
    wrapper: Option<Child>,
    /// `postgres://user:password@host:port`, without a database.
    pub server: String,
}

impl PostgresCluster {
    /// The server the `PG*` environment names, or a cluster of our own.
    pub fn start() -> Result<PostgresCluster, String> {
        if let Ok(host) = std::env::var("PGHOST") {
            let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
            let server = format!(
                "postgres://{}:{}@{host}:{}",
                var("PGUSER", "postgres"),
                var("PGPASSWORD", ""),
                var("PGPORT", "5432")
            );
            return Ok(PostgresCluster { wrapper: None, server });
        }
        // Alive while we hold the wrapper's stdin. The address goes through a file:
        // pg_virtualenv writes to its output until it has dropped the cluster, and must not
        // die of a closed pipe before that. -t: a cluster in a temporary directory, even as
        // root (no clash with a system one).
        let dir = std::env::temp_dir().join(format!(
            "palier-pg-{}-{}",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let address = dir.join("address");
        let script = format!(
            "printf '%s %s %s %s\\n' \"$PGHOST\" \"${{PGPORT:-5432}}\" \"$PGUSER\" \"$PGPASSWORD\" > '{0}.tmp' && mv '{0}.tmp' '{0}'; read _",
            address.display()
        );
        let wrapper = Command::new("pg_virtualenv")
            .args(["-t", "sh", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "pg_virtualenv: {e}; a PostgreSQL server is needed: install Debian's postgresql, or set \
                     PGHOST, PGPORT, PGUSER and PGPASSWORD"
                )
            })?;
        let mut cluster = PostgresCluster { wrapper: Some(wrapper), server: String::new() };
        let deadline = Instant::now() + Duration::from_secs(120);
        let line = loop {
            if let Ok(line) = std::fs::read_to_string(&address) {
                break line;
            }
            if Instant::now() > deadline {
                return Err("pg_virtualenv did not start a cluster within 120 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let _ = std::fs::remove_dir_all(&dir);
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 3 {
            return Err(format!("pg_virtualenv gave {line:?}"));
        }
        cluster.server =
            format!("postgres://{}:{}@{}:{}", words[2], words.get(3).unwrap_or(&""), words[0], words[1]);
        Ok(cluster)
    }

    /// A new, empty database `name`; its URL.
    pub fn database(&self, name: &str) -> Result<String, String> {
        let output = Command::new("psql")
            .arg(format!("{}/postgres", self.server))
            .args(["-qc", &format!("CREATE DATABASE {name}")])
            .output()
            .map_err(|e| format!("psql: {e} (apt-get install postgresql-client)"))?;
        if !output.status.success() {
            return Err(format!(
                "creating database {name}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(format!("{}/{name}", self.server))
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        if let Some(mut wrapper) = self.wrapper.take() {
            // Closing its input lets the wrapper stop and drop the cluster.
            drop(wrapper.stdin.take());
            let _ = wrapper.wait();
        }
    }
}

static CLUSTERS: AtomicUsize = AtomicUsize::new(0);

/// The cluster this process shares between its tests, started on first use.
fn shared_cluster() -> &'static PostgresCluster {
    static SHARED: OnceLock<PostgresCluster> = OnceLock::new();
    SHARED.get_or_init(|| PostgresCluster::start().unwrap_or_else(|e| panic!("{e}")))
}

/// A new, empty database on the shared test server; its `postgres://` URL.
pub fn postgres_database() -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("palier_{}_{}", std::process::id(), COUNT.fetch_add(1, Ordering::SeqCst));
    shared_cluster().database(&name).unwrap_or_else(|e| panic!("{e}"))
}

/// A bucket on the S3-compatible test server (moto accepts any credentials).
#[derive(Debug, Clone)]
pub struct Bucket {
    pub endpoint: String,
    pub name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Servers started by this process whose pipes stay open until it exits.
static CHILDREN: Mutex<Vec<Child>> = Mutex::new(Vec::new());

/// The moto S3 server's address, started once.
fn s3_server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/s3-server/bin/moto_server");
        assert!(
            root.exists(),
            "the S3 suite needs moto's server at {}: run .ci/run once, or `python3 -m venv target/s3-server && \
             target/s3-server/bin/pip install 'moto[server]'`",
            root.display()
        );
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // `read` keeps the wrapper waiting on our pipe; when it closes, the server is killed.
        let script =
            format!("\"{}\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & server=$!; read _; kill $server", root.display());
        let child = Command::new("sh").args(["-c", &script]).stdin(Stdio::piped()).spawn().unwrap();
        CHILDREN.lock().unwrap().push(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto's server did not listen on port {port} within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        format!("http://127.0.0.1:{port}")
    })
}

/// A new, empty bucket on the S3 server.
pub async fn s3_bucket() -> Bucket {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let endpoint = s3_server().to_owned();
    let name = format!("palier-{}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::SeqCst));
    let response = reqwest::Client::new().put(format!("{endpoint}/{name}")).send().await.unwrap();
    assert!(response.status().is_success(), "creating bucket {name}: {}", response.status());
    Bucket { endpoint, name, access_key_id: "palier".into(), secret_access_key: "palier-secret".into() }
}
