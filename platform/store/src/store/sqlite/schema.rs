//! The platform database's schema and its migrations.
//!
//! Migrations are append-only: each entry runs once, in order, and `PRAGMA user_version`
//! records how many have run ([`palier_content::sqlite`] opens and migrates, as for the
//! board's cache). Never edit a shipped entry; add a new one. A file whose version is newer
//! than this build knows is refused rather than misread. Instants are stored as Unix
//! milliseconds (UTC), so they compare and sort as integers.

use std::path::Path;

use palier_content::sqlite::{self, OpenError};
use rusqlite::Connection;

pub(super) const MIGRATIONS: &[&str] = &[
    // 1: buildings, publishers, enrolment codes, devices, items, media, plays, heartbeats.
    "CREATE TABLE meta (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         generation INTEGER NOT NULL
     );
     INSERT INTO meta VALUES (1, 0);
     CREATE TABLE buildings (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         address TEXT NOT NULL,
         time_zone TEXT NOT NULL,
         locale TEXT NOT NULL,
         generation INTEGER NOT NULL,
         change_reason TEXT NOT NULL,
         created_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE publishers (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         role TEXT NOT NULL,
         token_hash TEXT NOT NULL UNIQUE,
         created_ms INTEGER NOT NULL,
         revoked_ms INTEGER
     ) WITHOUT ROWID;
     CREATE TABLE publisher_buildings (
         publisher_id TEXT NOT NULL REFERENCES publishers(id),
         building_id TEXT NOT NULL REFERENCES buildings(id),
         PRIMARY KEY (publisher_id, building_id)
     ) WITHOUT ROWID;
     CREATE TABLE enrolment_codes (
         code_hash TEXT PRIMARY KEY,
         building_id TEXT NOT NULL REFERENCES buildings(id),
         roles_json TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         expires_ms INTEGER NOT NULL,
         used_ms INTEGER,
         device_id TEXT
     ) WITHOUT ROWID;
     CREATE TABLE devices (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         building_id TEXT NOT NULL REFERENCES buildings(id),
         roles_json TEXT NOT NULL,
         token_hash TEXT NOT NULL UNIQUE,
         software_version TEXT NOT NULL,
         generation INTEGER NOT NULL,
         enrolled_ms INTEGER NOT NULL,
         last_seen_ms INTEGER,
         revoked_ms INTEGER
     ) WITHOUT ROWID;
     CREATE TABLE items (
         id TEXT PRIMARY KEY,
         version INTEGER NOT NULL,
         publisher_id TEXT NOT NULL REFERENCES publishers(id),
         person_id TEXT,
         kind TEXT NOT NULL,
         valid_until_ms INTEGER NOT NULL,
         json TEXT NOT NULL,
         created_ms INTEGER NOT NULL,
         updated_ms INTEGER NOT NULL,
         withdrawn_ms INTEGER,
         withdrawn_reason TEXT
     ) WITHOUT ROWID;
     CREATE INDEX items_by_person ON items(publisher_id, person_id) WHERE person_id IS NOT NULL;
     CREATE INDEX items_live_until ON items(valid_until_ms) WHERE withdrawn_ms IS NULL;
     CREATE TABLE item_buildings (
         building_id TEXT NOT NULL REFERENCES buildings(id),
         item_id TEXT NOT NULL REFERENCES items(id),
         PRIMARY KEY (building_id, item_id)
     ) WITHOUT ROWID;
     CREATE INDEX item_buildings_by_item ON item_buildings(item_id);
     CREATE TABLE media (
         sha256 TEXT PRIMARY KEY,
         bytes INTEGER NOT NULL,
         mime TEXT NOT NULL,
         width INTEGER NOT NULL,
         height INTEGER NOT NULL,
         uploaded_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE plays (
         device_id TEXT NOT NULL REFERENCES devices(id),
         id TEXT NOT NULL,
         item_id TEXT NOT NULL,
         item_version INTEGER NOT NULL,
         screen TEXT NOT NULL,
         role TEXT NOT NULL,
         started_ms INTEGER NOT NULL,
         duration_ms INTEGER NOT NULL,
         trigger TEXT NOT NULL,
         clock_trusted INTEGER NOT NULL,
         received_ms INTEGER NOT NULL,
         PRIMARY KEY (device_id, id)
     ) WITHOUT ROWID;
     CREATE INDEX plays_by_item ON plays(item_id, started_ms);
     CREATE TABLE heartbeats (
         device_id TEXT PRIMARY KEY REFERENCES devices(id),
         received_ms INTEGER NOT NULL,
         json TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 2: people's console accounts, their password links and sessions, the audit log,
    //    moderation of residents' posts and each building's moderation setting.
    "ALTER TABLE publishers ADD COLUMN kind TEXT NOT NULL DEFAULT 'token';
     CREATE TABLE people (
         publisher_id TEXT PRIMARY KEY REFERENCES publishers(id),
         email TEXT NOT NULL UNIQUE,
         password_hash TEXT,
         created_ms INTEGER NOT NULL,
         disabled_ms INTEGER
     ) WITHOUT ROWID;
     CREATE TABLE password_links (
         token_hash TEXT PRIMARY KEY,
         publisher_id TEXT NOT NULL REFERENCES publishers(id),
         expires_ms INTEGER NOT NULL,
         used_ms INTEGER
     ) WITHOUT ROWID;
     CREATE TABLE sessions (
         id TEXT PRIMARY KEY,
         record TEXT NOT NULL,
         expires_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX sessions_by_expiry ON sessions(expires_ms);
     CREATE TABLE audit (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         at_ms INTEGER NOT NULL,
         actor_id TEXT,
         actor_name TEXT NOT NULL,
         via TEXT NOT NULL,
         action TEXT NOT NULL,
         item_id TEXT,
         detail TEXT NOT NULL
     );
     ALTER TABLE items ADD COLUMN moderation TEXT NOT NULL DEFAULT 'approved';
     ALTER TABLE items ADD COLUMN moderation_reason TEXT;
     CREATE INDEX items_pending ON items(moderation) WHERE moderation = 'pending';
     ALTER TABLE buildings ADD COLUMN moderated_kinds TEXT NOT NULL DEFAULT '[\"offer\"]';",
    // 3: lifts and what their monitoring last said.
    "CREATE TABLE lifts (
         id TEXT PRIMARY KEY,
         building_id TEXT NOT NULL REFERENCES buildings(id),
         name TEXT NOT NULL,
         running INTEGER,
         since_ms INTEGER,
         expected_return_ms INTEGER
     ) WITHOUT ROWID;",
    // 4: areas (neighbourhoods, cities) grouping buildings, publishers and items scoped to
    //    areas; `item_buildings` keeps every building an item reaches, `named` telling the
    //    buildings named from those reached through an area.
    "CREATE TABLE areas (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         kind TEXT NOT NULL,
         within_id TEXT REFERENCES areas(id),
         created_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX areas_within ON areas(within_id) WHERE within_id IS NOT NULL;
     CREATE TABLE area_buildings (
         area_id TEXT NOT NULL REFERENCES areas(id),
         building_id TEXT NOT NULL REFERENCES buildings(id),
         PRIMARY KEY (area_id, building_id)
     ) WITHOUT ROWID;
     CREATE INDEX area_buildings_by_building ON area_buildings(building_id);
     CREATE TABLE publisher_areas (
         publisher_id TEXT NOT NULL REFERENCES publishers(id),
         area_id TEXT NOT NULL REFERENCES areas(id),
         PRIMARY KEY (publisher_id, area_id)
     ) WITHOUT ROWID;
     CREATE TABLE item_areas (
         item_id TEXT NOT NULL REFERENCES items(id),
         area_id TEXT NOT NULL REFERENCES areas(id),
         PRIMARY KEY (item_id, area_id)
     ) WITHOUT ROWID;
     CREATE INDEX item_areas_by_area ON item_areas(area_id);
     ALTER TABLE item_buildings ADD COLUMN named INTEGER NOT NULL DEFAULT 1;",
    // 5: feeds the platform fetches, what their fetches did, and the entries they published.
    "CREATE TABLE feeds (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL,
         url TEXT NOT NULL,
         format TEXT NOT NULL,
         kind TEXT NOT NULL,
         moderated INTEGER NOT NULL,
         every_s INTEGER NOT NULL,
         publisher_id TEXT NOT NULL REFERENCES publishers(id),
         created_ms INTEGER NOT NULL,
         removed_ms INTEGER,
         last_fetch_ms INTEGER,
         last_ok_ms INTEGER,
         last_error TEXT,
         failures INTEGER NOT NULL DEFAULT 0,
         next_fetch_ms INTEGER,
         etag TEXT,
         last_modified TEXT,
         report TEXT NOT NULL DEFAULT ''
     ) WITHOUT ROWID;
     CREATE TABLE feed_items (
         feed_id TEXT NOT NULL REFERENCES feeds(id),
         key TEXT NOT NULL,
         item_id TEXT NOT NULL,
         fingerprint TEXT NOT NULL,
         first_seen_ms INTEGER NOT NULL,
         PRIMARY KEY (feed_id, key)
     ) WITHOUT ROWID;",
    // 6: system releases (update bundles, stored as media) and who should run which.
    "CREATE TABLE releases (
         compatible TEXT NOT NULL,
         version TEXT NOT NULL,
         sha256 TEXT NOT NULL,
         bytes INTEGER NOT NULL,
         created_ms INTEGER NOT NULL,
         PRIMARY KEY (compatible, version)
     ) WITHOUT ROWID;
     CREATE TABLE release_assignments (
         audience TEXT PRIMARY KEY,
         version TEXT NOT NULL,
         percent INTEGER,
         allow_downgrade INTEGER NOT NULL,
         assigned_ms INTEGER NOT NULL
     ) WITHOUT ROWID;",
];

/// Opens (creating if needed) the database in WAL mode, migrated to the latest schema.
pub(super) fn open(path: &Path) -> Result<Connection, OpenError> {
    sqlite::open_writable(path, MIGRATIONS)
}
