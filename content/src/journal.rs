//! The plays journal: what each screen really showed, kept until the platform acknowledges it.
//!
//! It lives in its own SQLite file (`plays.sqlite`) rather than in the content cache: the
//! player writes it every few seconds, and writes to the cache would wake the player's own
//! change probe. Records are append-only; `palier-sync` uploads pending ones and deletes
//! them only once acknowledged, and record ids make a repeated upload count once. The same
//! file holds each screen's current status (what it shows now, since when), which the sync
//! daemon reports in its heartbeat.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use crate::cache::{CacheError, JOURNAL_MIGRATIONS, open_writable};
use crate::wire::{ClockStatus, PlayRecord, PlayTrigger, ScreenStatus};

/// The most records the journal keeps: about 43 days of four screens changing slide every
/// 10 seconds (some 230 MB on disk: a record takes about 160 bytes). Past it the oldest records are dropped and counted
/// ([`PlaysJournal::dropped`]), so that a board cut off for longer keeps room on its data
/// partition; the platform then lacks those oldest plays.
pub const MAX_RECORDS: u64 = 1_500_000;

/// Appends between two checks of the bound (a count of the table is not free).
const BOUND_CHECK_EVERY: i64 = 4096;

/// Read-write handle on `plays.sqlite`; the player and the sync daemon each hold one.
#[derive(Debug)]
pub struct PlaysJournal {
    conn: Connection,
    path: PathBuf,
}

impl PlaysJournal {
    /// Opens or creates the journal at `path`.
    pub fn open(path: &Path) -> Result<PlaysJournal, CacheError> {
        let conn = open_writable(path, JOURNAL_MIGRATIONS)?;
        Ok(PlaysJournal { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record; appending the same id again is a no-op.
    pub fn append(&self, play: &PlayRecord) -> Result<(), CacheError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO plays
                     (id, item_id, item_version, screen, role, started_at, duration_ms, trigger, clock_trusted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    play.id,
                    play.item_id,
                    play.item_version,
                    play.screen,
                    play.role,
                    play.started_at.to_string(),
                    play.duration_ms,
                    play.trigger.as_str(),
                    play.clock_trusted
                ],
            )
            .map_err(|e| CacheError::sqlite(&self.path, e))?;
        if self.conn.last_insert_rowid() % BOUND_CHECK_EVERY == 0 {
            self.keep_within(MAX_RECORDS)?;
        }
        Ok(())
    }

    /// Drops the oldest records beyond `bound` (and a hundredth more, so the next check is
    /// not at once), counting them; returns how many went.
    fn keep_within(&self, bound: u64) -> Result<u64, CacheError> {
        let err = |e| CacheError::sqlite(&self.path, e);
        let count = self.pending_count()?;
        if count <= bound {
            return Ok(0);
        }
        let excess = count - bound + bound / 100;
        let dropped = self
            .conn
            .execute(
                "DELETE FROM plays WHERE seq IN (SELECT seq FROM plays ORDER BY seq LIMIT ?1)",
                [excess as i64],
            )
            .map_err(err)? as u64;
        self.conn
            .execute(
                "INSERT INTO trimmed (at, dropped) VALUES (?1, ?2)",
                params![jiff::Timestamp::now().to_string(), dropped as i64],
            )
            .map_err(err)?;
        tracing::warn!(
            journal = %self.path.display(), dropped, bound,
            "plays journal full: the oldest plays were dropped (the platform has been unreachable for weeks)"
        );
        Ok(dropped)
    }

    /// How many of the oldest records were ever dropped to keep within [`MAX_RECORDS`].
    pub fn dropped(&self) -> Result<u64, CacheError> {
        self.conn
            .query_row("SELECT COALESCE(SUM(dropped), 0) FROM trimmed", [], |r| r.get(0))
            .map_err(|e| CacheError::sqlite(&self.path, e))
    }

    /// The oldest `limit` records not yet acknowledged, in the order they were appended.
    pub fn pending(&self, limit: usize) -> Result<Vec<PlayRecord>, CacheError> {
        let err = |e| CacheError::sqlite(&self.path, e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, item_id, item_version, screen, role, started_at, duration_ms, trigger, clock_trusted
                 FROM plays ORDER BY seq LIMIT ?1",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                let started_at: String = r.get(5)?;
                let trigger: String = r.get(7)?;
                Ok(PlayRecord {
                    id: r.get(0)?,
                    item_id: r.get(1)?,
                    item_version: r.get(2)?,
                    screen: r.get(3)?,
                    role: r.get(4)?,
                    started_at: started_at.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                    duration_ms: r.get(6)?,
                    trigger: PlayTrigger::parse(&trigger).unwrap_or(PlayTrigger::Rotation),
                    clock_trusted: r.get(8)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// How many records wait for an upload.
    pub fn pending_count(&self) -> Result<u64, CacheError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM plays", [], |r| r.get(0))
            .map_err(|e| CacheError::sqlite(&self.path, e))
    }

    /// Deletes acknowledged records in one transaction; returns how many were removed.
    pub fn acknowledge(&mut self, ids: &[String]) -> Result<usize, CacheError> {
        let err = |e| CacheError::sqlite(&self.path, e);
        let tx = self.conn.transaction().map_err(err)?;
        let mut removed = 0;
        {
            let mut stmt = tx.prepare("DELETE FROM plays WHERE id = ?1").map_err(err)?;
            for id in ids {
                removed += stmt.execute([id]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(removed)
    }

    /// Records what `status.screen` shows from now on.
    pub fn set_screen_status(&self, status: &ScreenStatus) -> Result<(), CacheError> {
        self.conn
            .execute(
                "INSERT INTO screen_status (screen, role, item_id, item_version, since, generation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(screen) DO UPDATE SET role = excluded.role, item_id = excluded.item_id,
                     item_version = excluded.item_version, since = excluded.since,
                     generation = excluded.generation",
                params![
                    status.screen,
                    status.role,
                    status.item_id,
                    status.item_version,
                    status.since.to_string(),
                    status.generation
                ],
            )
            .map(|_| ())
            .map_err(|e| CacheError::sqlite(&self.path, e))
    }

    /// Records the clock status measured against the platform's `Date` header.
    pub fn set_clock(&self, clock: ClockStatus, measured_at: jiff::Timestamp) -> Result<(), CacheError> {
        self.conn
            .execute(
                "INSERT INTO clock (id, trusted, skew_ms, measured_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET trusted = excluded.trusted, skew_ms = excluded.skew_ms,
                     measured_at = excluded.measured_at",
                params![clock.trusted, clock.skew_ms, measured_at.to_string()],
            )
            .map(|_| ())
            .map_err(|e| CacheError::sqlite(&self.path, e))
    }

    /// The last clock status, if `palier-sync` measured one.
    pub fn clock(&self) -> Result<Option<ClockStatus>, CacheError> {
        let mut stmt = self
            .conn
            .prepare("SELECT trusted, skew_ms FROM clock WHERE id = 1")
            .map_err(|e| CacheError::sqlite(&self.path, e))?;
        let mut rows = stmt
            .query_map([], |r| Ok(ClockStatus { trusted: r.get(0)?, skew_ms: r.get(1)? }))
            .map_err(|e| CacheError::sqlite(&self.path, e))?;
        rows.next().transpose().map_err(|e| CacheError::sqlite(&self.path, e))
    }

    /// What every screen shows now, by screen name.
    pub fn screen_statuses(&self) -> Result<Vec<ScreenStatus>, CacheError> {
        let err = |e| CacheError::sqlite(&self.path, e);
        let mut stmt = self
            .conn
            .prepare("SELECT screen, role, item_id, item_version, since, generation FROM screen_status ORDER BY screen")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                let since: String = r.get(4)?;
                Ok(ScreenStatus {
                    screen: r.get(0)?,
                    role: r.get(1)?,
                    item_id: r.get(2)?,
                    item_version: r.get(3)?,
                    since: since.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH),
                    generation: r.get(5)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use jiff::ToSpan;

    use super::*;
    use crate::sample;

    fn play(id: &str, offset_s: i64) -> PlayRecord {
        PlayRecord {
            id: id.to_owned(),
            item_id: "flash-1".to_owned(),
            item_version: 2,
            screen: "lift".to_owned(),
            role: "lift".to_owned(),
            started_at: sample::now() + offset_s.seconds(),
            duration_ms: 8000,
            trigger: PlayTrigger::Preempt,
            clock_trusted: true,
        }
    }

    #[test]
    fn plays_stay_pending_until_acknowledged_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plays.sqlite");
        let mut journal = PlaysJournal::open(&path).unwrap();
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            journal.append(&play(id, i as i64)).unwrap();
        }
        journal.append(&play("a", 0)).unwrap();
        assert_eq!(journal.pending_count().unwrap(), 3, "same id appended twice counts once");
        assert_eq!(journal.pending(10).unwrap(), vec![play("a", 0), play("b", 1), play("c", 2)]);
        assert_eq!(journal.acknowledge(&["a".into(), "zzz".into()]).unwrap(), 1);
        drop(journal);

        let journal = PlaysJournal::open(&path).unwrap();
        let ids: Vec<_> = journal.pending(1).unwrap().into_iter().map(|p| p.id).collect();
        assert_eq!(ids, vec!["b"], "oldest first, limited");
    }

    #[test]
    fn past_its_bound_the_journal_drops_its_oldest_records_and_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let journal = PlaysJournal::open(&dir.path().join("plays.sqlite")).unwrap();
        for n in 0..30 {
            journal.append(&play(&format!("p{n:02}"), n)).unwrap();
        }
        assert_eq!(journal.keep_within(40).unwrap(), 0);
        assert_eq!(journal.keep_within(10).unwrap(), 20);
        assert_eq!(journal.pending_count().unwrap(), 10);
        assert_eq!(journal.pending(1).unwrap()[0].id, "p20", "the newest stay");
        assert_eq!(journal.dropped().unwrap(), 20);
    }

    #[test]
    fn the_bound_is_checked_as_records_arrive() {
        let dir = tempfile::tempdir().unwrap();
        let journal = PlaysJournal::open(&dir.path().join("plays.sqlite")).unwrap();
        for n in 0..BOUND_CHECK_EVERY {
            journal.append(&play(&format!("p{n}"), n)).unwrap();
        }
        // Far below the bound: the check ran and dropped nothing.
        assert_eq!(
            (journal.pending_count().unwrap(), journal.dropped().unwrap()),
            (BOUND_CHECK_EVERY as u64, 0)
        );
    }

    #[test]
    fn screen_status_keeps_the_latest_per_screen() {
        let dir = tempfile::tempdir().unwrap();
        let journal = PlaysJournal::open(&dir.path().join("plays.sqlite")).unwrap();
        let mut status = ScreenStatus {
            screen: "lift".into(),
            role: "lift".into(),
            item_id: "a".into(),
            item_version: 1,
            since: sample::now(),
            generation: 3,
        };
        journal.set_screen_status(&status).unwrap();
        status.item_id = "b".into();
        journal.set_screen_status(&status).unwrap();
        assert_eq!(journal.screen_statuses().unwrap(), vec![status]);
    }

    #[test]
    fn the_clock_status_keeps_the_latest_measure() {
        let dir = tempfile::tempdir().unwrap();
        let journal = PlaysJournal::open(&dir.path().join("plays.sqlite")).unwrap();
        assert_eq!(journal.clock().unwrap(), None);
        journal.set_clock(ClockStatus { trusted: false, skew_ms: Some(-180_000) }, sample::now()).unwrap();
        journal.set_clock(ClockStatus { trusted: true, skew_ms: Some(40) }, sample::now()).unwrap();
        assert_eq!(journal.clock().unwrap(), Some(ClockStatus { trusted: true, skew_ms: Some(40) }));
    }
}
