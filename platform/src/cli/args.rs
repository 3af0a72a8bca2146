//! The `palier-platform` command's arguments (clap's derive): every command, flag and its help.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::feeds::{FeedFormat, FeedKind};
use crate::rules::Role;
use crate::store::AreaKind;

/// Palier's reference platform: publishing API, device API, administration.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// The data directory (database, signing key, media, platform.toml).
    #[arg(long, env = "PALIER_PLATFORM_DATA", global = true, default_value = "palier-platform-data")]
    pub data: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Creates the data directory, database and signing key; prints the public key to pin on
    /// boards. Running it again keeps the existing key.
    Init,
    /// Prints the public key to pin on boards.
    PublicKey,
    /// Applies the database migrations this build knows (`serve` and every verb do it too);
    /// prints the database and its schema version.
    Migrate,
    /// Writes the whole database to a file (JSON Lines), to move the installation to another
    /// store with `import`. Media files are not in it: `import --media-from` copies them.
    Export {
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Reads an `export` into this data directory's store, which must be new and empty
    /// (e.g. a PostgreSQL database named by `database_url`).
    Import {
        /// The file `export` wrote.
        #[arg(long)]
        file: PathBuf,
        /// The old installation's media directory (`<data>/media`): every file the export
        /// names is copied into this installation's media storage first, checked by SHA-256.
        #[arg(long)]
        media_from: Option<PathBuf>,
    },
    /// Buildings.
    #[command(subcommand)]
    Building(BuildingCommand),
    /// Publishers (landlords, shops, the neighbourhood app).
    #[command(subcommand)]
    Publisher(PublisherCommand),
    /// Devices (boards).
    #[command(subcommand)]
    Device(DeviceCommand),
    /// People who log in to the console (landlords, caretakers, shops, moderators, admins).
    #[command(subcommand)]
    User(UserCommand),
    /// Neighbourhoods and cities: buildings grouped so that one publication reaches them all.
    #[command(subcommand)]
    Area(AreaCommand),
    /// Feeds the platform fetches: a city's agenda (iCalendar), news (RSS, Atom).
    #[command(subcommand)]
    Feed(FeedCommand),
    /// System releases for boards: update bundles, and which version each board runs.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Lifts whose company's monitoring reports their status (POST /v1/lift/{id}/status).
    #[command(subcommand)]
    Lift(LiftCommand),
    /// Serves the API; prints `listening on http://ADDR` once listening.
    Serve {
        /// Address to listen on; default: `listen` in platform.toml, else 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BuildingCommand {
    /// Adds a building and prints its id.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        address: String,
        /// IANA time zone, e.g. Europe/Paris.
        #[arg(long)]
        time_zone: String,
        #[arg(long, default_value = "fr-FR")]
        locale: String,
        /// Id to use instead of one made from the name.
        #[arg(long)]
        id: Option<String>,
    },
    /// Lists the buildings.
    List,
    /// Which residents' posts wait for a moderator in a building (default: offer).
    Moderation {
        #[arg(long)]
        building: String,
        /// Comma-separated kinds among offer, event, news; empty for none.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AreaCommand {
    /// Adds a neighbourhood or a city and prints its id.
    Add {
        #[arg(long)]
        name: String,
        /// neighbourhood or city.
        #[arg(long, value_parser = parse_area_kind)]
        kind: AreaKind,
        /// The larger area it lies within (a neighbourhood's city): what targets the city
        /// reaches this area's buildings too.
        #[arg(long)]
        within: Option<String>,
        /// A building in it; repeat for several (`area join` adds more later).
        #[arg(long = "building")]
        buildings: Vec<String>,
        /// Id to use instead of one made from the name.
        #[arg(long)]
        id: Option<String>,
    },
    /// Puts buildings in an area: what was published to the area reaches them at once.
    Join {
        area: String,
        #[arg(long = "building", required = true)]
        buildings: Vec<String>,
    },
    /// Lists areas and their buildings.
    List,
}

fn parse_area_kind(text: &str) -> Result<AreaKind, String> {
    AreaKind::parse(text).ok_or_else(|| format!("{text:?} is neither neighbourhood nor city"))
}

#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Adds a feed and prints its id; the running platform fetches it at its next tick.
    Add {
        /// A building or an area it publishes to; repeat for several.
        #[arg(long = "scope", required = true)]
        scope: Vec<String>,
        #[arg(long)]
        url: String,
        /// ical, rss or atom.
        #[arg(long, value_parser = parse_feed_format)]
        format: FeedFormat,
        /// event (from an iCalendar agenda) or news (from RSS or Atom).
        #[arg(long, value_parser = parse_feed_kind)]
        kind: FeedKind,
        /// Its items wait for a moderator before reaching any screen.
        #[arg(long)]
        moderated: bool,
        /// What screens name as the items' origin, e.g. "Ville de Lyon — agenda".
        #[arg(long)]
        name: String,
        /// How often it is fetched, in minutes.
        #[arg(long, default_value_t = 15)]
        every_minutes: u32,
        /// Id to use instead of one made from the name.
        #[arg(long)]
        id: Option<String>,
    },
    /// Lists feeds: the last fetch, its error if any, and the items on screens.
    List,
    /// Fetches a feed now (every due feed without an id) and prints what it did.
    Fetch { id: Option<String> },
    /// Removes a feed: its items leave the screens and it is not fetched again.
    Remove { id: String },
}

fn parse_feed_format(text: &str) -> Result<FeedFormat, String> {
    FeedFormat::parse(text).ok_or_else(|| format!("{text:?} is not ical, rss or atom"))
}

fn parse_feed_kind(text: &str) -> Result<FeedKind, String> {
    FeedKind::parse(text).ok_or_else(|| format!("{text:?} is neither event nor news"))
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Stores an update bundle (`kiosk-image/build` writes one); prints its version and system.
    Add {
        #[arg(long)]
        bundle: PathBuf,
    },
    /// Sets the version boards should run: one device, one building, or a share of all.
    Assign {
        #[arg(long)]
        version: String,
        #[arg(long)]
        building: Option<String>,
        #[arg(long)]
        device: Option<String>,
        /// This share of all boards (the same boards each time; raise it to widen).
        #[arg(long)]
        percent: Option<u8>,
        /// Let boards that run a newer version go back to this one.
        #[arg(long)]
        allow_downgrade: bool,
    },
    /// Removes an assignment: the boards keep what they run.
    Unassign {
        #[arg(long)]
        building: Option<String>,
        #[arg(long)]
        device: Option<String>,
        /// The share of all boards (`--percent` of `assign`).
        #[arg(long)]
        fleet: bool,
    },
    /// Lists releases, assignments, and each board's version and update state.
    List,
}

#[derive(Debug, Subcommand)]
pub enum LiftCommand {
    /// Registers a lift and prints its id.
    Add {
        #[arg(long)]
        building: String,
        /// As residents call it, e.g. "Ascenseur A".
        #[arg(long)]
        name: String,
        /// Id to use instead of one made from the building and the name.
        #[arg(long)]
        id: Option<String>,
    },
    /// Lists lifts and their last status.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds a person and prints a one-time link to set their password (valid 24 h).
    Add {
        #[arg(long)]
        email: String,
        /// landlord, caretaker, shop, moderator or admin.
        #[arg(long)]
        role: Role,
        /// A building they act on; repeat for several (an admin reaches every building).
        #[arg(long = "building")]
        buildings: Vec<String>,
        /// An area they act on (every building in it, today's and later ones); repeatable.
        #[arg(long = "area")]
        areas: Vec<String>,
    },
    /// Lists people and their roles, buildings and state.
    List,
    /// Disables an account at once: its sessions stop working.
    Disable { email: String },
    /// Gives a disabled account its access back.
    Enable { email: String },
    /// Gives a person another role, buildings or areas (the scope is replaced, not added to).
    Change {
        email: String,
        /// landlord, caretaker, shop, moderator or admin.
        #[arg(long)]
        role: Role,
        /// A building they act on; repeat for several (an admin reaches every building).
        #[arg(long = "building")]
        buildings: Vec<String>,
        /// An area they act on; repeatable.
        #[arg(long = "area")]
        areas: Vec<String>,
    },
    /// Prints a new one-time link to set a person's password (a forgotten password).
    Link { email: String },
}

#[derive(Debug, Subcommand)]
pub enum PublisherCommand {
    /// Adds a publisher and prints its token, once.
    Add {
        /// landlord or caretaker (flash, news), shop (promo), neighbourhood (offer, event, news).
        #[arg(long)]
        role: Role,
        /// A building it may publish to; repeat for several.
        #[arg(long = "building", required_unless_present = "areas")]
        buildings: Vec<String>,
        /// An area it may publish to (every building in it, today's and later ones); repeatable.
        #[arg(long = "area")]
        areas: Vec<String>,
        /// A label for people, e.g. "Syndic Dupont".
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Lists publishers (never their tokens).
    List,
    /// Revokes a publisher's token at once; its items stay published.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Prints a one-time enrolment code for a building's board (expires after 24 h).
    Code {
        #[arg(long)]
        building: String,
        /// The board's screen roles, comma-separated, e.g. lift or lobby-left,lobby-right.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// How many codes to print, one per line (a batch of boards to install).
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
    /// Lists devices: last seen, synced generation, quarantined items.
    List,
    /// Revokes a device: its token stops working at once.
    Revoke { id: String },
}
