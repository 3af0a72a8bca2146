//! systemd's service notifications: shared with the player, see `palier_content::notify`.

pub use palier_content::notify::*;
