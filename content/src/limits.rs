//! Every size limit of the device protocol, in one place.
//!
//! The platform refuses content past these limits at publish time and the device refuses it
//! again when a manifest arrives: a board must never trust that the other side checked.
//! `docs/protocol.md` lists the same numbers.

/// Largest manifest body accepted, uncompressed.
pub const MAX_MANIFEST_BYTES: usize = 8 * 1024 * 1024;
/// Items past this count are quarantined.
pub const MAX_ITEMS: usize = 2000;
pub const MAX_ID_CHARS: usize = 64;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 2000;
/// Names, places, prices, shop names, opening hours, sources.
pub const MAX_SHORT_TEXT_CHARS: usize = 120;
pub const MAX_FIRST_NAME_CHARS: usize = 40;
pub const MAX_LINK_CHARS: usize = 1000;
pub const MAX_ROLES: usize = 8;
pub const MAX_ROLE_CHARS: usize = 32;
pub const MAX_MEDIA_PER_ITEM: usize = 4;
pub const MAX_MEDIA_BYTES: u64 = 16 * 1024 * 1024;
pub const MAX_MEDIA_SIDE: u32 = 8192;
pub const MAX_MEDIA_PIXELS: u64 = 40_000_000;
pub const MEDIA_MIME_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];
/// A slide shorter than this would make the player spin through the rotation.
pub const MIN_DURATION_S: u32 = 3;
pub const MAX_DURATION_S: u32 = 300;
pub const MAX_WEIGHT: u32 = 100;
pub const MAX_DAILY_HOURS: usize = 8;
/// Plays in one upload.
pub const MAX_PLAYS_PER_BATCH: usize = 500;
/// Any other request body (enrolment, heartbeat, publishing JSON).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
