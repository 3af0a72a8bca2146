//! People's console accounts, their password links and sessions, building settings, lifts
//! and the audit log, in SQL both engines run.

use jiff::Timestamp;
use palier_content::Kind;

use super::{
    Fail, Outcome, Row, Tx, audit, execute, get, instant, millis, query, query_opt, require_building,
};
use crate::ids::{BuildingId, ItemId, LiftId, PublisherId};
use crate::store::{AuditEntry, Change, Lift, LiftStatus, Person, Publisher, PublisherKind, StoreError, Via};

const PERSON_COLUMNS: &str =
    "p.id, p.name, p.role, pe.email, pe.password_hash, pe.created_ms, pe.disabled_ms";

type PersonRow = (String, String, String, String, Option<String>, i64, Option<i64>);

fn person_row(row: &Row) -> Outcome<PersonRow> {
    Ok((get(row, 0)?, get(row, 1)?, get(row, 2)?, get(row, 3)?, get(row, 4)?, get(row, 5)?, get(row, 6)?))
}

async fn person(tx: &dyn Tx, row: PersonRow) -> Outcome<Person> {
    let (id, name, role_name, email, password_hash, created, disabled) = row;
    Ok(Person {
        publisher: super::publisher(tx, id, name, &role_name, PublisherKind::Person).await?,
        email,
        password_hash,
        created_at: instant(created)?,
        disabled_at: disabled.map(instant).transpose()?,
    })
}

async fn find(tx: &dyn Tx, condition: &str, key: &str) -> Outcome<Option<Person>> {
    let sql = format!(
        "SELECT {PERSON_COLUMNS} FROM people pe JOIN publishers p ON p.id = pe.publisher_id WHERE {condition}"
    );
    let row = match query_opt(tx, &sql, &[&key]).await? {
        Some(row) => person_row(&row)?,
        None => return Ok(None),
    };
    Ok(Some(person(tx, row).await?))
}

pub(super) async fn add(tx: &dyn Tx, new: &Person, change: &Change) -> Outcome<()> {
    let exists = query_opt(tx, "SELECT 1 FROM people WHERE email = $1", &[&new.email]).await?;
    if exists.is_some() {
        return Err(StoreError::exists("person with e-mail", &new.email).into());
    }
    let publisher = &new.publisher;
    // A person's publisher row has no usable token: the hash of nothing anyone holds.
    let unusable = format!("person:{}", publisher.id);
    execute(
        tx,
        "INSERT INTO publishers (id, name, role, token_hash, created_ms, kind) VALUES ($1, $2, $3, $4, $5, 'person')",
        &[&publisher.id.as_str(), &publisher.name, &publisher.role.as_str(), &unusable, &millis(new.created_at)],
    )
    .await?;
    super::add_publisher_scope(tx, publisher).await?;
    execute(
        tx,
        "INSERT INTO people (publisher_id, email, password_hash, created_ms) VALUES ($1, $2, $3, $4)",
        &[&publisher.id.as_str(), &new.email, &new.password_hash, &millis(new.created_at)],
    )
    .await?;
    let detail = format!("{}: {}, {}", new.email, publisher.role, super::scope(publisher));
    audit(tx, change, "add person", None, &detail).await
}

pub(super) async fn by_id(tx: &dyn Tx, id: &PublisherId) -> Outcome<Option<Person>> {
    find(tx, "pe.publisher_id = $1", id.as_str()).await
}

pub(super) async fn by_email(tx: &dyn Tx, email: &str) -> Outcome<Option<Person>> {
    find(tx, "pe.email = $1", email).await
}

pub(super) async fn all(tx: &dyn Tx) -> Outcome<Vec<Person>> {
    let sql = format!(
        "SELECT {PERSON_COLUMNS} FROM people pe JOIN publishers p ON p.id = pe.publisher_id ORDER BY pe.email"
    );
    let rows: Vec<PersonRow> =
        query(tx, &sql, &[]).await?.iter().map(person_row).collect::<Result<_, Fail>>()?;
    let mut people = Vec::with_capacity(rows.len());
    for row in rows {
        people.push(person(tx, row).await?);
    }
    Ok(people)
}

pub(super) async fn disable(tx: &dyn Tx, id: &PublisherId, change: &Change) -> Outcome<bool> {
    let now = change.at;
    let row = query_opt(tx, "SELECT disabled_ms, email FROM people WHERE publisher_id = $1", &[&id.as_str()])
        .await?;
    let state: Option<(Option<i64>, String)> =
        row.map(|row| Ok::<_, Fail>((get(&row, 0)?, get(&row, 1)?))).transpose()?;
    match state {
        None => Err(StoreError::not_found("person", id).into()),
        Some((Some(_), _)) => Ok(false),
        Some((None, email)) => {
            execute(
                tx,
                "UPDATE people SET disabled_ms = $2 WHERE publisher_id = $1",
                &[&id.as_str(), &millis(now)],
            )
            .await?;
            execute(
                tx,
                "UPDATE publishers SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
                &[&id.as_str(), &millis(now)],
            )
            .await?;
            audit(tx, change, "disable person", None, &email).await?;
            Ok(true)
        }
    }
}

/// Gives a disabled account back its console access (its publisher is no longer revoked).
pub(super) async fn enable(tx: &dyn Tx, id: &PublisherId, change: &Change) -> Outcome<bool> {
    let row = query_opt(tx, "SELECT disabled_ms, email FROM people WHERE publisher_id = $1", &[&id.as_str()])
        .await?;
    let state: Option<(Option<i64>, String)> =
        row.map(|row| Ok::<_, Fail>((get(&row, 0)?, get(&row, 1)?))).transpose()?;
    match state {
        None => Err(StoreError::not_found("person", id).into()),
        Some((None, _)) => Ok(false),
        Some((Some(_), email)) => {
            execute(tx, "UPDATE people SET disabled_ms = NULL WHERE publisher_id = $1", &[&id.as_str()])
                .await?;
            execute(tx, "UPDATE publishers SET revoked_ms = NULL WHERE id = $1", &[&id.as_str()]).await?;
            audit(tx, change, "enable person", None, &email).await?;
            Ok(true)
        }
    }
}

/// Gives a person another role, buildings and areas; false if they already had exactly these.
pub(super) async fn change(tx: &dyn Tx, wanted: &Publisher, change: &Change) -> Outcome<bool> {
    let Some(current) = by_id(tx, &wanted.id).await? else {
        return Err(StoreError::not_found("person", &wanted.id).into());
    };
    let was = &current.publisher;
    if was.role == wanted.role && was.buildings == wanted.buildings && was.areas == wanted.areas {
        return Ok(false);
    }
    let id = wanted.id.as_str();
    execute(tx, "UPDATE publishers SET role = $2 WHERE id = $1", &[&id, &wanted.role.as_str()]).await?;
    execute(tx, "DELETE FROM publisher_buildings WHERE publisher_id = $1", &[&id]).await?;
    execute(tx, "DELETE FROM publisher_areas WHERE publisher_id = $1", &[&id]).await?;
    super::add_publisher_scope(tx, wanted).await?;
    let detail = format!(
        "{}: {}, {} (was {}, {})",
        current.email,
        wanted.role,
        super::scope(wanted),
        was.role,
        super::scope(was)
    );
    audit(tx, change, "change person", None, &detail).await?;
    Ok(true)
}

pub(super) async fn add_link(
    tx: &dyn Tx,
    token_hash: &str,
    person: &PublisherId,
    expires: Timestamp,
) -> Outcome<()> {
    execute(
        tx,
        "INSERT INTO password_links (token_hash, publisher_id, expires_ms) VALUES ($1, $2, $3)",
        &[&token_hash, &person.as_str(), &millis(expires)],
    )
    .await?;
    Ok(())
}

pub(super) async fn link(tx: &dyn Tx, token_hash: &str, now: Timestamp) -> Outcome<Option<PublisherId>> {
    let found = query_opt(
        tx,
        "SELECT l.publisher_id FROM password_links l JOIN people pe ON pe.publisher_id = l.publisher_id
         WHERE l.token_hash = $1 AND l.used_ms IS NULL AND l.expires_ms > $2 AND pe.disabled_ms IS NULL",
        &[&token_hash, &millis(now)],
    )
    .await?;
    let found = found.map(|row| get::<String>(&row, 0)).transpose()?;
    Ok(found.map(PublisherId::stored))
}

pub(super) async fn use_link(
    tx: &dyn Tx,
    token_hash: &str,
    password_hash: &str,
    now: Timestamp,
) -> Outcome<Option<PublisherId>> {
    let Some(person) = link(tx, token_hash, now).await? else { return Ok(None) };
    execute(tx, "UPDATE password_links SET used_ms = $2 WHERE token_hash = $1", &[&token_hash, &millis(now)])
        .await?;
    execute(
        tx,
        "UPDATE people SET password_hash = $2 WHERE publisher_id = $1",
        &[&person.as_str(), &password_hash],
    )
    .await?;
    Ok(Some(person))
}

pub(super) async fn session(tx: &dyn Tx, id: &str, now: Timestamp) -> Outcome<Option<String>> {
    let row =
        query_opt(tx, "SELECT record FROM sessions WHERE id = $1 AND expires_ms > $2", &[&id, &millis(now)])
            .await?;
    row.map(|row| get::<String>(&row, 0)).transpose()
}

pub(super) async fn save_session(tx: &dyn Tx, id: &str, record: &str, expires: Timestamp) -> Outcome<()> {
    execute(
        tx,
        "INSERT INTO sessions (id, record, expires_ms) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_ms = excluded.expires_ms",
        &[&id, &record, &millis(expires)],
    )
    .await?;
    Ok(())
}

pub(super) async fn forget_expired(tx: &dyn Tx, now: Timestamp) -> Outcome<u64> {
    let sessions = execute(tx, "DELETE FROM sessions WHERE expires_ms <= $1", &[&millis(now)]).await?;
    let links = execute(tx, "DELETE FROM password_links WHERE expires_ms <= $1", &[&millis(now)]).await?;
    Ok(sessions + links)
}

pub(super) async fn moderated_kinds(tx: &dyn Tx, building: &BuildingId) -> Outcome<Vec<Kind>> {
    let json: String =
        match query_opt(tx, "SELECT moderated_kinds FROM buildings WHERE id = $1", &[&building.as_str()])
            .await?
        {
            Some(row) => get::<String>(&row, 0)?,
            None => return Err(StoreError::not_found("building", building).into()),
        };
    let names: Vec<String> =
        serde_json::from_str(&json).map_err(|e| Fail::Corrupt(format!("moderated kinds {json:?}: {e}")))?;
    names
        .iter()
        .map(|n| Kind::parse(n).ok_or_else(|| Fail::Corrupt(format!("moderated kind {n:?}"))))
        .collect()
}

pub(super) async fn set_moderated_kinds(
    tx: &dyn Tx,
    building: &BuildingId,
    kinds: &[Kind],
    change: &Change,
) -> Outcome<()> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let json = serde_json::to_string(&names).expect("strings serialize");
    let changed =
        execute(tx, "UPDATE buildings SET moderated_kinds = $2 WHERE id = $1", &[&building.as_str(), &json])
            .await?;
    if changed == 0 {
        return Err(StoreError::not_found("building", building).into());
    }
    let listed = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
    audit(tx, change, "settings", None, &format!("{building}: moderated kinds {listed}")).await
}

pub(super) async fn audit_log(tx: &dyn Tx, limit: usize, before: Option<u64>) -> Outcome<Vec<AuditEntry>> {
    let before: Option<i64> = before.map(|b| b as i64);
    let limit = limit as i64;
    let rows = query(
        tx,
        "SELECT seq, at_ms, actor_id, actor_name, via, action, item_id, detail FROM audit
         WHERE CAST($1 AS BIGINT) IS NULL OR seq < CAST($1 AS BIGINT) ORDER BY seq DESC LIMIT $2",
        &[&before, &limit],
    )
    .await?;
    let mut entries = Vec::new();
    for row in &rows {
        let seq = get::<i64>(row, 0)?;
        let at = get::<i64>(row, 1)?;
        let actor = get::<Option<String>>(row, 2)?;
        let actor_name = get::<String>(row, 3)?;
        let via = get::<String>(row, 4)?;
        let action = get::<String>(row, 5)?;
        let item_id = get::<Option<String>>(row, 6)?;
        let detail = get::<String>(row, 7)?;
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

pub(super) async fn add_lift(tx: &dyn Tx, lift: &Lift) -> Outcome<()> {
    require_building(tx, &lift.building_id).await?;
    let exists = query_opt(tx, "SELECT 1 FROM lifts WHERE id = $1", &[&lift.id.as_str()]).await?;
    if exists.is_some() {
        return Err(StoreError::exists("lift", &lift.id).into());
    }
    execute(
        tx,
        "INSERT INTO lifts (id, building_id, name) VALUES ($1, $2, $3)",
        &[&lift.id.as_str(), &lift.building_id.as_str(), &lift.name],
    )
    .await?;
    Ok(())
}

type LiftRow = (String, String, String, Option<bool>, Option<i64>, Option<i64>);

fn lift_row(row: &Row) -> Outcome<LiftRow> {
    // `running` is stored 0/1 in a BIGINT column, as SQLite stores a boolean.
    let running = get::<Option<i64>>(row, 3)?.map(|running| running != 0);
    Ok((get(row, 0)?, get(row, 1)?, get(row, 2)?, running, get(row, 4)?, get(row, 5)?))
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

pub(super) async fn lift(tx: &dyn Tx, id: &LiftId) -> Outcome<Option<Lift>> {
    let sql = format!("SELECT {LIFT_COLUMNS} FROM lifts WHERE id = $1");
    let row = query_opt(tx, &sql, &[&id.as_str()]).await?;
    row.map(|row| lift_row(&row).and_then(finish_lift)).transpose()
}

pub(super) async fn lifts(tx: &dyn Tx) -> Outcome<Vec<Lift>> {
    let sql = format!("SELECT {LIFT_COLUMNS} FROM lifts ORDER BY building_id, id");
    let rows = query(tx, &sql, &[]).await?;
    rows.iter().map(|row| lift_row(row).and_then(finish_lift)).collect()
}

pub(super) async fn set_lift_status(tx: &dyn Tx, id: &LiftId, status: &LiftStatus) -> Outcome<()> {
    let running = status.running as i64;
    let expected_return: Option<i64> = status.expected_return.map(millis);
    let changed = execute(
        tx,
        "UPDATE lifts SET running = $2, since_ms = $3, expected_return_ms = $4 WHERE id = $1",
        &[&id.as_str(), &running, &millis(status.since), &expected_return],
    )
    .await?;
    if changed == 0 {
        return Err(StoreError::not_found("lift", id).into());
    }
    Ok(())
}
