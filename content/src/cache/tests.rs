use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::ToSpan;

use super::*;
use crate::model::Severity;
use crate::sample;
use crate::validate::validate_manifest;

fn validated(generation: u64, items: &[Item]) -> ValidatedManifest {
    validate_manifest(sample::manifest(generation, items)).unwrap()
}

fn with_media(mut item: Item, seeds: &[u8]) -> Item {
    item.media = seeds.iter().map(|&s| sample::media(s)).collect();
    item
}

fn temp_cache() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sqlite");
    (dir, path)
}

#[test]
fn applying_the_same_manifest_twice_changes_nothing() {
    let (_dir, path) = temp_cache();
    let mut cache = Cache::open(&path).unwrap();
    let manifest = validated(
        5,
        &[sample::flash("f", Severity::Urgent), with_media(sample::promo("p", "Boulangerie"), &[1])],
    );
    let first = cache.apply(&manifest, sample::now()).unwrap();
    assert_eq!(first.generation, 1);
    assert_eq!(first.added, vec!["f", "p"]);
    assert!(first.changed());

    let reader = CacheReader::open(&path).unwrap();
    let version_before = reader.data_version().unwrap();
    let second = cache.apply(&manifest, sample::now() + 1.minute()).unwrap();
    assert_eq!(second, ApplyOutcome { generation: 1, ..ApplyOutcome::default() });
    assert_eq!(reader.data_version().unwrap(), version_before, "nothing was written");
}

#[test]
fn an_item_missing_from_the_next_manifest_is_gone_with_its_media() {
    let (_dir, path) = temp_cache();
    let mut cache = Cache::open(&path).unwrap();
    let shared = with_media(sample::news("n"), &[7]);
    let leaving = with_media(sample::offer("o", "Karim"), &[7, 8]);
    cache.apply(&validated(1, &[shared.clone(), leaving]), sample::now()).unwrap();
    assert_eq!(cache.referenced_media().unwrap().len(), 2);

    let outcome = cache.apply(&validated(2, &[shared]), sample::now()).unwrap();
    assert_eq!(outcome.removed, vec!["o"]);
    assert_eq!(outcome.generation, 2);
    assert_eq!(outcome.unreferenced_media, vec![sample::media(8).sha256], "media 7 is still used by n");
    let snapshot = cache.snapshot().unwrap();
    assert_eq!(snapshot.items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), vec!["n"]);
    assert_eq!(cache.referenced_media().unwrap(), HashSet::from([sample::media(7).sha256]));
}

#[test]
fn a_changed_item_is_updated_and_quarantine_and_building_are_kept() {
    let (_dir, path) = temp_cache();
    let mut cache = Cache::open(&path).unwrap();
    cache.apply(&validated(1, &[sample::news("n")]), sample::now()).unwrap();
    let mut edited = sample::news("n");
    edited.version = 2;
    edited.title = "Nouveau titre".into();
    let mut bad = sample::news("bad");
    bad.weight = 0;
    let outcome = cache.apply(&validated(2, &[edited.clone(), bad]), sample::now() + 1.hour()).unwrap();
    assert_eq!(outcome.updated, vec!["n"]);
    assert!(outcome.settings_changed, "the quarantine list changed");

    let mut reader = CacheReader::open(&path).unwrap();
    let snapshot = reader.snapshot().unwrap();
    assert_eq!(snapshot.item("n"), Some(&edited));
    assert_eq!(snapshot.cached_at["n"], sample::now(), "an update keeps the first arrival");
    assert_eq!(snapshot.quarantined.len(), 1);
    assert_eq!(snapshot.quarantined[0].id, "bad");
    assert_eq!(snapshot.building, Some(sample::building()));
    assert_eq!((snapshot.generation, snapshot.source_generation), (2, 2));
    assert_eq!(snapshot.media_dir, path.parent().unwrap().join("media"));
}

#[test]
fn generations_never_go_backwards() {
    let (_dir, path) = temp_cache();
    let mut cache = Cache::open(&path).unwrap();
    cache.apply(&validated(9, &[sample::news("n")]), sample::now()).unwrap();
    let err = cache.apply(&validated(8, &[]), sample::now()).unwrap_err();
    assert!(matches!(err, CacheError::StaleGeneration { offered: 8, cached: 9, .. }), "{err}");
    assert_eq!(cache.snapshot().unwrap().items.len(), 1, "the old content stays");
}

#[test]
fn the_change_probe_moves_only_on_commits_of_others() {
    let (_dir, path) = temp_cache();
    let mut cache = Cache::open(&path).unwrap();
    let reader = CacheReader::open(&path).unwrap();
    let v0 = reader.data_version().unwrap();
    assert_eq!(reader.data_version().unwrap(), v0);
    cache.apply(&validated(1, &[sample::news("n")]), sample::now()).unwrap();
    assert_ne!(reader.data_version().unwrap(), v0);
}

#[test]
fn a_reader_sees_one_generation_never_a_mix() {
    let (_dir, path) = temp_cache();
    let mut cache = Cache::open(&path).unwrap();
    // Every item of generation g carries g in its title, so a mixed snapshot is visible.
    let manifest_for = |g: u64| {
        let items: Vec<Item> = (0..40)
            .map(|i| {
                let mut item = sample::news(&format!("n{i:02}"));
                item.title = format!("gen {g}");
                item
            })
            .collect();
        validated(g, &items)
    };
    cache.apply(&manifest_for(1), sample::now()).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader_thread = {
        let path = path.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut reader = CacheReader::open(&path).unwrap();
            let mut seen = HashSet::new();
            while !done.load(Ordering::Relaxed) {
                let snapshot = reader.snapshot().unwrap();
                let expected = format!("gen {}", snapshot.generation);
                assert_eq!(snapshot.items.len(), 40);
                assert!(
                    snapshot.items.iter().all(|i| i.title == expected),
                    "mixed snapshot at {}",
                    snapshot.generation
                );
                seen.insert(snapshot.generation);
            }
            seen
        })
    };
    for g in 2..=60 {
        cache.apply(&manifest_for(g), sample::now()).unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let seen = reader_thread.join().unwrap();
    assert!(seen.len() > 1, "the reader ran while the writer committed (saw {seen:?})");
}

#[test]
fn an_empty_file_is_migrated_from_scratch() {
    let (_dir, path) = temp_cache();
    std::fs::write(&path, b"").unwrap();
    let mut cache = Cache::open(&path).unwrap();
    let snapshot = cache.snapshot().unwrap();
    assert_eq!(snapshot.generation, 0);
    assert!(snapshot.items.is_empty() && snapshot.building.is_none());
    drop(cache);
    Cache::open(&path).unwrap();
}

#[test]
fn bad_files_give_errors_that_name_the_file_and_the_fix() {
    let (_dir, path) = temp_cache();
    let missing = CacheReader::open(&path).unwrap_err().to_string();
    assert!(missing.contains("cache.sqlite") && missing.contains("palier-sync"), "{missing}");

    std::fs::write(&path, "this is a text file, not a database, and it is long enough".repeat(20)).unwrap();
    for err in [Cache::open(&path).unwrap_err(), CacheReader::open(&path).unwrap_err()] {
        assert!(matches!(err, CacheError::NotADatabase { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("cache.sqlite") && text.contains("move it aside"), "{text}");
    }

    std::fs::remove_file(&path).unwrap();
    drop(Cache::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    for err in [Cache::open(&path).unwrap_err(), CacheReader::open(&path).unwrap_err()] {
        assert!(matches!(err, CacheError::NewerSchema { found: 99, supported: 1, .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("cache.sqlite") && text.contains("update Palier"), "{text}");
    }
}

#[test]
fn sync_state_records_attempts_successes_and_errors() {
    let (_dir, path) = temp_cache();
    let cache = Cache::open(&path).unwrap();
    let t = sample::now();
    cache.record_attempt(t).unwrap();
    cache.record_error("platform unreachable", t).unwrap();
    let state = cache.sync_state().unwrap();
    assert_eq!(state.last_error.as_deref(), Some("platform unreachable"));
    assert_eq!(state.last_attempt_at, Some(t));
    cache.record_success(Some("\"g7\""), t + 1.minute()).unwrap();
    let state = cache.sync_state().unwrap();
    assert_eq!(state.etag.as_deref(), Some("\"g7\""));
    assert_eq!(state.last_success_at, Some(t + 1.minute()));
    assert_eq!(state.last_error, None);
}
