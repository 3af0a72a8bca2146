//! Wakes the player when its cache changes on disk, instead of asking SQLite twice a second:
//! a new generation (an urgent flash) is read as soon as the sync daemon commits it, and an
//! idle board's main thread sleeps until the next slide. The kernel's file notifications
//! (inotify, through `notify`) watch the cache's directory for writes to the database and its
//! write-ahead log; the engine still probes every [`WATCHED_PROBE`] in case a notification is
//! lost (a file system that sends none), and polls as configured when no watch could be set.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

/// How often a watched cache is probed anyway.
pub const WATCHED_PROBE: Duration = Duration::from_secs(5);

/// A running watch; dropping it stops it.
pub struct CacheWatch {
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for CacheWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheWatch").finish_non_exhaustive()
    }
}

impl CacheWatch {
    /// Calls `changed` (on the watch's own thread) whenever `cache` or its journal files are
    /// written, created, renamed or removed. `None`, logged, when the directory cannot be
    /// watched: the caller keeps polling.
    pub fn start(cache: &Path, changed: impl Fn() + Send + 'static) -> Option<CacheWatch> {
        let dir = cache.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = cache.file_name()?.to_string_lossy().into_owned();
        let handler = move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if concerns(&event.kind, &event.paths, &name) {
                changed();
            }
        };
        let started = notify::recommended_watcher(handler)
            .and_then(|mut watcher| watcher.watch(dir, RecursiveMode::NonRecursive).map(|()| watcher));
        match started {
            Ok(watcher) => {
                tracing::debug!(dir = %dir.display(), "watching the cache for changes");
                Some(CacheWatch { _watcher: watcher })
            }
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the cache's directory; polling it instead");
                None
            }
        }
    }
}

/// Whether an event is a change to the cache named `name` (`cache.sqlite`, `-wal`, `-journal`):
/// reads and the shared-memory index (written through a mapping) are not.
fn concerns(kind: &EventKind, paths: &[PathBuf], name: &str) -> bool {
    let changing = matches!(kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_));
    changing
        && paths.iter().any(|path| {
            path.file_name()
                .map(|f| f.to_string_lossy())
                .is_some_and(|file| file == name || (file.starts_with(name) && !file.ends_with("-shm")))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, DataChange, ModifyKind};

    #[test]
    fn only_writes_to_the_cache_and_its_journals_count() {
        let modify = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        let cases = [
            ("the database written", modify, "/data/cache.sqlite", true),
            ("its write-ahead log written", modify, "/data/cache.sqlite-wal", true),
            (
                "a rollback journal created",
                EventKind::Create(CreateKind::File),
                "/data/cache.sqlite-journal",
                true,
            ),
            ("the shared-memory index", modify, "/data/cache.sqlite-shm", false),
            ("the database read", EventKind::Access(AccessKind::Any), "/data/cache.sqlite", false),
            ("a downloaded picture", modify, "/data/media/abc", false),
            ("the plays journal beside it", modify, "/data/plays.sqlite-wal", false),
        ];
        for (what, kind, path, want) in cases {
            assert_eq!(concerns(&kind, &[PathBuf::from(path)], "cache.sqlite"), want, "{what}");
        }
    }

    #[test]
    fn a_write_wakes_the_watcher() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache.sqlite");
        std::fs::write(&cache, b"before").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let _watch = CacheWatch::start(&cache, move || {
            let _ = tx.send(());
        })
        .expect("a watch on a temporary directory");
        std::fs::write(dir.path().join("unrelated"), b"x").unwrap();
        std::fs::write(&cache, b"after").unwrap();
        rx.recv_timeout(Duration::from_secs(5)).expect("woken by the write");
    }
}
