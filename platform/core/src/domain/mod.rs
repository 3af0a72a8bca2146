//! The platform's domain: what it keeps and reasons about — publishers and their scope,
//! places (areas, devices, lifts), items and their plays, feeds — in plain types that know
//! no database, web framework or rule. The rules ([`crate::rules`]), the services
//! ([`crate::publishing`], [`crate::administration`]) and the store ([`crate::store`]) all speak them.

mod feeds;
mod items;
mod places;
mod publishers;
mod role;

pub use feeds::*;
pub use items::*;
pub use places::*;
pub use publishers::*;
pub use role::Role;
