//! People's console accounts, their password links and sessions, building settings, lifts
//! and the audit log, in SQLite.

use jiff::Timestamp;
use palier_content::Kind;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Fail, Outcome, instant, millis, require_building};
use crate::ids::{BuildingId, ItemId, LiftId, PublisherId};
use crate::store::{AuditEntry, Lift, LiftStatus, Person, PublisherKind, StoreError, Via};

const PERSON_COLUMNS: &str =
    "p.id, p.name, p.role, pe.email, pe.password_hash, pe.created_ms, pe.disabled_ms";

type PersonRow = (String, String, String, String, Option<String>, i64, Option<i64>);

fn person_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PersonRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
}

fn person(tx: &Transaction<'_>, row: PersonRow) -> Outcome<Person> {
    let (id, name, role_name, email, password_hash, created, disabled) = row;
    Ok(Person {
        publisher: super::publisher(tx, id, name, &role_name, PublisherKind::Person)?,
        email,
        password_hash,
        created_at: instant(created)?,
        disabled_at: disabled.map(instant).transpose()?,
    })
}

fn find(tx: &Transaction<'_>, condition: &str, key: &str) -> Outcome<Option<Person>> {
    let sql = format!(
        "SELECT {PERSON_COLUMNS} FROM people pe JOIN publishers p ON p.id = pe.publisher_id WHERE {condition}"
    );
    let row = tx.query_row(&sql, [key], person_row).optional()?;
    row.map(|row| person(tx, row)).transpose()
}

pub(super) fn add(tx: &Transaction<'_>, new: &Person) -> Outcome<()> {
    let exists =
        tx.query_row("SELECT 1 FROM people WHERE email = ?1", [&new.email], |_| Ok(())).optional()?;
    if exists.is_some() {
        return Err(StoreError::exists("person with e-mail", &new.email).into());
    }
    let publisher = &new.publisher;
    // A person's publisher row has no usable token: the hash of nothing anyone holds.
    let unusable = format!("person:{}", publisher.id);
    tx.execute(
        "INSERT INTO publishers (id, name, role, token_hash, created_ms, kind) VALUES (?1, ?2, ?3, ?4, ?5, 'person')",
        params![publisher.id.as_str(), publisher.name, publisher.role.as_str(), unusable, millis(new.created_at)],
    )?;
    super::add_publisher_scope(tx, publisher)?;
    tx.execute(
        "INSERT INTO people (publisher_id, email, password_hash, created_ms) VALUES (?1, ?2, ?3, ?4)",
        params![publisher.id.as_str(), new.email, new.password_hash, millis(new.created_at)],
    )?;
    Ok(())
}

pub(super) fn by_id(tx: &Transaction<'_>, id: &PublisherId) -> Outcome<Option<Person>> {
    find(tx, "pe.publisher_id = ?1", id.as_str())
}

pub(super) fn by_email(tx: &Transaction<'_>, email: &str) -> Outcome<Option<Person>> {
    find(tx, "pe.email = ?1", email)
}

pub(super) fn all(tx: &Transaction<'_>) -> Outcome<Vec<Person>> {
    let sql = format!(
        "SELECT {PERSON_COLUMNS} FROM people pe JOIN publishers p ON p.id = pe.publisher_id ORDER BY pe.email"
    );
    let rows: Vec<PersonRow> = {
        let mut stmt = tx.prepare(&sql)?;
        stmt.query_map([], person_row)?.collect::<Result<_, _>>()?
    };
    rows.into_iter().map(|row| person(tx, row)).collect()
}

pub(super) fn disable(tx: &Transaction<'_>, id: &PublisherId, now: Timestamp) -> Outcome<bool> {
    let state = tx
        .query_row("SELECT disabled_ms FROM people WHERE publisher_id = ?1", [id.as_str()], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .optional()?;
    match state {
        None => Err(StoreError::not_found("person", id).into()),
        Some(Some(_)) => Ok(false),
        Some(None) => {
            tx.execute(
                "UPDATE people SET disabled_ms = ?2 WHERE publisher_id = ?1",
                params![id.as_str(), millis(now)],
            )?;
            tx.execute(
                "UPDATE publishers SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
                params![id.as_str(), millis(now)],
            )?;
            Ok(true)
        }
    }
}

pub(super) fn add_link(
    tx: &Transaction<'_>,
    token_hash: &str,
    person: &PublisherId,
    expires: Timestamp,
) -> Outcome<()> {
    tx.execute(
        "INSERT INTO password_links (token_hash, publisher_id, expires_ms) VALUES (?1, ?2, ?3)",
        params![token_hash, person.as_str(), millis(expires)],
    )?;
    Ok(())
}

pub(super) fn link(tx: &Transaction<'_>, token_hash: &str, now: Timestamp) -> Outcome<Option<PublisherId>> {
    let found = tx
        .query_row(
            "SELECT l.publisher_id FROM password_links l JOIN people pe ON pe.publisher_id = l.publisher_id
             WHERE l.token_hash = ?1 AND l.used_ms IS NULL AND l.expires_ms > ?2 AND pe.disabled_ms IS NULL",
            params![token_hash, millis(now)],
            |row| row.get::<_, String>(0),
        )
        .optional()?;
    Ok(found.map(PublisherId::stored))
}

pub(super) fn use_link(
    tx: &Transaction<'_>,
    token_hash: &str,
    password_hash: &str,
    now: Timestamp,
) -> Outcome<Option<PublisherId>> {
    let Some(person) = link(tx, token_hash, now)? else { return Ok(None) };
    tx.execute(
        "UPDATE password_links SET used_ms = ?2 WHERE token_hash = ?1",
        params![token_hash, millis(now)],
    )?;
    tx.execute(
        "UPDATE people SET password_hash = ?2 WHERE publisher_id = ?1",
        params![person.as_str(), password_hash],
    )?;
    Ok(Some(person))
}

pub(super) fn session(tx: &Transaction<'_>, id: &str, now: Timestamp) -> Outcome<Option<String>> {
    Ok(tx
        .query_row(
            "SELECT record FROM sessions WHERE id = ?1 AND expires_ms > ?2",
            params![id, millis(now)],
            |row| row.get(0),
        )
        .optional()?)
}

pub(super) fn save_session(tx: &Transaction<'_>, id: &str, record: &str, expires: Timestamp) -> Outcome<()> {
    tx.execute(
        "INSERT INTO sessions (id, record, expires_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_ms = excluded.expires_ms",
        params![id, record, millis(expires)],
    )?;
    Ok(())
}

pub(super) fn forget_expired(tx: &Transaction<'_>, now: Timestamp) -> Outcome<u64> {
    let sessions = tx.execute("DELETE FROM sessions WHERE expires_ms <= ?1", [millis(now)])?;
    let links = tx.execute("DELETE FROM password_links WHERE expires_ms <= ?1", [millis(now)])?;
    Ok((sessions + links) as u64)
}

pub(super) fn moderated_kinds(tx: &Transaction<'_>, building: &BuildingId) -> Outcome<Vec<Kind>> {
    let json: String = tx
        .query_row("SELECT moderated_kinds FROM buildings WHERE id = ?1", [building.as_str()], |row| {
            row.get(0)
        })
        .optional()?
        .ok_or_else(|| StoreError::not_found("building", building))?;
    let names: Vec<String> =
        serde_json::from_str(&json).map_err(|e| Fail::Corrupt(format!("moderated kinds {json:?}: {e}")))?;
    names
        .iter()
        .map(|n| Kind::parse(n).ok_or_else(|| Fail::Corrupt(format!("moderated kind {n:?}"))))
        .collect()
}

pub(super) fn set_moderated_kinds(
    tx: &Transaction<'_>,
    building: &BuildingId,
    kinds: &[Kind],
) -> Outcome<()> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let changed = tx.execute(
        "UPDATE buildings SET moderated_kinds = ?2 WHERE id = ?1",
        params![building.as_str(), serde_json::to_string(&names).expect("strings serialize")],
    )?;
    if changed == 0 {
        return Err(StoreError::not_found("building", building).into());
    }
    Ok(())
}

pub(super) fn audit(tx: &Transaction<'_>, limit: usize, before: Option<u64>) -> Outcome<Vec<AuditEntry>> {
    let mut stmt = tx.prepare(
        "SELECT seq, at_ms, actor_id, actor_name, via, action, item_id, detail FROM audit
         WHERE ?1 IS NULL OR seq < ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![before.map(|b| b as i64), limit as i64], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, String>(5)?,
            row.get::<_, Option<String>>(6)?,
            row.get::<_, String>(7)?,
        ))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (seq, at, actor, actor_name, via, action, item_id, detail) = row?;
        entries.push(AuditEntry {
            seq: seq as u64,
            at: instant(at)?,
            actor: actor.map(PublisherId::stored),
            actor_name,
            via: Via::parse(&via).ok_or_else(|| Fail::Corrupt(format!("audit via {via:?}")))?,
            action,
            item_id: item_id.map(ItemId::stored),
            detail,
        });
    }
    Ok(entries)
}

pub(super) fn add_lift(tx: &Transaction<'_>, lift: &Lift) -> Outcome<()> {
    require_building(tx, &lift.building_id)?;
    let exists =
        tx.query_row("SELECT 1 FROM lifts WHERE id = ?1", [lift.id.as_str()], |_| Ok(())).optional()?;
    if exists.is_some() {
        return Err(StoreError::exists("lift", &lift.id).into());
    }
    tx.execute(
        "INSERT INTO lifts (id, building_id, name) VALUES (?1, ?2, ?3)",
        params![lift.id.as_str(), lift.building_id.as_str(), lift.name],
    )?;
    Ok(())
}

type LiftRow = (String, String, String, Option<bool>, Option<i64>, Option<i64>);

fn lift_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<LiftRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

fn finish_lift(row: LiftRow) -> Outcome<Lift> {
    let (id, building_id, name, running, since, expected) = row;
    let status = match (running, since) {
        (Some(running), Some(since)) => Some(LiftStatus {
            running,
            since: instant(since)?,
            expected_return: expected.map(instant).transpose()?,
        }),
        _ => None,
    };
    Ok(Lift { id: LiftId::stored(id), building_id: BuildingId::stored(building_id), name, status })
}

const LIFT_COLUMNS: &str = "id, building_id, name, running, since_ms, expected_return_ms";

pub(super) fn lift(tx: &Transaction<'_>, id: &LiftId) -> Outcome<Option<Lift>> {
    let sql = format!("SELECT {LIFT_COLUMNS} FROM lifts WHERE id = ?1");
    tx.query_row(&sql, [id.as_str()], lift_row).optional()?.map(finish_lift).transpose()
}

pub(super) fn lifts(tx: &Transaction<'_>) -> Outcome<Vec<Lift>> {
    let sql = format!("SELECT {LIFT_COLUMNS} FROM lifts ORDER BY building_id, id");
    let mut stmt = tx.prepare(&sql)?;
    let rows: Vec<LiftRow> = stmt.query_map([], lift_row)?.collect::<Result<_, _>>()?;
    rows.into_iter().map(finish_lift).collect()
}

pub(super) fn set_lift_status(tx: &Transaction<'_>, id: &LiftId, status: &LiftStatus) -> Outcome<()> {
    let changed = tx.execute(
        "UPDATE lifts SET running = ?2, since_ms = ?3, expected_return_ms = ?4 WHERE id = ?1",
        params![id.as_str(), status.running, millis(status.since), status.expected_return.map(millis)],
    )?;
    if changed == 0 {
        return Err(StoreError::not_found("lift", id).into());
    }
    Ok(())
}
