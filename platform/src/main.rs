//! `palier-platform`: the reference platform's command line. It parses arguments, calls the
//! library, prints results, and prints an error once (with its causes) before exiting 1.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use jiff::Timestamp;
use palier_content::Kind;
use palier_platform::admin::{self, ENROLMENT_CODE_TTL, NewBuilding};
use palier_platform::feeds::{self, FeedFormat, FeedKind};
use palier_platform::ids::{AreaId, BuildingId, DeviceId, FeedId, PublisherId};
use palier_platform::server::ConsoleSettings;
use palier_platform::store::{AreaKind, Change};
use palier_platform::{AppState, DataDir, Role, Settings, serve};

/// Palier's reference platform: publishing API, device API, administration.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The data directory (database, signing key, media, platform.toml).
    #[arg(long, env = "PALIER_PLATFORM_DATA", global = true, default_value = "palier-platform-data")]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
enum BuildingCommand {
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
enum AreaCommand {
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
enum FeedCommand {
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
enum ReleaseCommand {
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
enum LiftCommand {
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
enum UserCommand {
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
    /// Prints a new one-time link to set a person's password (a forgotten password).
    Link { email: String },
}

#[derive(Debug, Subcommand)]
enum PublisherCommand {
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
enum DeviceCommand {
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

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let outcome = tokio::runtime::Runtime::new().context("starting the async runtime").and_then(|runtime| {
        let outcome = runtime.block_on(run(cli));
        // Open event streams and blocking store calls must not hold the exit up.
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        outcome
    });
    if let Err(e) = outcome {
        eprintln!("palier-platform: error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let data = DataDir::new(&cli.data);
    let now = Timestamp::now();
    match cli.command {
        Command::Init => {
            let outcome = data.init().await?;
            if !outcome.created_key {
                eprintln!("{} was already initialised; kept its signing key", data.root().display());
            }
            println!("{}", outcome.public_key);
        }
        Command::PublicKey => println!("{}", data.load_signer()?.public_key()),
        Command::Migrate => {
            let store = data.open_store().await?;
            println!("{}: schema version {}", store.describe(), store.schema_version());
        }
        Command::Export { out } => {
            let store = data.open_store().await?;
            let rows = palier_platform::transfer::export(&*store, &out).await?;
            println!("exported {rows} rows from {} to {}", store.describe(), out.display());
        }
        Command::Import { file, media_from } => {
            let store = data.open_store().await?;
            let media = data.media()?;
            let imported =
                palier_platform::transfer::import(&*store, &media, &file, media_from.as_deref()).await?;
            println!(
                "imported {} rows into {} and {} media files into {}",
                imported.rows,
                store.describe(),
                imported.media_copied,
                media.describe()
            );
        }
        Command::Building(BuildingCommand::Add { name, address, time_zone, locale, id }) => {
            let store = data.open_store().await?;
            let building =
                admin::add_building(&*store, NewBuilding { id, name, address, time_zone, locale }, now)
                    .await?;
            println!("{}", building.id);
        }
        Command::Building(BuildingCommand::List) => {
            for b in data.open_store().await?.buildings().await? {
                println!("{}  {:?}  {:?}  {}  {}", b.id, b.name, b.address, b.time_zone, b.locale);
            }
        }
        Command::Publisher(PublisherCommand::Add { role, buildings, areas, name }) => {
            let store = data.open_store().await?;
            let scope: Vec<String> = buildings.into_iter().chain(areas).collect();
            let (publisher, token) =
                admin::add_publisher(&*store, &name, role, &scope, &Change::cli(now)).await?;
            eprintln!(
                "publisher {} ({}) for {}; the token below is shown only now",
                publisher.id,
                publisher.role,
                admin::scope_line(&publisher)
            );
            println!("{token}");
        }
        Command::Publisher(PublisherCommand::List) => {
            for entry in data.open_store().await?.publishers().await? {
                let p = &entry.publisher;
                let status = entry
                    .revoked_at
                    .map_or("active".to_owned(), |at| format!("revoked {}", admin::whole_seconds(at)));
                println!("{}  {}  {:?}  {}  {status}", p.id, p.role, p.name, admin::scope_line(p));
            }
        }
        Command::Publisher(PublisherCommand::Revoke { id }) => {
            let id = PublisherId::parse(&id).map_err(anyhow::Error::msg)?;
            if data.open_store().await?.revoke_publisher(&id, &Change::cli(now)).await? {
                println!("publisher {id} revoked");
            } else {
                println!("publisher {id} was already revoked");
            }
        }
        Command::Device(DeviceCommand::Code { building, roles, count }) => {
            let store = data.open_store().await?;
            for n in 0..count {
                let (code, expires) =
                    admin::create_enrolment_code(&*store, &building, &roles, now, ENROLMENT_CODE_TTL).await?;
                if n == 0 {
                    eprintln!(
                        "one-time enrolment code{} for {building} ({}), valid until {}",
                        if count > 1 { "s" } else { "" },
                        roles.join(","),
                        admin::whole_seconds(expires)
                    );
                }
                println!("{code}");
            }
        }
        Command::Device(DeviceCommand::List) => {
            print!(
                "{}",
                admin::render_device_list(&data.open_store().await?.device_reports(None).await?, now)
            );
        }
        Command::Device(DeviceCommand::Revoke { id }) => {
            let id = DeviceId::parse(&id).map_err(anyhow::Error::msg)?;
            if data.open_store().await?.revoke_device(&id, now).await? {
                println!("device {id} revoked");
            } else {
                println!("device {id} was already revoked");
            }
        }
        Command::Building(BuildingCommand::Moderation { building, kinds }) => {
            let id = BuildingId::parse(&building).map_err(anyhow::Error::msg)?;
            let kinds = kinds
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| {
                    Kind::parse(k).ok_or_else(|| anyhow::anyhow!("kind {k:?} is not offer, event or news"))
                })
                .collect::<Result<Vec<_>>>()?;
            data.open_store().await?.set_moderated_kinds(&id, &kinds, &Change::cli(now)).await?;
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            println!(
                "{building}: moderated kinds {}",
                if names.is_empty() { "none".to_owned() } else { names.join(",") }
            );
        }
        Command::User(UserCommand::Add { email, role, buildings, areas }) => {
            let store = data.open_store().await?;
            let scope: Vec<String> = buildings.into_iter().chain(areas).collect();
            let added = admin::add_person(&*store, &email, role, &scope, &Change::cli(now)).await?;
            let base = public_base(&data)?;
            eprintln!(
                "{} ({}) added; send them this link to set a password, valid until {}:",
                added.person.email,
                added.person.publisher.role,
                admin::whole_seconds(added.expires)
            );
            println!("{base}/password/{}", added.password_token);
        }
        Command::User(UserCommand::List) => {
            let people = data.open_store().await?.people().await?;
            if people.is_empty() {
                println!("no people yet; `palier-platform user add` adds one");
            }
            for person in people {
                let state = match (person.disabled_at, &person.password_hash) {
                    (Some(at), _) => format!("disabled {}", admin::whole_seconds(at)),
                    (None, None) => "no password yet".to_owned(),
                    (None, Some(_)) => "active".to_owned(),
                };
                let scope = if person.publisher.role == Role::Admin {
                    "all buildings".to_owned()
                } else {
                    admin::scope_line(&person.publisher)
                };
                println!(
                    "{}  {}  {}  {scope}  {state}",
                    person.email, person.publisher.role, person.publisher.id
                );
            }
        }
        Command::User(UserCommand::Disable { email }) => {
            let store = data.open_store().await?;
            let email = admin::check_email(&email)?;
            let person = store
                .person_by_email(&email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("nobody has the e-mail {email}"))?;
            if store.disable_person(&person.publisher.id, &Change::cli(now)).await? {
                println!("{email} disabled");
            } else {
                println!("{email} was already disabled");
            }
        }
        Command::User(UserCommand::Link { email }) => {
            let store = data.open_store().await?;
            let email = admin::check_email(&email)?;
            let person = store
                .person_by_email(&email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("nobody has the e-mail {email}"))?;
            let (token, expires) = admin::password_link(&*store, &person.publisher.id, now).await?;
            eprintln!("a new link for {email}, valid until {}:", admin::whole_seconds(expires));
            println!("{}/password/{token}", public_base(&data)?);
        }
        Command::Area(AreaCommand::Add { name, kind, within, buildings, id }) => {
            let store = data.open_store().await?;
            let entry =
                admin::add_area(&*store, &name, kind, within.as_deref(), &buildings, id.as_deref(), now)
                    .await?;
            println!("{}", entry.area.id);
        }
        Command::Area(AreaCommand::Join { area, buildings }) => {
            let store = data.open_store().await?;
            let area = AreaId::parse(&area).map_err(anyhow::Error::msg)?;
            let moved = admin::join_area(&*store, &area, &buildings, now).await?;
            println!(
                "{area}: {} building(s) added; {} received what was published to it",
                buildings.len(),
                moved.len()
            );
        }
        Command::Area(AreaCommand::List) => {
            print!("{}", admin::render_area_list(&data.open_store().await?.areas().await?))
        }
        Command::Feed(command) => feed_command(&data, command, now).await?,
        Command::Release(command) => release_command(&data, command, now).await?,
        Command::Lift(LiftCommand::Add { building, name, id }) => {
            let lift = admin::add_lift(&*data.open_store().await?, &building, &name, id.as_deref()).await?;
            println!("{}", lift.id);
        }
        Command::Lift(LiftCommand::List) => {
            for lift in data.open_store().await?.lifts().await? {
                let status = match &lift.status {
                    None => "no status yet".to_owned(),
                    Some(s) if s.running => format!("in service since {}", admin::whole_seconds(s.since)),
                    Some(s) => format!(
                        "out of service since {}{}",
                        admin::whole_seconds(s.since),
                        s.expected_return
                            .map(|r| format!(", back around {}", admin::whole_seconds(r)))
                            .unwrap_or_default()
                    ),
                };
                println!("{}  {:?}  {}  {status}", lift.id, lift.name, lift.building_id);
            }
        }
        Command::Serve { listen } => serve_until_signal(&data, listen).await?,
    }
    Ok(())
}

async fn release_command(data: &DataDir, command: ReleaseCommand, now: Timestamp) -> Result<()> {
    use palier_platform::releases::commands::{self, AudienceArgs};
    let store = data.open_store().await?;
    match command {
        ReleaseCommand::Add { bundle } => {
            let media = data.media()?;
            let release = commands::add(&*store, &media, &bundle, now).await?;
            eprintln!("stored {} bytes as {}", release.bytes, release.sha256);
            println!("release {} for {}", release.version, release.compatible);
        }
        ReleaseCommand::Assign { version, building, device, percent, allow_downgrade } => {
            let audience = AudienceArgs { building, device, percent }.audience()?;
            let assignment = commands::assign(&*store, &version, audience, allow_downgrade, now).await?;
            println!(
                "{} should run {}; boards pick it up at their next sync",
                assignment.audience.key(),
                assignment.version
            );
        }
        ReleaseCommand::Unassign { building, device, fleet } => {
            let audience = match (building, device, fleet) {
                (Some(b), None, false) => format!("building:{b}"),
                (None, Some(d), false) => format!("device:{d}"),
                (None, None, true) => "fleet".to_owned(),
                _ => anyhow::bail!("say exactly one of --building, --device or --fleet"),
            };
            if store.unassign_release(&audience).await? {
                println!("{audience}: assignment removed; its boards keep what they run");
            } else {
                println!("{audience} had no assignment");
            }
        }
        ReleaseCommand::List => print!("{}", commands::render_list(&*store).await?),
    }
    Ok(())
}

async fn feed_command(data: &DataDir, command: FeedCommand, now: Timestamp) -> Result<()> {
    match command {
        FeedCommand::Add { scope, url, format, kind, moderated, name, every_minutes, id } => {
            let every = jiff::SignedDuration::from_mins(i64::from(every_minutes));
            let new = admin::NewFeed { id, name, url, format, kind, moderated, every, scope };
            let feed = admin::add_feed(&*data.open_store().await?, new, now).await?;
            eprintln!("feed {} publishes to {}", feed.id, admin::scope_line(&feed.publisher));
            println!("{}", feed.id);
        }
        FeedCommand::List => {
            let store = data.open_store().await?;
            let mut listed = Vec::new();
            for feed in store.feeds().await? {
                let mut live = Vec::new();
                for known in store.feed_items(&feed.id).await? {
                    if let Some(record) = store.item(&known.item_id).await?
                        && !record.is_withdrawn()
                    {
                        live.push((record.item.valid_from, format!("{}  {}", record.id, record.item.title)));
                    }
                }
                live.sort();
                let shown = live.len().min(8);
                let mut titles: Vec<String> = live.into_iter().take(shown).map(|(_, t)| t).collect();
                if feed.live_items > shown {
                    titles.push(format!("… and {} more", feed.live_items - shown));
                }
                listed.push((feed, titles));
            }
            print!("{}", admin::render_feed_list(&listed, now));
        }
        FeedCommand::Fetch { id } => {
            let state = AppState::open(data, Settings::default()).await?;
            let publishing = state.publishing();
            let fetcher = feeds::fetch::Fetcher::new();
            let outcomes = match id {
                Some(id) => {
                    let id = FeedId::parse(&id).map_err(anyhow::Error::msg)?;
                    let feed = publishing.store().feed(&id).await?.ok_or_else(|| {
                        anyhow::anyhow!("feed {id} does not exist; `palier-platform feed list` shows them")
                    })?;
                    vec![(id, feeds::sync::fetch_feed(publishing, &fetcher, &feed).await)]
                }
                None => feeds::runner::fetch_due(publishing, &fetcher).await?,
            };
            let mut failed = false;
            for (id, outcome) in outcomes {
                match &outcome.error {
                    None => println!("{id}: {}", outcome.report()),
                    Some(error) => {
                        failed = true;
                        println!("{id}: FAILED, nothing changed: {error}");
                    }
                }
            }
            if failed {
                anyhow::bail!("a feed could not be fetched; `palier-platform feed list` keeps the error");
            }
        }
        FeedCommand::Remove { id } => {
            let state = AppState::open(data, Settings::default()).await?;
            let id = FeedId::parse(&id).map_err(anyhow::Error::msg)?;
            let feed = state.store().feed(&id).await?.ok_or_else(|| {
                anyhow::anyhow!("feed {id} does not exist; `palier-platform feed list` shows them")
            })?;
            let withdrawn = feeds::runner::remove(state.publishing(), &feed).await?;
            println!("feed {id} removed; {withdrawn} item(s) left the screens");
        }
    }
    Ok(())
}

/// Where people reach the console: `public_url`, else the address `serve` listens on.
fn public_base(data: &DataDir) -> Result<String> {
    let config = data.config()?;
    Ok(match config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            format!("http://{}", config.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))))
        }
    })
}

async fn serve_until_signal(data: &DataDir, listen: Option<SocketAddr>) -> Result<()> {
    let config = data.config()?;
    let addr = listen.or(config.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let secure_cookies = config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    if let Some(player) = &config.player
        && !player.is_file()
    {
        tracing::warn!(player = %player.display(), "the preview renderer is not there; the console shows no previews");
    }
    let console = ConsoleSettings {
        player: config.player.clone(),
        public_url: config.public_url.clone(),
        secure_cookies,
    };
    let state = AppState::open(data, Settings { console, ..Settings::default() }).await?;
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{bound}")
        .and_then(|_| stdout.flush())
        .context("writing to stdout")?;
    drop(stdout);
    serve(listener, state, shutdown_signal()).await.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => _ = signal.recv().await,
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
