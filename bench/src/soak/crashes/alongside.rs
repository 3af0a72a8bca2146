//! What runs beside the killed daemon, as the player would: a writer appending plays to the
//! journal, and a reader taking snapshots of the cache and opening the pictures it names.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use palier_content::wire::{PlayRecord, PlayTrigger};
use palier_content::{CacheReader, PlaysJournal, Snapshot};
use palier_testkit::processes::{Board, Platform};

/// Appends a play of the anchor item every 100 ms.
pub struct PlaysWriter {
    journal: PathBuf,
    anchor: String,
    appended: AtomicU64,
    stop: AtomicBool,
    failures: Mutex<Vec<String>>,
}

impl PlaysWriter {
    pub fn new(journal: PathBuf, anchor: String) -> PlaysWriter {
        PlaysWriter {
            journal,
            anchor,
            appended: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            failures: Mutex::default(),
        }
    }

    pub fn run(&self) {
        let journal = match PlaysJournal::open(&self.journal) {
            Ok(journal) => journal,
            Err(e) => {
                self.failures.lock().expect("failures").push(format!("the plays journal did not open: {e}"));
                return;
            }
        };
        while !self.stop.load(Ordering::Relaxed) {
            let n = self.appended.load(Ordering::Relaxed);
            let play = PlayRecord {
                id: format!("soak-play-{n}"),
                item_id: self.anchor.clone(),
                item_version: 1,
                screen: "lift".into(),
                role: "lift".into(),
                started_at: jiff::Timestamp::now(),
                duration_ms: 100,
                trigger: PlayTrigger::Rotation,
                clock_trusted: true,
            };
            match journal.append(&play) {
                Ok(()) => {
                    self.appended.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    self.failures.lock().expect("failures").push(format!("appending play {n} failed: {e}"))
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn appended(&self) -> u64 {
        self.appended.load(Ordering::Relaxed)
    }

    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().expect("failures").clone()
    }
}

/// Plays appended and plays the platform counts for the anchor once the journal emptied.
#[derive(Debug, Clone, Copy)]
pub struct Plays {
    pub appended: u64,
    pub on_platform: u64,
    /// Whether the journal emptied (every record acknowledged) in time.
    pub drained: bool,
}

impl Plays {
    /// The failure, if the counts differ or the journal did not empty.
    pub fn lost(&self) -> Option<String> {
        if !self.drained {
            return Some(format!("the plays journal still had records after {DRAIN:?} of a running daemon"));
        }
        (self.on_platform != self.appended).then(|| {
            format!(
                "{} plays appended to the journal, {} counted by the platform: records were lost or counted twice",
                self.appended, self.on_platform
            )
        })
    }
}

/// The longest the running daemon may take to upload what is pending.
const DRAIN: Duration = Duration::from_secs(120);

/// Waits (the daemon running) until the journal holds nothing pending, then asks the
/// platform how many plays of the anchor it counted.
pub fn uploaded_plays(platform: &Platform, board: &Board, anchor: &str, appended: u64) -> Plays {
    let deadline = Instant::now() + DRAIN;
    let mut drained = false;
    while Instant::now() < deadline {
        if board.pending_plays().is_empty() {
            drained = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let on_platform = platform.plays(&platform.landlord, anchor)["total"].as_u64().unwrap_or(0);
    Plays { appended, on_platform, drained }
}

/// Counts of the reader's work.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reads {
    pub snapshots: u64,
    pub pictures: u64,
    pub failed: u64,
    /// Pictures gone because a newer generation no longer names them (the player then
    /// moves to that generation): not failures.
    pub superseded: u64,
}

/// Takes a snapshot every 50 ms and opens every picture it names, as the player draws.
pub struct Reader {
    cache: PathBuf,
    stop: AtomicBool,
    reads: Mutex<Reads>,
    failures: Mutex<Vec<String>>,
}

impl Reader {
    pub fn new(cache: PathBuf) -> Reader {
        Reader { cache, stop: AtomicBool::new(false), reads: Mutex::default(), failures: Mutex::default() }
    }

    pub fn run(&self) {
        let mut reader: Option<CacheReader> = None;
        while !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            if !self.cache.exists() {
                continue;
            }
            if reader.is_none() {
                match CacheReader::open(&self.cache) {
                    Ok(opened) => reader = Some(opened),
                    Err(e) => {
                        self.failed(format!("the cache did not open for reading: {e}"));
                        continue;
                    }
                }
            }
            let Some(open) = reader.as_mut() else { continue };
            match open.snapshot() {
                Ok(snapshot) => {
                    self.reads.lock().expect("reads").snapshots += 1;
                    self.open_pictures(open, &snapshot);
                }
                Err(e) => {
                    // A cache killed while it was being created has no schema yet.
                    if !e.to_string().contains("no such table") {
                        self.failed(format!("a snapshot of the cache failed: {e}"));
                    }
                    reader = None;
                }
            }
        }
    }

    fn open_pictures(&self, reader: &mut CacheReader, snapshot: &Snapshot) {
        for item in &snapshot.items {
            for media in &item.media {
                let path = snapshot.display_path(media);
                let opened = image::ImageReader::open(&path).and_then(|r| r.with_guessed_format());
                let outcome = opened
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.into_dimensions().map_err(|e| e.to_string()));
                let mut reads = self.reads.lock().expect("reads");
                reads.pictures += 1;
                if let Err(e) = outcome {
                    drop(reads);
                    // Still named by the newest generation? Then the player could not draw it.
                    let still_named = reader
                        .snapshot()
                        .map(|now| now.items.iter().any(|i| i.media.iter().any(|m| m.sha256 == media.sha256)))
                        .unwrap_or(true);
                    if still_named && image::ImageReader::open(snapshot.display_path(media)).is_err() {
                        self.failed(format!("{}: picture {} did not open: {e}", item.id, path.display()));
                    } else {
                        self.reads.lock().expect("reads").superseded += 1;
                    }
                }
            }
        }
    }

    fn failed(&self, failure: String) {
        self.reads.lock().expect("reads").failed += 1;
        let mut failures = self.failures.lock().expect("failures");
        if failures.len() < 20 {
            failures.push(failure);
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn counts(&self) -> Reads {
        *self.reads.lock().expect("reads")
    }

    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().expect("failures").clone()
    }
}
