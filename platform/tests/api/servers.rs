//! The real servers the scaled-out variant of the suite runs on, started once per test
//! process and gone with it: a throw-away PostgreSQL cluster (Debian's `pg_virtualenv`, or
//! the server the `PG*` environment already names) and an S3-compatible server (moto's,
//! from the virtual environment `.ci/run` makes under `target/s3-server`).
//!
//! Both helpers hold a pipe to their server's wrapper; when this process ends, the pipe
//! closes and the wrapper stops its server, so nothing outlives the tests.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use palier_platform::media::BucketConfig;

/// Servers started by this process, kept so their pipes stay open until it exits.
static CHILDREN: Mutex<Vec<Child>> = Mutex::new(Vec::new());

/// How to reach the PostgreSQL server: `host=… port=… user=… password=…`.
fn postgres_server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(host) = std::env::var("PGHOST") {
            let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
            return format!(
                "host={host} port={} user={} password={}",
                var("PGPORT", "5432"),
                var("PGUSER", "postgres"),
                var("PGPASSWORD", "")
            );
        }
        // A cluster of our own, alive while this process holds the wrapper's stdin. The
        // address goes through a file: pg_virtualenv writes to its output until it has
        // dropped the cluster, and must not die of a closed pipe before that.
        let dir = std::env::temp_dir().join(format!("palier-pg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let address = dir.join("address");
        let script = format!(
            "printf '%s %s %s %s\\n' \"$PGHOST\" \"${{PGPORT:-5432}}\" \"$PGUSER\" \"$PGPASSWORD\" > '{0}.tmp' && mv '{0}.tmp' '{0}'; read _",
            address.display()
        );
        // -t: a cluster in a temporary directory, even as root (no clash with a system one).
        let child = Command::new("pg_virtualenv")
            .args(["-t", "sh", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "the PostgreSQL suite needs a server: install Debian's postgresql (pg_virtualenv), or set PGHOST, \
                 PGPORT, PGUSER and PGPASSWORD",
            );
        let deadline = Instant::now() + Duration::from_secs(120);
        let line = loop {
            if let Ok(line) = std::fs::read_to_string(&address) {
                break line;
            }
            assert!(Instant::now() < deadline, "pg_virtualenv did not start a cluster within 120 s");
            std::thread::sleep(Duration::from_millis(100));
        };
        let _ = std::fs::remove_dir_all(&dir);
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(words.len() >= 3, "pg_virtualenv gave {line:?}");
        CHILDREN.lock().unwrap().push(child);
        format!(
            "host={} port={} user={} password={}",
            words[0],
            words[1],
            words[2],
            words.get(3).unwrap_or(&"")
        )
    })
}

/// A new, empty database on the test server; its `postgres://` URL.
pub async fn postgres_database() -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let server = postgres_server();
    let name = format!("palier_{}_{}", std::process::id(), COUNT.fetch_add(1, Ordering::SeqCst));
    let (client, connection) =
        tokio_postgres::connect(&format!("{server} dbname=postgres"), tokio_postgres::NoTls).await.unwrap();
    let driver = tokio::spawn(connection);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    drop(client);
    let _ = driver.await;
    let field = |key: &str| {
        server.split_whitespace().find_map(|w| w.strip_prefix(&format!("{key}="))).unwrap_or("").to_owned()
    };
    format!("postgres://{}:{}@{}:{}/{name}", field("user"), field("password"), field("host"), field("port"))
}

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
        let script = format!("\"{}\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & server=$!; read _; kill $server", root.display());
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

/// A new, empty bucket on the S3 server (moto accepts any credentials).
pub async fn s3_bucket() -> BucketConfig {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let endpoint = s3_server().to_owned();
    let bucket = format!("palier-{}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::SeqCst));
    let response = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(response.status().is_success(), "creating bucket {bucket}: {}", response.status());
    BucketConfig {
        s3_bucket: bucket,
        s3_endpoint: Some(endpoint),
        access_key_id: Some("palier".into()),
        secret_access_key: Some("palier-secret".into()),
        ..BucketConfig::default()
    }
}
