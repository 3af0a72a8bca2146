//! Typed identifiers: buildings, areas, items, publishers, devices, people, lifts, feeds and
//! media addresses.
//!
//! Each is a string checked once, where it enters the platform (a path, a body, a command
//! line), so the store and the rules never handle an unchecked one and a building id cannot
//! be passed where an item id is meant. Ids follow the protocol's rule (1–64 characters of
//! A–Z, a–z, 0–9, '-', '_', '.'); a media address is 64 lowercase hexadecimal digits.

use std::fmt;

use palier_content::validate::check_id;
use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `text` and makes it an id; the error names the field and the rule.
            pub fn parse(text: &str) -> Result<$name, String> {
                check_id($what, text)?;
                Ok($name(text.to_owned()))
            }

            /// An id read back from the store, which only ever holds checked ones.
            pub fn stored(text: String) -> $name {
                $name(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(text: String) -> Result<$name, String> {
                check_id($what, &text)?;
                Ok($name(text))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

string_id!(
    /// A building, e.g. `bld-residence-les-tilleuls`.
    BuildingId,
    "building id"
);
string_id!(
    /// An item, chosen by its publisher, e.g. `flash-eau-mardi`.
    ItemId,
    "item id"
);
string_id!(
    /// A publisher: a token for a machine or a person's account, e.g. `pub-7k2m9q4x`.
    PublisherId,
    "publisher id"
);
string_id!(
    /// An enrolled board, e.g. `dev-7k2m9q4x`.
    DeviceId,
    "device id"
);
string_id!(
    /// The neighbourhood app's id of a resident; never sent to a board.
    PersonId,
    "person id"
);
string_id!(
    /// A neighbourhood or a city grouping buildings, e.g. `area-quartier-des-pentes`.
    AreaId,
    "area id"
);
string_id!(
    /// A feed the platform fetches (a city's agenda, a news feed), e.g. `feed-agenda-lyon`.
    FeedId,
    "feed id"
);
string_id!(
    /// A lift the lift company's monitoring reports on, e.g. `lift-tilleuls-a`.
    LiftId,
    "lift id"
);

/// A media file's address: the SHA-256 of its bytes, 64 lowercase hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MediaAddress(String);

impl MediaAddress {
    pub fn parse(text: &str) -> Result<MediaAddress, String> {
        if is_address(text) {
            Ok(MediaAddress(text.to_owned()))
        } else {
            Err(format!("{text:?} is not a media address (64 lowercase hexadecimal digits)"))
        }
    }

    /// The address of these bytes.
    pub fn of(bytes: &[u8]) -> MediaAddress {
        MediaAddress(palier_content::demo::sha256_hex(bytes))
    }

    pub(crate) fn stored(text: String) -> MediaAddress {
        MediaAddress(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MediaAddress {
    type Error = String;

    fn try_from(text: String) -> Result<MediaAddress, String> {
        MediaAddress::parse(&text)
    }
}

impl From<MediaAddress> for String {
    fn from(address: MediaAddress) -> String {
        address.0
    }
}

impl fmt::Display for MediaAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True for 64 lowercase hexadecimal digits.
pub fn is_address(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_where_they_enter() {
        assert_eq!(ItemId::parse("flash-eau").unwrap().as_str(), "flash-eau");
        assert!(ItemId::parse("").is_err());
        assert!(ItemId::parse("a b").unwrap_err().contains("item id"));
        assert!(BuildingId::parse(&"x".repeat(65)).is_err());
        let parsed: Result<BuildingId, _> = serde_json::from_str("\"bld/../x\"");
        assert!(parsed.is_err());
        assert_eq!(serde_json::to_string(&DeviceId::parse("dev-1").unwrap()).unwrap(), "\"dev-1\"");
        let sha = MediaAddress::of(b"abc");
        assert_eq!(MediaAddress::parse(sha.as_str()).unwrap(), sha);
        assert!(MediaAddress::parse(&"A".repeat(64)).is_err());
        assert!(MediaAddress::parse("abc").is_err());
    }
}
