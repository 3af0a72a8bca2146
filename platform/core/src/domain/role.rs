//! The roles publishers hold: what each is called, its channel, and the kinds it publishes.

use std::fmt;
use std::str::FromStr;

use palier_content::{Channel, Kind};
use serde::{Deserialize, Serialize};

/// A publisher's role, fixed when its token or account is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Landlord,
    Caretaker,
    Shop,
    Neighbourhood,
    Moderator,
    Admin,
    /// The lift maintenance company: its flashes, and its remote monitoring's statuses.
    Lift,
    /// A feed the platform fetches (a city's agenda, news): events and news.
    Feed,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Landlord,
        Role::Caretaker,
        Role::Shop,
        Role::Neighbourhood,
        Role::Moderator,
        Role::Admin,
        Role::Lift,
        Role::Feed,
    ];
    /// Roles a machine's token may have (`publisher add`).
    pub const FOR_TOKENS: [Role; 5] =
        [Role::Landlord, Role::Caretaker, Role::Shop, Role::Neighbourhood, Role::Lift];
    /// Roles a person's console account may have (`user add`).
    pub const FOR_PEOPLE: [Role; 5] =
        [Role::Landlord, Role::Caretaker, Role::Shop, Role::Moderator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Landlord => "landlord",
            Role::Caretaker => "caretaker",
            Role::Shop => "shop",
            Role::Neighbourhood => "neighbourhood",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
            Role::Lift => "lift",
            Role::Feed => "feed",
        }
    }

    /// The channel this role publishes on and sees.
    pub fn channel(self) -> Channel {
        match self {
            Role::Landlord | Role::Caretaker | Role::Admin | Role::Lift => Channel::Building,
            Role::Shop => Channel::Shops,
            Role::Neighbourhood | Role::Moderator | Role::Feed => Channel::Neighbourhood,
        }
    }

    /// The item kinds this role may publish.
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Role::Landlord | Role::Caretaker | Role::Admin => &[Kind::Flash, Kind::News],
            Role::Shop => &[Kind::Promo],
            Role::Neighbourhood => &[Kind::Offer, Kind::Event, Kind::News],
            Role::Moderator => &[],
            Role::Lift => &[Kind::Flash],
            Role::Feed => &[Kind::Event, Kind::News],
        }
    }

    /// Only the neighbourhood app publishes on behalf of residents (and erases them).
    pub fn speaks_for_people(self) -> bool {
        self == Role::Neighbourhood
    }

    /// The landlord's team shares the building channel's items within its buildings.
    pub(crate) fn shares_items(self) -> bool {
        matches!(self, Role::Landlord | Role::Caretaker | Role::Admin)
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
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("role {s:?} is not one of {}", names.join(", "))
        })
    }
}
