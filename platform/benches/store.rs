//! What the store layer costs on the poll path, on SQLite: each read a board's poll makes
//! (`building_generation`, then `building_items` when it moved on), through `SqlStore`
//! (a transaction on a blocking-pool thread that answers the statements the async code
//! sends it), beside the same SQL run the way the engine ran it before the store was written
//! once (one `spawn_blocking` per read, its own transaction, rows read in the closure), in
//! the same process on the same file. Prints medians and p99 in microseconds and their
//! ratio; asserts nothing.
//!
//! Run: `cargo bench -p palier-platform --bench store [-- ROUNDS]` (default 3000 rounds).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use palier_content::{Severity, sample};
use palier_platform::Role;
use palier_platform::ids::{BuildingId, PublisherId};
use palier_platform::moderation::Moderation;
use palier_platform::store::{
    BuildingLoad, Change, ItemWrite, Publisher, PublisherKind, SqlStore, Store, Via,
};

const ITEMS: usize = 40;

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3000);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform.sqlite");
    let store = runtime.block_on(seed(&path));
    let building = BuildingId::parse("bld-bench").unwrap();

    let mut rows: Vec<(&str, Vec<f64>, Vec<f64>)> = Vec::new();
    let generation = runtime.block_on(async {
        let through_store = time(rounds, || async {
            store.building_generation(&building).await.unwrap();
        })
        .await;
        let direct = time(rounds, || async {
            blocking_read(&path, &["SELECT generation, change_reason FROM buildings WHERE id = ?1"], false)
                .await;
        })
        .await;
        (through_store, direct)
    });
    rows.push(("building_generation (a poll answered 304)", generation.0, generation.1));
    let items = runtime.block_on(async {
        let through_store = time(rounds, || async {
            store.building_items(&building).await.unwrap();
        })
        .await;
        let direct = time(rounds, || async {
            blocking_read(
                &path,
                &[
                    "SELECT id, name, address, time_zone, locale, generation FROM buildings WHERE id = ?1",
                    "SELECT i.json FROM item_buildings ib JOIN items i ON i.id = ib.item_id
                     WHERE ib.building_id = ?1 AND i.withdrawn_ms IS NULL AND i.moderation = 'approved'
                     ORDER BY i.id",
                ],
                true,
            )
            .await;
        })
        .await;
        (through_store, direct)
    });
    rows.push(("building_items, 40 items (a poll that moved on)", items.0, items.1));

    println!("store reads on SQLite, {rounds} rounds each, 2 runtime workers (µs)");
    println!("{:<50} {:>14} {:>14} {:>14} {:>8}", "read", "store p50/p99", "direct p50/p99", "", "ratio");
    for (name, mut store_us, mut direct_us) in rows {
        let (s50, s99) = (percentile(&mut store_us, 0.5), percentile(&mut store_us, 0.99));
        let (d50, d99) = (percentile(&mut direct_us, 0.5), percentile(&mut direct_us, 0.99));
        println!(
            "{name:<50} {:>14} {:>14} {:>14} {:>7.2}×",
            format!("{s50:.0} / {s99:.0}"),
            format!("{d50:.0} / {d99:.0}"),
            "",
            s50 / d50
        );
    }
}

async fn seed(path: &Path) -> Arc<SqlStore> {
    let store = Arc::new(SqlStore::sqlite(path).unwrap());
    let now = Timestamp::now();
    let building = palier_content::Building { id: "bld-bench".into(), ..sample::building() };
    store.add_building(&building, now).await.unwrap();
    let id = PublisherId::parse("pub-bench").unwrap();
    let b = BuildingId::parse("bld-bench").unwrap();
    let publisher = Publisher::with_buildings(
        id.clone(),
        "Bench".into(),
        Role::Landlord,
        PublisherKind::Token,
        vec![b.clone()],
    );
    store.add_publisher(&publisher, "hash-bench", &Change::cli(now)).await.unwrap();
    for n in 0..ITEMS {
        let mut item = sample::flash(&format!("flash-{n:02}"), Severity::Info);
        item.valid_until = now + jiff::SignedDuration::from_hours(24 * 7);
        let write = ItemWrite {
            item,
            publisher_id: id.clone(),
            person_id: None,
            buildings: vec![b.clone()],
            areas: Vec::new(),
            replaces: None,
            moderation: Moderation::Approved,
            change: Change { actor: Some(id.clone()), actor_name: "Bench".into(), via: Via::Api, at: now },
        };
        store.write_item(&write, Arc::new(|_: &BuildingLoad| Ok(()))).await.unwrap();
    }
    store
}

/// One read as the engine made it before: a blocking-pool task, a read-only connection of
/// its own (kept, as the pool kept it), one transaction, every row of each statement read
/// (the items' JSON parsed, as the store does when `parse`).
async fn blocking_read(path: &Path, statements: &'static [&'static str], parse: bool) {
    thread_local! {
        static CONNECTION: std::cell::RefCell<Option<rusqlite::Connection>> = const { std::cell::RefCell::new(None) };
    }
    let path: PathBuf = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        CONNECTION.with(|cell| {
            let mut slot = cell.borrow_mut();
            let conn = slot.get_or_insert_with(|| {
                rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .unwrap()
            });
            let tx = conn.transaction().unwrap();
            for sql in statements {
                let mut statement = tx.prepare_cached(sql).unwrap();
                let width = statement.column_count();
                let mut rows = statement.query(["bld-bench"]).unwrap();
                while let Some(row) = rows.next().unwrap() {
                    let values: Vec<rusqlite::types::Value> =
                        (0..width).map(|i| row.get(i).unwrap()).collect();
                    if let (true, 1, rusqlite::types::Value::Text(json)) = (parse, width, &values[0]) {
                        let _: serde_json::Value = serde_json::from_str(json).unwrap();
                    }
                }
            }
            tx.finish().unwrap();
        })
    })
    .await
    .unwrap();
}

/// Each call's time in microseconds, after a tenth as warm-up.
async fn time<F, Fut>(rounds: usize, mut call: F) -> Vec<f64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..rounds / 10 {
        call().await;
    }
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        call().await;
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * q).round() as usize]
}
