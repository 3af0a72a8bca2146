//! The PostgreSQL schema and its migrations: the same tables and columns as the SQLite store
//! ([`crate::store`]'s other implementation), so `export` and `import` move an installation
//! between them row by row.
//!
//! Migrations are append-only, numbered as the SQLite ones, and applied at start (and by
//! `palier-platform migrate`) in one transaction under an advisory lock, so several replicas
//! starting together migrate once. `schema_version` records how many have run; a database
//! migrated by a newer build is refused rather than misread. Integers are `BIGINT`, text is
//! `TEXT COLLATE "C"` (byte order, as SQLite sorts, whatever the server's locale), instants
//! Unix milliseconds.

use crate::store::sql::{Fail, Outcome};

pub(super) const MIGRATIONS: &[&str] = &[
    // 1: buildings, publishers, enrolment codes, devices, items, media, plays, heartbeats.
    "CREATE TABLE meta (
         id BIGINT PRIMARY KEY CHECK (id = 1),
         generation BIGINT NOT NULL
     );
     INSERT INTO meta VALUES (1, 0);
     CREATE TABLE buildings (
         id TEXT COLLATE \"C\" PRIMARY KEY,
         name TEXT COLLATE \"C\" NOT NULL,
         address TEXT COLLATE \"C\" NOT NULL,
         time_zone TEXT COLLATE \"C\" NOT NULL,
         locale TEXT COLLATE \"C\" NOT NULL,
         generation BIGINT NOT NULL,
         change_reason TEXT COLLATE \"C\" NOT NULL,
         created_ms BIGINT NOT NULL
     );
     CREATE TABLE publishers (
         id TEXT COLLATE \"C\" PRIMARY KEY,
         name TEXT COLLATE \"C\" NOT NULL,
         role TEXT COLLATE \"C\" NOT NULL,
         token_hash TEXT COLLATE \"C\" NOT NULL UNIQUE,
         created_ms BIGINT NOT NULL,
         revoked_ms BIGINT
     );
     CREATE TABLE publisher_buildings (
         publisher_id TEXT COLLATE \"C\" NOT NULL REFERENCES publishers(id),
         building_id TEXT COLLATE \"C\" NOT NULL REFERENCES buildings(id),
         PRIMARY KEY (publisher_id, building_id)
     );
     CREATE TABLE enrolment_codes (
         code_hash TEXT COLLATE \"C\" PRIMARY KEY,
         building_id TEXT COLLATE \"C\" NOT NULL REFERENCES buildings(id),
         roles_json TEXT COLLATE \"C\" NOT NULL,
         created_ms BIGINT NOT NULL,
         expires_ms BIGINT NOT NULL,
         used_ms BIGINT,
         device_id TEXT COLLATE \"C\"
     );
     CREATE TABLE devices (
         id TEXT COLLATE \"C\" PRIMARY KEY,
         name TEXT COLLATE \"C\" NOT NULL,
         building_id TEXT COLLATE \"C\" NOT NULL REFERENCES buildings(id),
         roles_json TEXT COLLATE \"C\" NOT NULL,
         token_hash TEXT COLLATE \"C\" NOT NULL UNIQUE,
         software_version TEXT COLLATE \"C\" NOT NULL,
         generation BIGINT NOT NULL,
         enrolled_ms BIGINT NOT NULL,
         last_seen_ms BIGINT,
         revoked_ms BIGINT
     );
     CREATE TABLE items (
         id TEXT COLLATE \"C\" PRIMARY KEY,
         version BIGINT NOT NULL,
         publisher_id TEXT COLLATE \"C\" NOT NULL REFERENCES publishers(id),
         person_id TEXT COLLATE \"C\",
         kind TEXT COLLATE \"C\" NOT NULL,
         valid_until_ms BIGINT NOT NULL,
         json TEXT COLLATE \"C\" NOT NULL,
         created_ms BIGINT NOT NULL,
         updated_ms BIGINT NOT NULL,
         withdrawn_ms BIGINT,
         withdrawn_reason TEXT COLLATE \"C\"
     );
     CREATE INDEX items_by_person ON items(publisher_id, person_id) WHERE person_id IS NOT NULL;
     CREATE INDEX items_live_until ON items(valid_until_ms) WHERE withdrawn_ms IS NULL;
     CREATE TABLE item_buildings (
         building_id TEXT COLLATE \"C\" NOT NULL REFERENCES buildings(id),
         item_id TEXT COLLATE \"C\" NOT NULL REFERENCES items(id),
         PRIMARY KEY (building_id, item_id)
     );
     CREATE INDEX item_buildings_by_item ON item_buildings(item_id);
     CREATE TABLE media (
         sha256 TEXT COLLATE \"C\" PRIMARY KEY,
         bytes BIGINT NOT NULL,
         mime TEXT COLLATE \"C\" NOT NULL,
         width BIGINT NOT NULL,
         height BIGINT NOT NULL,
         uploaded_ms BIGINT NOT NULL
     );
     CREATE TABLE plays (
         device_id TEXT COLLATE \"C\" NOT NULL REFERENCES devices(id),
         id TEXT COLLATE \"C\" NOT NULL,
         item_id TEXT COLLATE \"C\" NOT NULL,
         item_version BIGINT NOT NULL,
         screen TEXT COLLATE \"C\" NOT NULL,
         role TEXT COLLATE \"C\" NOT NULL,
         started_ms BIGINT NOT NULL,
         duration_ms BIGINT NOT NULL,
         trigger TEXT COLLATE \"C\" NOT NULL,
         clock_trusted BIGINT NOT NULL,
         received_ms BIGINT NOT NULL,
         PRIMARY KEY (device_id, id)
     );
     CREATE INDEX plays_by_item ON plays(item_id, started_ms);
     CREATE TABLE heartbeats (
         device_id TEXT COLLATE \"C\" PRIMARY KEY REFERENCES devices(id),
         received_ms BIGINT NOT NULL,
         json TEXT COLLATE \"C\" NOT NULL
     );",
    // 2: people's console accounts, their password links and sessions, the audit log,
    //    moderation of residents' posts and each building's moderation setting.
    "ALTER TABLE publishers ADD COLUMN kind TEXT COLLATE \"C\" NOT NULL DEFAULT 'token';
     CREATE TABLE people (
         publisher_id TEXT COLLATE \"C\" PRIMARY KEY REFERENCES publishers(id),
         email TEXT COLLATE \"C\" NOT NULL UNIQUE,
         password_hash TEXT COLLATE \"C\",
         created_ms BIGINT NOT NULL,
         disabled_ms BIGINT
     );
     CREATE TABLE password_links (
         token_hash TEXT COLLATE \"C\" PRIMARY KEY,
         publisher_id TEXT COLLATE \"C\" NOT NULL REFERENCES publishers(id),
         expires_ms BIGINT NOT NULL,
         used_ms BIGINT
     );
     CREATE TABLE sessions (
         id TEXT COLLATE \"C\" PRIMARY KEY,
         record TEXT COLLATE \"C\" NOT NULL,
         expires_ms BIGINT NOT NULL
     );
     CREATE INDEX sessions_by_expiry ON sessions(expires_ms);
     CREATE TABLE audit (
         seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
         at_ms BIGINT NOT NULL,
         actor_id TEXT COLLATE \"C\",
         actor_name TEXT COLLATE \"C\" NOT NULL,
         via TEXT COLLATE \"C\" NOT NULL,
         action TEXT COLLATE \"C\" NOT NULL,
         item_id TEXT COLLATE \"C\",
         detail TEXT COLLATE \"C\" NOT NULL
     );
     ALTER TABLE items ADD COLUMN moderation TEXT COLLATE \"C\" NOT NULL DEFAULT 'approved';
     ALTER TABLE items ADD COLUMN moderation_reason TEXT COLLATE \"C\";
     CREATE INDEX items_pending ON items(moderation) WHERE moderation = 'pending';
     ALTER TABLE buildings ADD COLUMN moderated_kinds TEXT COLLATE \"C\" NOT NULL DEFAULT '[\"offer\"]';",
    // 3: lifts and what their monitoring last said.
    "CREATE TABLE lifts (
         id TEXT COLLATE \"C\" PRIMARY KEY,
         building_id TEXT COLLATE \"C\" NOT NULL REFERENCES buildings(id),
         name TEXT COLLATE \"C\" NOT NULL,
         running BIGINT,
         since_ms BIGINT,
         expected_return_ms BIGINT
     );",
    // 4: areas (neighbourhoods, cities) grouping buildings, publishers and items scoped to
    //    areas; `item_buildings` keeps every building an item reaches, `named` telling the
    //    buildings named from those reached through an area.
    "CREATE TABLE areas (
         id TEXT COLLATE \"C\" PRIMARY KEY,
         name TEXT COLLATE \"C\" NOT NULL,
         kind TEXT COLLATE \"C\" NOT NULL,
         within_id TEXT COLLATE \"C\" REFERENCES areas(id),
         created_ms BIGINT NOT NULL
     );
     CREATE INDEX areas_within ON areas(within_id) WHERE within_id IS NOT NULL;
     CREATE TABLE area_buildings (
         area_id TEXT COLLATE \"C\" NOT NULL REFERENCES areas(id),
         building_id TEXT COLLATE \"C\" NOT NULL REFERENCES buildings(id),
         PRIMARY KEY (area_id, building_id)
     );
     CREATE INDEX area_buildings_by_building ON area_buildings(building_id);
     CREATE TABLE publisher_areas (
         publisher_id TEXT COLLATE \"C\" NOT NULL REFERENCES publishers(id),
         area_id TEXT COLLATE \"C\" NOT NULL REFERENCES areas(id),
         PRIMARY KEY (publisher_id, area_id)
     );
     CREATE TABLE item_areas (
         item_id TEXT COLLATE \"C\" NOT NULL REFERENCES items(id),
         area_id TEXT COLLATE \"C\" NOT NULL REFERENCES areas(id),
         PRIMARY KEY (item_id, area_id)
     );
     CREATE INDEX item_areas_by_area ON item_areas(area_id);
     ALTER TABLE item_buildings ADD COLUMN named BIGINT NOT NULL DEFAULT 1;",
    // 5: feeds the platform fetches, what their fetches did, and the entries they published.
    "CREATE TABLE feeds (
         id TEXT COLLATE \"C\" PRIMARY KEY,
         name TEXT COLLATE \"C\" NOT NULL,
         url TEXT COLLATE \"C\" NOT NULL,
         format TEXT COLLATE \"C\" NOT NULL,
         kind TEXT COLLATE \"C\" NOT NULL,
         moderated BIGINT NOT NULL,
         every_s BIGINT NOT NULL,
         publisher_id TEXT COLLATE \"C\" NOT NULL REFERENCES publishers(id),
         created_ms BIGINT NOT NULL,
         removed_ms BIGINT,
         last_fetch_ms BIGINT,
         last_ok_ms BIGINT,
         last_error TEXT COLLATE \"C\",
         failures BIGINT NOT NULL DEFAULT 0,
         next_fetch_ms BIGINT,
         etag TEXT COLLATE \"C\",
         last_modified TEXT COLLATE \"C\",
         report TEXT COLLATE \"C\" NOT NULL DEFAULT ''
     );
     CREATE TABLE feed_items (
         feed_id TEXT COLLATE \"C\" NOT NULL REFERENCES feeds(id),
         key TEXT COLLATE \"C\" NOT NULL,
         item_id TEXT COLLATE \"C\" NOT NULL,
         fingerprint TEXT COLLATE \"C\" NOT NULL,
         first_seen_ms BIGINT NOT NULL,
         PRIMARY KEY (feed_id, key)
     );",
    // 6: system releases (update bundles, stored as media) and who should run which.
    "CREATE TABLE releases (
         compatible TEXT COLLATE \"C\" NOT NULL,
         version TEXT COLLATE \"C\" NOT NULL,
         sha256 TEXT COLLATE \"C\" NOT NULL,
         bytes BIGINT NOT NULL,
         created_ms BIGINT NOT NULL,
         PRIMARY KEY (compatible, version)
     );
     CREATE TABLE release_assignments (
         audience TEXT COLLATE \"C\" PRIMARY KEY,
         version TEXT COLLATE \"C\" NOT NULL,
         percent BIGINT,
         allow_downgrade BIGINT NOT NULL,
         assigned_ms BIGINT NOT NULL
     );",
];

/// The advisory lock migrations take ("migrate" in ASCII).
const MIGRATION_LOCK: i64 = 0x6d696772617465;

/// Applies the migrations the database has not run; returns the schema version.
pub(super) async fn migrate(client: &mut deadpool_postgres::Client) -> Outcome<usize> {
    let transaction = client.transaction().await?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    // Quietly: PostgreSQL would otherwise send a notice at every start that it exists.
    transaction
        .batch_execute(
            "SET LOCAL client_min_messages = warning;
             CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)",
        )
        .await?;
    let row = transaction.query_opt("SELECT version FROM schema_version", &[]).await?;
    let done = match &row {
        Some(row) => row.try_get::<_, i64>(0)?.max(0) as usize,
        None => {
            transaction.execute("INSERT INTO schema_version VALUES (0)", &[]).await?;
            0
        }
    };
    if done > MIGRATIONS.len() {
        return Err(Fail::Corrupt(format!(
            "the database is at schema version {done}, newer than this build knows ({}); run the newer palier-platform",
            MIGRATIONS.len()
        )));
    }
    for migration in &MIGRATIONS[done..] {
        transaction.batch_execute(migration).await?;
    }
    transaction.execute("UPDATE schema_version SET version = $1", &[&(MIGRATIONS.len() as i64)]).await?;
    transaction.commit().await?;
    Ok(MIGRATIONS.len())
}
