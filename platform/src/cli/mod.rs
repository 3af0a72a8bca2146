//! The `palier-platform` command line: [`args`] parses, [`run`] calls the services as the
//! operator ([`Administrator::CommandLine`]), [`text`] prints. Administration goes through
//! [`Administration`] like the console's, so every change leaves the same audit line; what
//! the service leaves unsaid (which command lists what was not found) is added here.

pub mod args;
pub mod text;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use jiff::Timestamp;
use palier_content::Kind;

use crate::administration::{
    AdminError, Administration, Administrator, AudienceArgs, ENROLMENT_CODE_TTL, NewBuilding, NewFeed,
    scope_line,
};
use crate::feeds;
use crate::ids::{AreaId, BuildingId, DeviceId, FeedId, PublisherId};
use crate::server::ConsoleSettings;
use crate::{AppState, DataDir, Role, Settings, serve};
use args::{
    AreaCommand, BuildingCommand, Cli, Command, DeviceCommand, FeedCommand, LiftCommand, PublisherCommand,
    ReleaseCommand, UserCommand,
};
use text::whole_seconds;

const OPERATOR: Administrator = Administrator::CommandLine;

/// The command that shows what an [`AdminError::Unknown`] or [`AdminError::Exists`] names.
fn advice(e: &AdminError) -> Option<&'static str> {
    Some(match e {
        AdminError::Unknown { what: "building", .. } => "`palier-platform building list` shows them",
        AdminError::Unknown { what: "building or area", .. } => {
            "`palier-platform building list` and `area list` show them"
        }
        AdminError::Unknown { what: "area", .. } => "`palier-platform area list` shows them",
        AdminError::Unknown { what: "person", .. } => "`palier-platform user list` shows them",
        AdminError::Unknown { what: "feed", .. } => "`palier-platform feed list` shows them",
        AdminError::Unknown { what: "device", .. } => "`palier-platform device list` shows them",
        AdminError::Unknown { what: "release with version", .. } => {
            "`palier-platform release add --bundle FILE` stores one; `release list` shows them"
        }
        AdminError::Exists { what: "area", .. } => "`palier-platform area join` adds buildings to it",
        AdminError::Exists { what: "lift", .. } => "`palier-platform lift list` shows them",
        AdminError::Exists { what: "person with e-mail", .. } => "`palier-platform user list` shows it",
        AdminError::Exists { what: "feed", .. } => "give another --id, or `feed remove` it first",
        AdminError::Exists { what: "release", .. } => {
            "a version is immutable: build the next one with a new --version"
        }
        _ => return None,
    })
}

/// An administration error as the command line says it: the service's words and the advice.
fn said(e: AdminError) -> anyhow::Error {
    match advice(&e) {
        Some(advice) => anyhow::anyhow!("{e}; {advice}"),
        None => e.into(),
    }
}

/// The administration service over the data directory.
async fn administration(data: &DataDir) -> Result<Administration> {
    let store = data.open_store().await?;
    Ok(Administration::new(store, Arc::new(data.media()?), Arc::new(Timestamp::now)))
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<()> {
    let data = DataDir::new(&cli.data);
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
            let rows = crate::transfer::export(&*store, &out).await?;
            println!("exported {rows} rows from {} to {}", store.describe(), out.display());
        }
        Command::Import { file, media_from } => {
            let store = data.open_store().await?;
            let media = data.media()?;
            let imported = crate::transfer::import(&*store, &media, &file, media_from.as_deref()).await?;
            println!(
                "imported {} rows into {} and {} media files into {}",
                imported.rows,
                store.describe(),
                imported.media_copied,
                media.describe()
            );
        }
        Command::Feed(command) => feed_command(&data, command).await?,
        Command::Release(command) => release_command(&data, command).await.map_err(said)?,
        Command::Serve { listen } => serve_until_signal(&data, listen).await?,
        other => {
            let admin = administration(&data).await?;
            administer(&admin, &data, other).await.map_err(said)?;
        }
    }
    Ok(())
}

/// The commands that only call the administration service.
async fn administer(admin: &Administration, data: &DataDir, command: Command) -> Result<(), AdminError> {
    let now = admin.now();
    let invalid = AdminError::Invalid;
    match command {
        Command::Building(BuildingCommand::Add { name, address, time_zone, locale, id }) => {
            let new = NewBuilding { id, name, address, time_zone, locale };
            println!("{}", admin.add_building(&OPERATOR, new).await?.id);
        }
        Command::Building(BuildingCommand::List) => {
            for b in admin.buildings(&OPERATOR).await? {
                println!("{}  {:?}  {:?}  {}  {}", b.id, b.name, b.address, b.time_zone, b.locale);
            }
        }
        Command::Building(BuildingCommand::Moderation { building, kinds }) => {
            let id = BuildingId::parse(&building).map_err(invalid)?;
            let kinds = kinds
                .iter()
                .filter(|k| !k.is_empty())
                .map(|k| {
                    Kind::parse(k).ok_or_else(|| invalid(format!("kind {k:?} is not offer, event or news")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            admin.set_moderated_kinds(&OPERATOR, &id, &kinds).await?;
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            let names = if names.is_empty() { "none".to_owned() } else { names.join(",") };
            println!("{building}: moderated kinds {names}");
        }
        Command::Publisher(PublisherCommand::Add { role, buildings, areas, name }) => {
            let scope: Vec<String> = buildings.into_iter().chain(areas).collect();
            let (publisher, token) = admin.add_publisher(&OPERATOR, &name, role, &scope).await?;
            eprintln!(
                "publisher {} ({}) for {}; the token below is shown only now",
                publisher.id,
                publisher.role,
                scope_line(&publisher)
            );
            println!("{token}");
        }
        Command::Publisher(PublisherCommand::List) => {
            for entry in admin.publishers(&OPERATOR).await? {
                let p = &entry.publisher;
                let status = entry
                    .revoked_at
                    .map_or("active".to_owned(), |at| format!("revoked {}", whole_seconds(at)));
                println!("{}  {}  {:?}  {}  {status}", p.id, p.role, p.name, scope_line(p));
            }
        }
        Command::Publisher(PublisherCommand::Revoke { id }) => {
            let id = PublisherId::parse(&id).map_err(invalid)?;
            if admin.revoke_publisher(&OPERATOR, &id).await? {
                println!("publisher {id} revoked");
            } else {
                println!("publisher {id} was already revoked");
            }
        }
        Command::Device(DeviceCommand::Code { building, roles, count }) => {
            for n in 0..count {
                let (code, expires) =
                    admin.create_enrolment_code(&OPERATOR, &building, &roles, ENROLMENT_CODE_TTL).await?;
                if n == 0 {
                    eprintln!(
                        "one-time enrolment code{} for {building} ({}), valid until {}",
                        if count > 1 { "s" } else { "" },
                        roles.join(","),
                        whole_seconds(expires)
                    );
                }
                println!("{code}");
            }
        }
        Command::Device(DeviceCommand::List) => {
            print!("{}", text::render_device_list(&admin.device_reports(&OPERATOR, None).await?, now));
        }
        Command::Device(DeviceCommand::Revoke { id }) => {
            let id = DeviceId::parse(&id).map_err(invalid)?;
            if admin.revoke_device(&OPERATOR, &id).await? {
                println!("device {id} revoked");
            } else {
                println!("device {id} was already revoked");
            }
        }
        Command::User(command) => user_command(admin, data, command).await?,
        Command::Area(AreaCommand::Add { name, kind, within, buildings, id }) => {
            let entry =
                admin.add_area(&OPERATOR, &name, kind, within.as_deref(), &buildings, id.as_deref()).await?;
            println!("{}", entry.area.id);
        }
        Command::Area(AreaCommand::Join { area, buildings }) => {
            let area = AreaId::parse(&area).map_err(invalid)?;
            let moved = admin.join_area(&OPERATOR, &area, &buildings).await?;
            println!(
                "{area}: {} building(s) added; {} received what was published to it",
                buildings.len(),
                moved.len()
            );
        }
        Command::Area(AreaCommand::List) => {
            print!("{}", text::render_area_list(&admin.areas(&OPERATOR).await?))
        }
        Command::Lift(LiftCommand::Add { building, name, id }) => {
            println!("{}", admin.add_lift(&OPERATOR, &building, &name, id.as_deref()).await?.id);
        }
        Command::Lift(LiftCommand::List) => {
            for lift in admin.lifts(&OPERATOR).await? {
                let status = match &lift.status {
                    None => "no status yet".to_owned(),
                    Some(s) if s.running => format!("in service since {}", whole_seconds(s.since)),
                    Some(s) => format!(
                        "out of service since {}{}",
                        whole_seconds(s.since),
                        s.expected_return
                            .map(|r| format!(", back around {}", whole_seconds(r)))
                            .unwrap_or_default()
                    ),
                };
                println!("{}  {:?}  {}  {status}", lift.id, lift.name, lift.building_id);
            }
        }
        Command::Init
        | Command::PublicKey
        | Command::Migrate
        | Command::Export { .. }
        | Command::Import { .. }
        | Command::Feed(_)
        | Command::Release(_)
        | Command::Serve { .. } => unreachable!("run() handles these"),
    }
    Ok(())
}

async fn user_command(
    admin: &Administration,
    data: &DataDir,
    command: UserCommand,
) -> Result<(), AdminError> {
    match command {
        UserCommand::Add { email, role, buildings, areas } => {
            let scope: Vec<String> = buildings.into_iter().chain(areas).collect();
            let added = admin.add_person(&OPERATOR, &email, role, &scope).await?;
            eprintln!(
                "{} ({}) added; send them this link to set a password, valid until {}:",
                added.person.email,
                added.person.publisher.role,
                whole_seconds(added.expires)
            );
            println!("{}/password/{}", public_base(data)?, added.password_token);
        }
        UserCommand::List => {
            let people = admin.people(&OPERATOR).await?;
            if people.is_empty() {
                println!("no people yet; `palier-platform user add` adds one");
            }
            for person in people {
                let state = match (person.disabled_at, &person.password_hash) {
                    (Some(at), _) => format!("disabled {}", whole_seconds(at)),
                    (None, None) => "no password yet".to_owned(),
                    (None, Some(_)) => "active".to_owned(),
                };
                let scope = if person.publisher.role == Role::Admin {
                    "all buildings".to_owned()
                } else {
                    scope_line(&person.publisher)
                };
                println!(
                    "{}  {}  {}  {scope}  {state}",
                    person.email, person.publisher.role, person.publisher.id
                );
            }
        }
        UserCommand::Disable { email } => {
            let person = admin.person_by_email(&OPERATOR, &email).await?;
            let said = if admin.disable_person(&OPERATOR, &person.publisher.id).await? {
                ""
            } else {
                "was already "
            };
            println!("{} {said}disabled", person.email);
        }
        UserCommand::Enable { email } => {
            let person = admin.person_by_email(&OPERATOR, &email).await?;
            let said =
                if admin.enable_person(&OPERATOR, &person.publisher.id).await? { "" } else { "was not " };
            println!("{} {said}enabled", person.email);
        }
        UserCommand::Change { email, role, buildings, areas } => {
            let person = admin.person_by_email(&OPERATOR, &email).await?;
            let scope: Vec<String> = buildings.into_iter().chain(areas).collect();
            if admin.change_person(&OPERATOR, &person.publisher.id, role, &scope).await? {
                println!("{}: now {role} for {}", person.email, scope.join(","));
            } else {
                println!("{}: already {role} for {}; nothing changed", person.email, scope.join(","));
            }
        }
        UserCommand::Link { email } => {
            let person = admin.person_by_email(&OPERATOR, &email).await?;
            let (token, expires) = admin.password_link(&OPERATOR, &person.publisher.id).await?;
            eprintln!("a new link for {}, valid until {}:", person.email, whole_seconds(expires));
            println!("{}/password/{token}", public_base(data)?);
        }
    }
    Ok(())
}

async fn release_command(data: &DataDir, command: ReleaseCommand) -> Result<(), AdminError> {
    let admin = administration(data).await.map_err(|e| AdminError::Invalid(format!("{e:#}")))?;
    match command {
        ReleaseCommand::Add { bundle } => {
            let release = admin.add_release(&OPERATOR, &bundle).await?;
            eprintln!("stored {} bytes as {}", release.bytes, release.sha256);
            println!("release {} for {}", release.version, release.compatible);
        }
        ReleaseCommand::Assign { version, building, device, percent, allow_downgrade } => {
            let audience = AudienceArgs { building, device, percent }.audience()?;
            let assignment = admin.assign_release(&OPERATOR, &version, audience, allow_downgrade).await?;
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
                _ => {
                    return Err(AdminError::Invalid(
                        "say exactly one of --building, --device or --fleet".into(),
                    ));
                }
            };
            if admin.unassign_release(&OPERATOR, &audience).await? {
                println!("{audience}: assignment removed; its boards keep what they run");
            } else {
                println!("{audience} had no assignment");
            }
        }
        ReleaseCommand::List => print!("{}", text::render_rollout(&admin.rollout(&OPERATOR).await?)),
    }
    Ok(())
}

async fn feed_command(data: &DataDir, command: FeedCommand) -> Result<()> {
    match command {
        FeedCommand::Add { scope, url, format, kind, moderated, name, every_minutes, id } => {
            let admin = administration(data).await?;
            let every = jiff::SignedDuration::from_mins(i64::from(every_minutes));
            let new = NewFeed { id, name, url, format, kind, moderated, every, scope };
            let feed = admin.add_feed(&OPERATOR, new).await.map_err(said)?;
            eprintln!("feed {} publishes to {}", feed.id, scope_line(&feed.publisher));
            println!("{}", feed.id);
        }
        FeedCommand::List => {
            let admin = administration(data).await?;
            let listed = admin.feeds_with_titles(&OPERATOR).await.map_err(said)?;
            print!("{}", text::render_feed_list(&listed, admin.now()));
        }
        FeedCommand::Fetch { id } => {
            let state = AppState::open(data, Settings::default()).await?;
            let publishing = state.publishing();
            let fetcher = feeds::fetch::Fetcher::new();
            let outcomes = match id {
                Some(id) => {
                    let id = FeedId::parse(&id).map_err(anyhow::Error::msg)?;
                    let feed = state.administration().feed(&OPERATOR, &id).await.map_err(said)?;
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
            let feed = state.administration().feed(&OPERATOR, &id).await.map_err(said)?;
            let withdrawn = feeds::runner::remove(state.publishing(), &feed).await?;
            println!("feed {id} removed; {withdrawn} item(s) left the screens");
        }
    }
    Ok(())
}

/// Where people reach the console: `public_url`, else the address `serve` listens on.
fn public_base(data: &DataDir) -> Result<String, AdminError> {
    let config = data.config().map_err(|e| AdminError::Invalid(e.to_string()))?;
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
