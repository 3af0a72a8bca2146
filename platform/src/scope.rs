//! Who may publish what: the publisher roles and the kinds and channel each one owns.
//!
//! The rule is one table so the HTTP layer, the admin CLI and the API document agree: a
//! landlord (or syndic, caretaker) publishes flashes and building news on the `building`
//! channel, a shop publishes promotions on `shops`, and the neighbourhood app publishes
//! offers, events and news on `neighbourhood`.

use std::fmt;
use std::str::FromStr;

use palier_content::{Channel, Kind};
use serde::{Deserialize, Serialize};

/// A publisher's role, fixed when its token is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Landlord,
    Shop,
    Neighbourhood,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Landlord, Role::Shop, Role::Neighbourhood];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Landlord => "landlord",
            Role::Shop => "shop",
            Role::Neighbourhood => "neighbourhood",
        }
    }

    /// The channel every item of this role is published on.
    pub fn channel(self) -> Channel {
        match self {
            Role::Landlord => Channel::Building,
            Role::Shop => Channel::Shops,
            Role::Neighbourhood => Channel::Neighbourhood,
        }
    }

    /// The item kinds this role may publish.
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Role::Landlord => &[Kind::Flash, Kind::News],
            Role::Shop => &[Kind::Promo],
            Role::Neighbourhood => &[Kind::Offer, Kind::Event, Kind::News],
        }
    }

    pub fn may_publish(self, kind: Kind) -> bool {
        self.kinds().contains(&kind)
    }

    /// Only the neighbourhood app publishes on behalf of people (and withdraws them).
    pub fn speaks_for_people(self) -> bool {
        self == Role::Neighbourhood
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("role {s:?} is not one of landlord, shop, neighbourhood"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_exactly_the_expected_publishers() {
        let who = |kind| Role::ALL.into_iter().filter(|r| r.may_publish(kind)).collect::<Vec<_>>();
        assert_eq!(who(Kind::Flash), [Role::Landlord]);
        assert_eq!(who(Kind::Promo), [Role::Shop]);
        assert_eq!(who(Kind::Offer), [Role::Neighbourhood]);
        assert_eq!(who(Kind::Event), [Role::Neighbourhood]);
        assert_eq!(who(Kind::News), [Role::Landlord, Role::Neighbourhood]);
        assert_eq!("shop".parse::<Role>(), Ok(Role::Shop));
        assert!("admin".parse::<Role>().is_err());
    }
}
