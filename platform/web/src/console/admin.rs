//! Admins' pages: people (add one with a one-time link to set a password, disable or enable
//! one), a building's settings (which residents' posts wait for a moderator), and the audit
//! log with its CSV export. Each calls the administration service, which asks
//! [`crate::rules::may_administer`] and writes the audit line.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::HOST;
use axum::response::Response;
use palier_content::{Building, Kind};
use serde::Deserialize;

use super::items::{building, csv, csv_response};
use super::page::{ConsoleError, Page, html, see_other};
use super::session::Signed;
use super::session::{ConsoleForm, set_notice, take_notice};
use super::text::fill;
use super::view::{self, kind_name, role_name};
use crate::administration::{AdminError, scope_line};
use crate::console::ConsoleState;
use crate::ids::{BuildingId, PublisherId};
use crate::rules::Role;

impl From<AdminError> for ConsoleError {
    fn from(e: AdminError) -> ConsoleError {
        match e {
            AdminError::Invalid(m) => ConsoleError::BadForm(m),
            e @ (AdminError::Unknown { .. } | AdminError::Exists { .. }) => {
                ConsoleError::BadForm(e.to_string())
            }
            AdminError::Forbidden(e) => e.into(),
            AdminError::Store(e) => e.into(),
        }
    }
}

struct PersonLine {
    id: String,
    email: String,
    role: &'static str,
    buildings: String,
    active: bool,
    /// The admin looking at the page (who cannot disable themself here).
    is_you: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeopleTemplate {
    page: Page,
    people: Vec<PersonLine>,
    roles: Vec<(&'static str, &'static str)>,
    buildings: Vec<Building>,
    link: Option<(String, String)>,
    error: Option<String>,
    email: String,
}

/// The address people reach this console at: `public_url` from `platform.toml`, else the
/// request's own host.
fn public_url(state: &ConsoleState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.console_settings().public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

async fn people_page_with(
    state: &ConsoleState,
    signed: &Signed,
    link: Option<(String, String)>,
    error: Option<String>,
    email: String,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let who = signed.administrator();
    let people = state
        .administration()
        .people(&who)
        .await?
        .into_iter()
        .map(|p| PersonLine {
            is_you: p.publisher.id == signed.person.publisher.id,
            id: p.publisher.id.to_string(),
            email: p.email,
            role: role_name(t, p.publisher.role),
            buildings: if p.publisher.role == Role::Admin {
                t.all_buildings.to_owned()
            } else {
                scope_line(&p.publisher)
            },
            active: p.disabled_at.is_none(),
        })
        .collect();
    let roles = Role::FOR_PEOPLE.iter().map(|r| (r.as_str(), role_name(t, *r))).collect();
    let notice = take_notice(&signed.session).await?;
    let page = Page::signed(signed, t.people_title, "/people").with_notice(notice);
    let buildings = state.administration().buildings(&who).await?;
    html(&PeopleTemplate { page, people, roles, buildings, link, error, email })
}

/// `GET /people`.
pub async fn people_page(
    State(state): State<ConsoleState>,
    signed: Signed,
) -> Result<Response, ConsoleError> {
    people_page_with(&state, &signed, None, None, String::new()).await
}

/// `POST /people`: adds a person and shows the link to send them.
pub async fn add_person(
    State(state): State<ConsoleState>,
    signed: Signed,
    headers: HeaderMap,
    form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let email = form.get("email").to_owned();
    let role: Role = form.get("role").parse().map_err(ConsoleError::BadForm)?;
    let buildings: Vec<String> = form.all("buildings").into_iter().map(str::to_owned).collect();
    if crate::administration::check_email(&email).is_err() {
        return people_page_with(&state, &signed, None, Some(t.error_email.to_owned()), email).await;
    }
    if role != Role::Admin && buildings.is_empty() {
        return people_page_with(&state, &signed, None, Some(t.error_buildings.to_owned()), email).await;
    }
    match state.administration().add_person(&signed.administrator(), &email, role, &buildings).await {
        Ok(added) => {
            let link = format!("{}/password/{}", public_url(&state, &headers), added.password_token);
            tracing::info!(by = %signed.person.publisher.id, person = %added.person.publisher.id, "person added");
            let intro = fill(t.link_created, &[&added.person.email]);
            people_page_with(&state, &signed, Some((intro, link)), None, String::new()).await
        }
        Err(e @ (AdminError::Invalid(_) | AdminError::Exists { .. } | AdminError::Unknown { .. })) => {
            people_page_with(&state, &signed, None, Some(e.to_string()), email).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /people/{id}/disable`.
pub async fn disable_person(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
    _form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let id = person_id(&id)?;
    state.administration().disable_person(&signed.administrator(), &id).await?;
    tracing::info!(by = %signed.person.publisher.id, person = %id, "person disabled");
    Ok(see_other("/people"))
}

/// `POST /people/{id}/enable`: a disabled account gets its access back.
pub async fn enable_person(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
    _form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let id = person_id(&id)?;
    state.administration().enable_person(&signed.administrator(), &id).await?;
    tracing::info!(by = %signed.person.publisher.id, person = %id, "person enabled");
    Ok(see_other("/people"))
}

fn person_id(id: &str) -> Result<PublisherId, ConsoleError> {
    PublisherId::parse(id).map_err(|_| ConsoleError::NotFound(format!("person {id} does not exist")))
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsTemplate {
    page: Page,
    building_id: String,
    kinds: Vec<(&'static str, &'static str, bool)>,
}

/// `GET /b/{building}/settings`.
pub async fn settings_page(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(building_id): Path<String>,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let building = building(&state, &signed, &building_id).await?;
    let id = BuildingId::parse(&building.id).map_err(ConsoleError::Internal)?;
    let moderated = state.administration().moderated_kinds(&signed.administrator(), &id).await?;
    let kinds = Role::Neighbourhood
        .kinds()
        .iter()
        .map(|k| (k.as_str(), kind_name(t, *k), moderated.contains(k)))
        .collect();
    let notice = take_notice(&signed.session).await?;
    let path = format!("/b/{}/settings", building.id);
    let page = Page::signed(&signed, fill(t.settings_title, &[&building.name]), &path).with_notice(notice);
    html(&SettingsTemplate { page, building_id: building.id, kinds })
}

/// `POST /b/{building}/settings`.
pub async fn save_settings(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(building_id): Path<String>,
    form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let building = building(&state, &signed, &building_id).await?;
    let id = BuildingId::parse(&building.id).map_err(ConsoleError::Internal)?;
    let kinds: Vec<Kind> = form.all("moderated").into_iter().filter_map(Kind::parse).collect();
    state.administration().set_moderated_kinds(&signed.administrator(), &id, &kinds).await?;
    set_notice(&signed.session, signed.lang.text().saved).await?;
    Ok(see_other(&format!("/b/{}/settings", building.id)))
}

struct AuditLine {
    when: String,
    who: String,
    via: &'static str,
    action: String,
    item: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditTemplate {
    page: Page,
    lines: Vec<AuditLine>,
    older: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    before: Option<u64>,
}

/// Lines per audit page.
const AUDIT_PAGE: usize = 200;

/// `GET /audit`: newest first, in pages.
pub async fn audit_page(
    State(state): State<ConsoleState>,
    signed: Signed,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let entries = state.administration().audit(&signed.administrator(), AUDIT_PAGE, query.before).await?;
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let older = (entries.len() == AUDIT_PAGE).then(|| entries.last().map(|e| e.seq)).flatten();
    let lines = entries
        .into_iter()
        .map(|e| AuditLine {
            when: view::local(t, e.at, &paris),
            who: e.actor_name,
            via: e.via.as_str(),
            action: e.action,
            item: e.item_id.map(|i| i.to_string()).unwrap_or_default(),
            detail: e.detail,
        })
        .collect();
    let page = Page::signed(&signed, t.audit_title, "/audit");
    html(&AuditTemplate { page, lines, older })
}

/// `GET /audit.csv`: the whole log, newest first.
pub async fn audit_csv(State(state): State<ConsoleState>, signed: Signed) -> Result<Response, ConsoleError> {
    let who = signed.administrator();
    let mut rows = Vec::new();
    let mut before = None;
    loop {
        let entries = state.administration().audit(&who, 1000, before).await?;
        let full = entries.len() == 1000;
        before = entries.last().map(|e| e.seq);
        rows.extend(entries.into_iter().map(|e| {
            vec![
                e.seq.to_string(),
                e.at.to_string(),
                e.actor.map(|a| a.to_string()).unwrap_or_default(),
                e.actor_name,
                e.via.as_str().to_owned(),
                e.action,
                e.item_id.map(|i| i.to_string()).unwrap_or_default(),
                e.detail,
            ]
        }));
        if !full {
            break;
        }
    }
    let header = ["seq", "at", "actor_id", "actor", "via", "action", "item", "detail"];
    Ok(csv_response("palier-audit.csv", csv(&header, rows)))
}
