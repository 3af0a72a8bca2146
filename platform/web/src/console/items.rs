//! The pages about items: the buildings one may act on, a building's items with filters, an
//! item with its proof of play (and its CSV export), withdrawal with a confirmation, the
//! pictures the pages show, and the moderation queue.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use palier_content::{Building, Kind};
use serde::Deserialize;

use super::page::{ConsoleError, Page, html, see_other};
use super::session::Signed;
use super::session::{ConsoleForm, set_notice, take_notice};
use super::text::Text;
use super::text::fill;
use super::view::{self, ItemState};
use crate::console::ConsoleState;
use crate::ids::{BuildingId, ItemId, MediaAddress};
use crate::moderation::{self, Moderation};
use crate::publishing::proof::{NotShown, ProofOfPlay};
use crate::rules;
use crate::store::ItemRecord;

/// Kinds the console's form publishes.
pub const FORM_KINDS: [Kind; 3] = [Kind::Flash, Kind::News, Kind::Promo];

/// A building the person may see, or 404 / 403.
pub async fn building(state: &ConsoleState, signed: &Signed, id: &str) -> Result<Building, ConsoleError> {
    let missing = || ConsoleError::NotFound(format!("building {id} does not exist"));
    let id = BuildingId::parse(id).map_err(|_| missing())?;
    Ok(state.publishing().building(&signed.actor, &id).await?)
}

pub fn tz(building: &Building) -> TimeZone {
    building.tz().unwrap_or(TimeZone::UTC)
}

fn item_id(id: &str) -> Result<ItemId, ConsoleError> {
    ItemId::parse(id).map_err(|_| ConsoleError::NotFound(format!("item {id} does not exist")))
}

struct BuildingCard {
    id: String,
    name: String,
    address: String,
    publish: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    page: Page,
    buildings: Vec<BuildingCard>,
    pending: Option<String>,
    administers: bool,
}

/// `GET /`: the buildings one may act on.
pub async fn home(State(state): State<ConsoleState>, signed: Signed) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let publisher = &signed.person.publisher;
    let kinds: Vec<Kind> = FORM_KINDS.into_iter().filter(|k| publisher.role.kinds().contains(k)).collect();
    let buildings = state
        .publishing()
        .buildings(&signed.actor)
        .await?
        .into_iter()
        .map(|b| BuildingCard {
            publish: kinds
                .iter()
                .map(|k| {
                    (
                        format!("/b/{}/new?kind={}", b.id, k.as_str()),
                        fill(t.publish_kind, &[view::kind_name(t, *k)]),
                    )
                })
                .collect(),
            id: b.id,
            name: b.name,
            address: b.address,
        })
        .collect();
    let pending = if rules::moderates(publisher) {
        let count = state.publishing().moderation_queue(&signed.actor).await?.len();
        (count > 0).then(|| fill(t.pending_count, &[&count.to_string()]))
    } else {
        None
    };
    let notice = take_notice(&signed.session).await?;
    let page = Page::signed(&signed, t.home_title, "/").with_notice(notice);
    html(&HomeTemplate { page, buildings, pending, administers: rules::may_administer(publisher).is_ok() })
}

/// One line of an item list.
#[derive(Debug, Clone)]
pub struct ItemLine {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub author: String,
    pub validity: String,
    pub state: &'static str,
    pub state_name: &'static str,
    pub thumbnail: Option<String>,
    pub body: String,
    pub reason: Option<String>,
    pub version: u64,
    pub updated: String,
}

pub fn line(t: &Text, record: &ItemRecord, tz: &TimeZone, now: jiff::Timestamp) -> ItemLine {
    let state = ItemState::of(record, now);
    ItemLine {
        id: record.id.to_string(),
        title: record.item.title.clone(),
        kind: view::kind_name(t, record.item.kind()),
        author: view::author(record),
        validity: fill(
            t.from_to,
            &[&view::local(t, record.item.valid_from, tz), &view::local(t, record.item.valid_until, tz)],
        ),
        state: state.as_str(),
        state_name: state.name(t),
        thumbnail: record.item.media.first().map(|m| format!("/media/{}", m.sha256)),
        body: record.item.body.clone(),
        reason: record.moderation.reason().map(str::to_owned),
        version: record.version,
        updated: view::local(t, record.updated_at, tz),
    }
}

#[derive(Debug, Deserialize)]
pub struct ItemsQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Template)]
#[template(path = "items.html")]
struct ItemsTemplate {
    page: Page,
    building: Building,
    lines: Vec<ItemLine>,
    states: Vec<(&'static str, &'static str, bool)>,
    kinds: Vec<(&'static str, &'static str, bool)>,
    publish: Vec<(String, String)>,
}

/// `GET /b/{building}/items`: the building's items the person may see, filtered.
pub async fn building_items(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(building_id): Path<String>,
    Query(query): Query<ItemsQuery>,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let building = building(&state, &signed, &building_id).await?;
    let tz = tz(&building);
    let now = state.now();
    let wanted_state = query.state.as_deref().and_then(ItemState::parse);
    let wanted_kind = query.kind.as_deref().and_then(Kind::parse);
    let id = BuildingId::parse(&building.id).map_err(ConsoleError::Internal)?;
    let lines = state
        .publishing()
        .items_of(&signed.actor, &id)
        .await?
        .iter()
        .filter(|r| wanted_state.is_none_or(|s| ItemState::of(r, now) == s))
        .filter(|r| wanted_kind.is_none_or(|k| r.item.kind() == k))
        .map(|r| line(t, r, &tz, now))
        .collect();
    let states = ItemState::ALL.iter().map(|s| (s.as_str(), s.name(t), wanted_state == Some(*s))).collect();
    let kinds =
        Kind::ALL.iter().map(|k| (k.as_str(), view::kind_name(t, *k), wanted_kind == Some(*k))).collect();
    let publisher = &signed.person.publisher;
    let publish = FORM_KINDS
        .into_iter()
        .filter(|k| publisher.role.kinds().contains(k))
        .map(|k| {
            (
                format!("/b/{}/new?kind={}", building.id, k.as_str()),
                fill(t.publish_kind, &[view::kind_name(t, k)]),
            )
        })
        .collect();
    let notice = take_notice(&signed.session).await?;
    let path = format!("/b/{}/items", building.id);
    let page = Page::signed(&signed, fill(t.items_title, &[&building.name]), &path).with_notice(notice);
    html(&ItemsTemplate { page, building, lines, states, kinds, publish })
}

/// One screen's line of a proof of play, in words.
struct ProofLine {
    device: String,
    screen: String,
    showings: u64,
    seconds: u64,
    first: String,
    last: String,
    why_not: String,
}

fn why_not(t: &Text, reason: &NotShown, tz: &TimeZone) -> String {
    match reason {
        NotShown::Withdrawn => t.reason_withdrawn.to_owned(),
        NotShown::WaitingForModeration => t.reason_pending.to_owned(),
        NotShown::Rejected => t.reason_rejected.to_owned(),
        NotShown::NotTargeted => t.reason_not_targeted.to_owned(),
        NotShown::NotYetValid { from } => fill(t.reason_not_yet_valid, &[&view::local(t, *from, tz)]),
        NotShown::Expired => t.reason_expired.to_owned(),
        NotShown::Offline { since } => fill(t.reason_offline, &[&view::local(t, *since, tz)]),
        NotShown::Silent => t.reason_silent.to_owned(),
        NotShown::NotSynced { device_generation, current_generation } => {
            fill(t.reason_not_synced, &[&device_generation.to_string(), &current_generation.to_string()])
        }
        NotShown::OutsideHours => t.reason_outside_hours.to_owned(),
        NotShown::WaitingForItsTurn => t.reason_waiting.to_owned(),
    }
}

fn proof_lines(t: &Text, proof: &ProofOfPlay, tz: &TimeZone) -> Vec<ProofLine> {
    proof
        .screens
        .iter()
        .map(|s| ProofLine {
            device: s.device_name.clone(),
            screen: s.screen.clone(),
            showings: s.showings,
            seconds: s.seconds,
            first: s.first_shown.map(|at| view::local(t, at, tz)).unwrap_or_default(),
            last: s.last_shown.map(|at| view::local(t, at, tz)).unwrap_or_default(),
            why_not: s.not_shown.as_ref().map(|r| why_not(t, r, tz)).unwrap_or_default(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemTemplate {
    page: Page,
    line: ItemLine,
    buildings: String,
    summary: String,
    proof: Vec<ProofLine>,
    can_edit: bool,
    can_withdraw: bool,
    severity: String,
}

/// « bld-a, area-pentes (12 buildings) »: what the item names, and how far it reaches.
fn targets_line(buildings: &[BuildingId], areas: &[crate::ids::AreaId], reach: usize) -> String {
    let named: Vec<&str> =
        buildings.iter().map(BuildingId::as_str).chain(areas.iter().map(|a| a.as_str())).collect();
    if areas.is_empty() { named.join(", ") } else { format!("{} ({reach})", named.join(", ")) }
}

async fn item_tz(
    state: &ConsoleState,
    signed: &Signed,
    record: &ItemRecord,
) -> Result<TimeZone, ConsoleError> {
    match record.reach.first() {
        Some(id) => {
            Ok(state.publishing().building(&signed.actor, id).await.map_or(TimeZone::UTC, |b| tz(&b)))
        }
        None => Ok(TimeZone::UTC),
    }
}

/// `GET /items/{id}`: the item, what became of it, and its proof of play.
pub async fn item_page(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let id = item_id(&id)?;
    let publishing = state.publishing();
    let record = publishing.item(&signed.actor, &id).await?;
    let proof = publishing.proof_of_play(&signed.actor, &id).await?;
    let tz = item_tz(&state, &signed, &record).await?;
    let publisher = &signed.person.publisher;
    let changeable = rules::may_change(publisher, &record).is_ok();
    let summary = fill(
        t.proof_summary,
        &[
            &proof.screens_shown.to_string(),
            &proof.screens.len().to_string(),
            &proof.showings.to_string(),
            &proof.seconds.to_string(),
        ],
    );
    let severity = match &record.item.details {
        palier_content::Details::Flash(flash) => match flash.severity {
            palier_content::Severity::Info => t.severity_info,
            palier_content::Severity::Important => t.severity_important,
            palier_content::Severity::Urgent => t.severity_urgent,
        }
        .to_owned(),
        _ => String::new(),
    };
    let template = ItemTemplate {
        line: line(t, &record, &tz, state.now()),
        buildings: targets_line(&record.buildings, &record.areas, record.reach.len()),
        summary,
        proof: proof_lines(t, &proof, &tz),
        can_edit: changeable && !record.is_withdrawn() && FORM_KINDS.contains(&record.item.kind()),
        can_withdraw: changeable && !record.is_withdrawn(),
        severity,
        page: Page::signed(&signed, record.item.title.clone(), &format!("/items/{id}"))
            .with_notice(take_notice(&signed.session).await?),
    };
    html(&template)
}

/// A CSV field, quoted when it must be (RFC 4180), and never read as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Builds a CSV document from a header and rows.
pub fn csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = header.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV download.
pub fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        format!("\u{feff}{body}"),
    )
        .into_response()
}

/// `GET /items/{id}/plays.csv`: the proof of play, one line per screen and one per showing.
pub async fn plays_csv(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = item_id(&id)?;
    let publishing = state.publishing();
    let proof = publishing.proof_of_play(&signed.actor, &id).await?;
    let plays = publishing.item_plays(&signed.actor, &id).await?;
    let mut rows: Vec<Vec<String>> = proof
        .screens
        .iter()
        .map(|s| {
            vec![
                "screen".to_owned(),
                s.building_id.to_string(),
                s.device_id.to_string(),
                s.device_name.clone(),
                s.screen.clone(),
                s.showings.to_string(),
                s.seconds.to_string(),
                s.first_shown.map(|t| t.to_string()).unwrap_or_default(),
                s.last_shown.map(|t| t.to_string()).unwrap_or_default(),
                s.not_shown
                    .as_ref()
                    .map(|r| {
                        serde_json::to_value(r)
                            .ok()
                            .and_then(|v| v["reason"].as_str().map(str::to_owned))
                            .unwrap_or_default()
                    })
                    .unwrap_or_default(),
                String::new(),
            ]
        })
        .collect();
    rows.extend(plays.plays.iter().map(|p| {
        vec![
            "showing".to_owned(),
            String::new(),
            p.device_id.to_string(),
            String::new(),
            p.screen.clone(),
            "1".to_owned(),
            (p.duration_ms / 1000).to_string(),
            p.started_at.to_string(),
            String::new(),
            if p.clock_trusted { String::new() } else { "clock_not_trusted".to_owned() },
            p.trigger.clone(),
        ]
    }));
    let header = [
        "line",
        "building",
        "device",
        "device_name",
        "screen",
        "showings",
        "seconds",
        "first_or_start",
        "last",
        "not_shown_or_note",
        "trigger",
    ];
    Ok(csv_response(&format!("{id}-plays.csv"), csv(&header, rows)))
}

#[derive(Template)]
#[template(path = "withdraw.html")]
struct WithdrawTemplate {
    page: Page,
    id: String,
    question: String,
}

/// `GET /items/{id}/withdraw`: asks once.
pub async fn withdraw_page(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let id = item_id(&id)?;
    let record = state.publishing().item(&signed.actor, &id).await?;
    rules::may_change(&signed.person.publisher, &record)?;
    let page = Page::signed(&signed, t.withdraw, &format!("/items/{id}/withdraw"));
    html(&WithdrawTemplate {
        page,
        id: id.to_string(),
        question: fill(t.withdraw_confirm, &[&record.item.title]),
    })
}

/// `POST /items/{id}/withdraw`.
pub async fn withdraw(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
    _form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let id = item_id(&id)?;
    state.publishing().withdraw(&signed.actor, &id).await?;
    set_notice(&signed.session, signed.lang.text().withdrawn_notice).await?;
    Ok(see_other(&format!("/items/{id}")))
}

/// `GET /media/{sha256}`: a picture for the pages of a logged-in person.
pub async fn media(
    State(state): State<ConsoleState>,
    _signed: Signed,
    Path(sha256): Path<String>,
) -> Result<Response, ConsoleError> {
    let missing = || ConsoleError::NotFound(format!("no picture at {sha256}"));
    let address = MediaAddress::parse(&sha256).map_err(|_| missing())?;
    let described = state.publishing().media(&address).await?.ok_or_else(missing)?;
    let bytes = state.media_files().read(address.as_str()).await.map_err(|_| missing())?;
    Ok((
        [(CONTENT_TYPE, described.mime), (CACHE_CONTROL, "private, max-age=31536000, immutable".to_owned())],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "moderation.html")]
struct ModerationTemplate {
    page: Page,
    lines: Vec<ItemLine>,
}

/// `GET /moderation`: residents' posts waiting, oldest first.
pub async fn moderation_page(
    State(state): State<ConsoleState>,
    signed: Signed,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let queue = state.publishing().moderation_queue(&signed.actor).await?;
    let now = state.now();
    let mut lines = Vec::with_capacity(queue.len());
    for record in &queue {
        lines.push(line(t, record, &item_tz(&state, &signed, record).await?, now));
    }
    let notice = take_notice(&signed.session).await?;
    let page = Page::signed(&signed, t.moderation_title, "/moderation").with_notice(notice);
    html(&ModerationTemplate { page, lines })
}

/// `POST /moderation/{id}`: approve, or reject with a reason.
pub async fn moderate(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
    form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let id = item_id(&id)?;
    let version: u64 = form.get("version").parse().map_err(|_| ConsoleError::BadForm("version".into()))?;
    let decision = match form.get("decision") {
        "approve" => moderation::Event::Approve,
        "reject" => moderation::Event::Reject { reason: form.get("reason").to_owned() },
        other => return Err(ConsoleError::BadForm(format!("decision {other:?} is not approve or reject"))),
    };
    let publishing = state.publishing();
    let title = publishing.item(&signed.actor, &id).await?.item.title;
    let decided = match publishing.moderate(&signed.actor, &id, version, decision).await {
        Ok(decided) => decided,
        Err(crate::publishing::PublishingError::Invalid(message)) => {
            set_notice(&signed.session, &fill(t.error_refused, &[&message])).await?;
            return Ok(see_other("/moderation"));
        }
        Err(e) => return Err(e.into()),
    };
    let notice = match decided {
        Moderation::Approved => fill(t.approved_notice, &[&title]),
        _ => fill(t.rejected_notice, &[&title]),
    };
    set_notice(&signed.session, &notice).await?;
    Ok(see_other("/moderation"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses() {
        let doc = csv(&["a", "b"], [vec!["Coupure d'eau, mardi".to_owned(), "=1+1".to_owned()]]);
        assert_eq!(doc, "a,b\r\n\"Coupure d'eau, mardi\",'=1+1\r\n");
        assert_eq!(csv_field("dit \"oui\""), "\"dit \"\"oui\"\"\"");
        assert_eq!(csv_field("a;b"), "\"a;b\"");
    }
}
