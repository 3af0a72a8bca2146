//! The publishing requests tests send, from `palier-content`'s sample requests: the ones
//! the documentation shows, so a test and the docs speak of the same items.

use jiff::SignedDuration;
use palier_content::Severity;
use palier_content::sample::requests;
use serde_json::Value;

pub use requests::{event, promo};

/// The landlord's flash most tests publish: an important water cut.
pub fn flash(id: &str) -> Value {
    requests::flash(id, Severity::Important, "Coupure d’eau mardi 24 novembre, 9 h – 12 h")
}

/// An urgent flash with this title, valid for the sample's default window.
pub fn urgent(id: &str, title: &str) -> Value {
    requests::flash(id, Severity::Urgent, title)
}

/// An urgent flash valid for the next `minutes`.
pub fn urgent_flash(id: &str, title: &str, minutes: i64) -> Value {
    requests::lasting(urgent(id, title), SignedDuration::from_mins(minutes))
}

/// A neighbour's offer, valid for a week, with a photo when given.
pub fn offer(id: &str, person: &str, first_name: &str, media: Option<&str>) -> Value {
    requests::offer(id, person, first_name, media.as_slice())
}
