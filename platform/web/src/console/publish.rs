//! The publish and edit form (flash, news, promotion) with the exact preview beside it.
//!
//! The form speaks the building's local time (`datetime-local` fields read in the building's
//! zone, daylight saving included; defaults: now and 24 hours later) and French words; its
//! errors come back with the person's text kept and each field in error named. It builds the
//! same JSON body the publishing API takes and hands it to the same service, so the rules are
//! the API's. An urgent flash asks once for confirmation. Each rendered form carries an id:
//! a second submission of the same form goes to what the first one published. "Preview"
//! runs the player's renderer on the draft (see [`super::preview`]); the page's script does
//! it as the person types, and without script the button does.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use palier_content::limits::{MAX_BODY_CHARS, MAX_SHORT_TEXT_CHARS, MAX_TITLE_CHARS};
use palier_content::{Building, Details, Kind, Severity};
use serde::Deserialize;
use serde_json::{Value, json};

use super::items::{FORM_KINDS, building, tz};
use super::page::{ConsoleError, Page, html, see_other};
use super::preview::{PreviewError, PreviewRequest, PreviewScreen};
use super::session::Signed;
use super::session::{ConsoleForm, already_done, new_form_id, remember_done, set_notice};
use super::text::{Text, fill};
use super::view::{self, kind_name};
use crate::console::ConsoleState;
use crate::ids::{BuildingId, ItemId};
use crate::moderation::Moderation;
use crate::publishing::{PublishingError, Target};
use crate::rules;
use crate::store::ItemRecord;

/// Which screens an item is for, as the form offers them.
const SCREEN_CHOICES: [(&str, &[&str]); 3] =
    [("all", &[]), ("lift", &["lift"]), ("lobby", &["lobby-left", "lobby-centre", "lobby-right"])];

/// What the person typed, kept as typed.
#[derive(Debug, Clone, Default)]
struct Fields {
    kind: String,
    title: String,
    body: String,
    severity: String,
    from: String,
    until: String,
    screens: String,
    /// `building`, `keep` (an edit: where the item is) or an area's id.
    reach: String,
    shop: String,
    price: String,
    hours: String,
    /// The picture already uploaded (kept across previews and errors).
    media: String,
    form_id: String,
    /// The version an edit started from.
    version: String,
}

impl Fields {
    fn from_form(form: &ConsoleForm) -> Fields {
        let get = |name: &str| form.get(name).to_owned();
        Fields {
            kind: get("kind"),
            title: get("title"),
            body: get("body").replace("\r\n", "\n"),
            severity: get("severity"),
            from: get("from"),
            until: get("until"),
            screens: get("screens"),
            reach: get("reach"),
            shop: get("shop"),
            price: get("price"),
            hours: get("hours"),
            media: get("media"),
            form_id: get("form_id"),
            version: get("version"),
        }
    }

    fn blank(kind: Kind, now: Timestamp, tz: &TimeZone) -> Fields {
        Fields {
            kind: kind.as_str().to_owned(),
            severity: "important".to_owned(),
            from: view::local_input(now, tz),
            until: view::local_input(now + SignedDuration::from_hours(24), tz),
            screens: "all".to_owned(),
            reach: "building".to_owned(),
            form_id: new_form_id(),
            ..Fields::default()
        }
    }

    fn of(record: &ItemRecord, tz: &TimeZone) -> Fields {
        let item = &record.item;
        let screens = SCREEN_CHOICES
            .iter()
            .find(|(_, roles)| {
                roles.len() == item.roles.len() && roles.iter().all(|r| item.roles.iter().any(|i| i == r))
            })
            .map_or("all", |(name, _)| name);
        let mut fields = Fields {
            kind: item.kind().as_str().to_owned(),
            title: item.title.clone(),
            body: item.body.clone(),
            severity: "important".to_owned(),
            from: view::local_input(item.valid_from, tz),
            until: view::local_input(item.valid_until, tz),
            screens: screens.to_owned(),
            reach: "keep".to_owned(),
            media: item.media.first().map(|m| m.sha256.clone()).unwrap_or_default(),
            form_id: new_form_id(),
            version: record.version.to_string(),
            ..Fields::default()
        };
        match &item.details {
            Details::Flash(flash) => fields.severity = flash.severity.as_str().to_owned(),
            Details::Promo(promo) => {
                fields.shop = promo.shop.clone();
                fields.price = promo.price.clone().unwrap_or_default();
                fields.hours = promo.opening_hours.clone().unwrap_or_default();
            }
            _ => {}
        }
        fields
    }
}

/// A field's error, named for the person.
#[derive(Debug, Clone)]
struct FieldError {
    field: &'static str,
    message: String,
}

/// Checks the form in the person's words; returns the publishing API's body. `building` is
/// the building whose page the form is on.
fn draft_body(
    t: &Text,
    fields: &Fields,
    id: &str,
    kind: Kind,
    building: &BuildingId,
    tz: &TimeZone,
    now: Timestamp,
) -> Result<Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut error = |field, message: String| errors.push(FieldError { field, message });
    let title = fields.title.trim();
    if title.is_empty() {
        error("title", t.error_title_missing.to_owned());
    } else if title.chars().count() > MAX_TITLE_CHARS {
        error("title", fill(t.error_title_long, &[&MAX_TITLE_CHARS.to_string()]));
    }
    if fields.body.chars().count() > MAX_BODY_CHARS {
        error("body", fill(t.error_body_long, &[&MAX_BODY_CHARS.to_string()]));
    }
    let from = view::parse_local_input(&fields.from, tz);
    let until = view::parse_local_input(&fields.until, tz);
    if from.is_none() {
        error("from", t.error_date.to_owned());
    }
    match (from, until) {
        (_, None) => error("until", t.error_date.to_owned()),
        (Some(from), Some(until)) if until <= from => error("until", t.error_until_before.to_owned()),
        (_, Some(until)) if until <= now => error("until", t.error_until_past.to_owned()),
        _ => {}
    }
    if kind == Kind::Promo && fields.shop.trim().is_empty() {
        error("shop", t.error_shop_missing.to_owned());
    }
    for (field, value) in [("shop", &fields.shop), ("price", &fields.price), ("hours", &fields.hours)] {
        if value.chars().count() > MAX_SHORT_TEXT_CHARS {
            error(field, fill(t.error_title_long, &[&MAX_SHORT_TEXT_CHARS.to_string()]));
        }
    }
    let (Some(from), Some(until)) = (from, until) else { return Err(errors) };
    if !errors.is_empty() {
        return Err(errors);
    }
    let roles = SCREEN_CHOICES.iter().find(|(name, _)| *name == fields.screens).map_or(&[][..], |(_, r)| *r);
    let mut body = json!({
        "id": id, "kind": kind.as_str(), "title": title, "body": fields.body.trim(),
        "valid_from": from.to_string(), "valid_until": until.to_string(),
        "roles": roles,
    });
    match fields.reach.as_str() {
        // An edit keeps the item's buildings and areas when none are named.
        "keep" => {}
        "building" | "" => body["buildings"] = json!([building.as_str()]),
        area => body["areas"] = json!([area]),
    }
    match kind {
        Kind::Flash => {
            let severity =
                Severity::ALL.into_iter().find(|s| s.as_str() == fields.severity).unwrap_or(Severity::Info);
            body["severity"] = json!(severity.as_str());
        }
        Kind::Promo => {
            body["shop"] = json!(fields.shop.trim());
            if !fields.price.trim().is_empty() {
                body["price"] = json!(fields.price.trim());
            }
            if !fields.hours.trim().is_empty() {
                body["opening_hours"] = json!(fields.hours.trim());
            }
        }
        _ => {}
    }
    if !fields.media.is_empty() {
        body["media"] = json!([{"sha256": fields.media}]);
    }
    Ok(body)
}

/// The id of a new item: its kind, words of its title, and a random tail.
fn new_item_id(kind: Kind, title: &str) -> String {
    let words = crate::administration::slug(title);
    let words: String = words.chars().take(32).collect();
    let words = words.trim_end_matches('-');
    let tail = crate::secret::new_id("x");
    let tail = tail.trim_start_matches("x-");
    if words.is_empty() {
        format!("{}-{tail}", kind.as_str())
    } else {
        format!("{}-{words}-{tail}", kind.as_str())
    }
}

/// One preview picture, or why there is none.
struct PreviewPicture {
    label: &'static str,
    data_uri: String,
    width: u32,
    height: u32,
}

#[derive(Template)]
#[template(path = "form.html")]
struct FormTemplate {
    page: Page,
    action: String,
    heading: String,
    fields: Fields,
    kind: Kind,
    tz_hint: String,
    errors: Vec<FieldError>,
    confirm_urgent: bool,
    preview: Vec<PreviewPicture>,
    /// The instant the preview shows (RFC 3339), for whoever wants to draw it again.
    preview_at: String,
    preview_message: Option<String>,
    renderer: bool,
    screen_choices: Vec<(&'static str, &'static str)>,
    reach_choices: Vec<(String, String)>,
}

impl FormTemplate {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    fn severities(&self) -> Vec<(&'static str, &'static str)> {
        let t = self.page.t;
        vec![("info", t.severity_info), ("important", t.severity_important), ("urgent", t.severity_urgent)]
    }
}

/// Where an item on this building's page may go: the building alone, the item's present
/// targets (an edit), or a whole area around the building that the person publishes to.
async fn reach_choices(
    state: &ConsoleState,
    signed: &Signed,
    building: &Building,
    record: Option<&ItemRecord>,
) -> Result<Vec<(String, String)>, ConsoleError> {
    let t = signed.lang.text();
    let mut choices = Vec::new();
    if let Some(record) = record {
        let targets =
            crate::store::Targets { buildings: record.buildings.clone(), areas: record.areas.clone() };
        choices.push(("keep".to_owned(), fill(t.reach_keep, &[&targets.describe()])));
    }
    choices.push(("building".to_owned(), fill(t.reach_building, &[&building.name])));
    let publisher = &signed.person.publisher;
    let entries = state.publishing().areas().await?;
    for entry in &entries {
        if !entry.reach.iter().any(|b| b.as_str() == building.id) {
            continue;
        }
        let mut around = vec![entry.area.id.clone()];
        let mut next = entry.area.within.clone();
        while let Some(id) = next.take().filter(|id| !around.contains(id)) {
            next = entries.iter().find(|e| e.area.id == id).and_then(|e| e.area.within.clone());
            around.push(id);
        }
        if rules::may_reach_area(publisher, &entry.area.id, &around).is_ok() {
            let label = fill(t.reach_area, &[&entry.area.name, &entry.reach.len().to_string()]);
            choices.push((entry.area.id.to_string(), label));
        }
    }
    Ok(choices)
}

fn screen_choices(t: &Text) -> Vec<(&'static str, &'static str)> {
    vec![("all", t.screens_all), ("lift", t.screens_lift), ("lobby", t.screens_lobby)]
}

/// What the form page needs besides the fields.
struct FormContext {
    building: Building,
    /// Where the item may go, as (value of `reach`, label).
    reach_choices: Vec<(String, String)>,
    kind: Kind,
    action: String,
    heading: String,
    target: Target,
}

async fn form_page(
    state: &ConsoleState,
    signed: &Signed,
    context: &FormContext,
    fields: Fields,
    errors: Vec<FieldError>,
    confirm_urgent: bool,
    preview: Option<Result<(Vec<Vec<u8>>, Timestamp), String>>,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let renderer = state.renderer().configured();
    let preview_at = match &preview {
        Some(Ok((_, at))) => at.to_string(),
        _ => String::new(),
    };
    let (preview, preview_message) = match preview {
        Some(Ok((pictures, _))) => {
            let screens = [PreviewScreen::lift(), PreviewScreen::lobby()];
            let labels = [t.preview_lift, t.preview_lobby];
            let shown = pictures
                .iter()
                .zip(screens.iter().zip(labels))
                .map(|(png, (screen, label))| PreviewPicture {
                    label,
                    data_uri: format!("data:image/png;base64,{}", STANDARD.encode(png)),
                    width: screen.width,
                    height: screen.height,
                })
                .collect();
            (shown, None)
        }
        Some(Err(message)) => (Vec::new(), Some(message)),
        None => (Vec::new(), None),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let template = FormTemplate {
        page: Page::signed(signed, context.heading.clone(), &context.action),
        action: context.action.clone(),
        heading: context.heading.clone(),
        fields,
        kind: context.kind,
        tz_hint: fill(t.local_time, &[&context.building.time_zone]),
        errors,
        confirm_urgent,
        preview,
        preview_at,
        preview_message,
        renderer,
        screen_choices: screen_choices(t),
        reach_choices: context.reach_choices.clone(),
    };
    Ok((status, html(&template)?).into_response())
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    kind: Option<String>,
}

fn form_kind(signed: &Signed, name: &str) -> Result<Kind, ConsoleError> {
    let kind = Kind::parse(name).filter(|k| FORM_KINDS.contains(k)).unwrap_or(Kind::Flash);
    rules::may_publish_kind(&signed.person.publisher, kind)?;
    Ok(kind)
}

/// `GET /b/{building}/new?kind=flash`.
pub async fn new_page(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(building_id): Path<String>,
    Query(query): Query<NewQuery>,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let building = building(&state, &signed, &building_id).await?;
    let kind = form_kind(&signed, query.kind.as_deref().unwrap_or("flash"))?;
    let context = FormContext {
        action: format!("/b/{}/new?kind={}", building.id, kind.as_str()),
        heading: fill(t.new_title, &[kind_name(t, kind)]),
        target: Target::Create,
        kind,
        reach_choices: reach_choices(&state, &signed, &building, None).await?,
        building,
    };
    let fields = Fields::blank(kind, state.now(), &tz(&context.building));
    form_page(&state, &signed, &context, fields, Vec::new(), false, None).await
}

/// `POST /b/{building}/new`.
pub async fn submit_new(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(building_id): Path<String>,
    form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let building = building(&state, &signed, &building_id).await?;
    let kind = form_kind(&signed, form.get("kind"))?;
    let context = FormContext {
        action: format!("/b/{}/new?kind={}", building.id, kind.as_str()),
        heading: fill(t.new_title, &[kind_name(t, kind)]),
        target: Target::Create,
        kind,
        reach_choices: reach_choices(&state, &signed, &building, None).await?,
        building,
    };
    submit(&state, &signed, &context, form).await
}

async fn editable(
    state: &ConsoleState,
    signed: &Signed,
    id: &str,
) -> Result<(ItemRecord, Building), ConsoleError> {
    let id = ItemId::parse(id).map_err(|_| ConsoleError::NotFound(format!("item {id} does not exist")))?;
    let record = state.publishing().item(&signed.actor, &id).await?;
    rules::may_change(&signed.person.publisher, &record)?;
    if !FORM_KINDS.contains(&record.item.kind()) || record.is_withdrawn() {
        return Err(ConsoleError::BadForm(format!("item {id} cannot be edited here")));
    }
    let first =
        record.reach.first().ok_or_else(|| ConsoleError::Internal(format!("item {id} has no building")))?;
    let building = state.publishing().building(&signed.actor, first).await?;
    Ok((record, building))
}

/// `GET /items/{id}/edit`.
pub async fn edit_page(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let (record, building) = editable(&state, &signed, &id).await?;
    let fields = Fields::of(&record, &tz(&building));
    let context = FormContext {
        action: format!("/items/{}/edit", record.id),
        heading: fill(t.edit_title, &[&record.item.title]),
        target: Target::Update(record.id.clone()),
        kind: record.item.kind(),
        reach_choices: reach_choices(&state, &signed, &building, Some(&record)).await?,
        building,
    };
    form_page(&state, &signed, &context, fields, Vec::new(), false, None).await
}

/// `POST /items/{id}/edit`: a new version.
pub async fn submit_edit(
    State(state): State<ConsoleState>,
    signed: Signed,
    Path(id): Path<String>,
    form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let (record, building) = editable(&state, &signed, &id).await?;
    let context = FormContext {
        action: format!("/items/{}/edit", record.id),
        heading: fill(t.edit_title, &[&record.item.title]),
        target: Target::Update(record.id.clone()),
        kind: record.item.kind(),
        reach_choices: reach_choices(&state, &signed, &building, Some(&record)).await?,
        building,
    };
    submit(&state, &signed, &context, form).await
}

/// Preview, confirm or publish, from a submitted form.
async fn submit(
    state: &ConsoleState,
    signed: &Signed,
    context: &FormContext,
    mut form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let t = signed.lang.text();
    let mut fields = Fields::from_form(&form);
    fields.kind = context.kind.as_str().to_owned();
    if let Some(done) = already_done(&signed.session, &fields.form_id).await? {
        return Ok(see_other(&done));
    }
    let now = state.now();
    let building_tz = tz(&context.building);
    let mut errors = Vec::new();
    if let Some(bytes) = form.file.take() {
        match state.publishing().upload_media(&signed.actor, bytes).await {
            Ok(uploaded) => fields.media = uploaded.media.sha256,
            Err(e) => errors
                .push(FieldError { field: "picture", message: fill(t.error_picture, &[&e.to_string()]) }),
        }
    }
    let id = match &context.target {
        Target::Create => new_item_id(context.kind, &fields.title),
        Target::Update(id) => id.to_string(),
    };
    let building_id = BuildingId::parse(&context.building.id).map_err(ConsoleError::Internal)?;
    let mut body = match draft_body(t, &fields, &id, context.kind, &building_id, &building_tz, now) {
        Ok(body) if errors.is_empty() => body,
        Ok(_) => return form_page(state, signed, context, fields, errors, false, None).await,
        Err(mut found) => {
            errors.append(&mut found);
            return form_page(state, signed, context, fields, errors, false, None).await;
        }
    };
    if let Target::Update(_) = context.target
        && let Ok(version) = fields.version.parse::<u64>()
    {
        body["version"] = json!(version + 1);
    }
    let publishing = state.publishing();
    if form.get("intent") == "preview" {
        let preview = match publishing.read_draft(&signed.actor, body, &context.target, now).await {
            Ok(draft) => render_preview(state, &context.building, draft.item, now).await,
            Err(e) => Err(fill(t.error_refused, &[&e.to_string()])),
        };
        return form_page(state, signed, context, fields, Vec::new(), false, Some(preview)).await;
    }
    let urgent = context.kind == Kind::Flash && fields.severity == "urgent";
    if urgent && !form.has("confirm_urgent") {
        return form_page(state, signed, context, fields, Vec::new(), true, None).await;
    }
    match publishing.publish(&signed.actor, body, context.target.clone()).await {
        Ok(published) => {
            let location = format!("/items/{}", published.item.id);
            remember_done(&signed.session, &fields.form_id, &location).await?;
            let notice = if published.moderation == Moderation::Pending {
                t.pending_notice
            } else {
                t.published_notice
            };
            set_notice(&signed.session, notice).await?;
            Ok(see_other(&location))
        }
        Err(PublishingError::Forbidden(refused)) => Err(refused.into()),
        Err(e @ (PublishingError::Store(_) | PublishingError::MediaFiles { .. })) => Err(e.into()),
        Err(refused) => {
            let errors =
                vec![FieldError { field: "form", message: fill(t.error_refused, &[&refused.to_string()]) }];
            form_page(state, signed, context, fields, errors, false, None).await
        }
    }
}

/// Draws the draft on a lift screen and a lobby screen, at the later of now and its start.
async fn render_preview(
    state: &ConsoleState,
    building: &Building,
    item: palier_content::Item,
    now: Timestamp,
) -> Result<(Vec<Vec<u8>>, Timestamp), String> {
    let at = Timestamp::from_second(item.valid_from.max(now).as_second() + 1).map_err(|e| e.to_string())?;
    let request = PreviewRequest {
        building: building.clone(),
        roles: vec!["lift".into(), "lobby-centre".into()],
        items: vec![serde_json::to_value(&item).map_err(|e| e.to_string())?],
        screens: vec![PreviewScreen::lift(), PreviewScreen::lobby()],
        at,
    };
    let pictures = state.renderer().render(request).await.map_err(|e| match e {
        PreviewError::NoRenderer => String::new(),
        other => other.to_string(),
    })?;
    Ok((pictures, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::text::FR;

    fn fields() -> Fields {
        Fields {
            kind: "flash".into(),
            title: "Coupure d'eau mardi".into(),
            severity: "urgent".into(),
            from: "2026-11-24T09:00".into(),
            until: "2026-11-24T12:00".into(),
            screens: "lift".into(),
            ..Fields::default()
        }
    }

    #[test]
    fn the_form_becomes_the_apis_body_in_the_buildings_time() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let now: Timestamp = "2026-11-24T07:00:00Z".parse().unwrap();
        let building = BuildingId::parse("bld-a").unwrap();
        let body = draft_body(&FR, &fields(), "flash-x", Kind::Flash, &building, &paris, now).unwrap();
        assert_eq!(body["valid_from"], "2026-11-24T08:00:00Z");
        assert_eq!(body["valid_until"], "2026-11-24T11:00:00Z");
        assert_eq!(body["severity"], "urgent");
        assert_eq!(body["roles"], json!(["lift"]));
        assert_eq!(body["buildings"], json!(["bld-a"]));
        // Where it goes: this building, a whole area, or (an edit) where it already is.
        // (reach, buildings, areas)
        let reaches = [
            ("building", json!(["bld-a"]), Value::Null),
            ("area-pentes", Value::Null, json!(["area-pentes"])),
            ("keep", Value::Null, Value::Null),
        ];
        for (reach, buildings, areas) in reaches {
            let f = Fields { reach: reach.into(), ..fields() };
            let body = draft_body(&FR, &f, "flash-x", Kind::Flash, &building, &paris, now).unwrap();
            assert_eq!((&body["buildings"], &body["areas"]), (&buildings, &areas), "{reach}");
        }

        // (change, field in error)
        let cases: Vec<(Box<dyn Fn(&mut Fields)>, &str)> = vec![
            (Box::new(|f| f.title = "  ".into()), "title"),
            (Box::new(|f| f.title = "x".repeat(201)), "title"),
            (Box::new(|f| f.from = "demain".into()), "from"),
            (Box::new(|f| f.until = "2026-11-24T08:00".into()), "until"),
            (Box::new(|f| f.until = "".into()), "until"),
        ];
        for (change, field) in cases {
            let mut f = fields();
            change(&mut f);
            let errors = draft_body(&FR, &f, "flash-x", Kind::Flash, &building, &paris, now).unwrap_err();
            assert_eq!(errors.iter().map(|e| e.field).collect::<Vec<_>>(), [field], "{f:?}");
        }
        let past = draft_body(
            &FR,
            &fields(),
            "flash-x",
            Kind::Flash,
            &building,
            &paris,
            now + SignedDuration::from_hours(6),
        );
        assert_eq!(past.unwrap_err()[0].message, FR.error_until_past);
        let mut promo = fields();
        promo.kind = "promo".into();
        let errors = draft_body(&FR, &promo, "p", Kind::Promo, &building, &paris, now).unwrap_err();
        assert_eq!(errors[0].field, "shop");
    }

    #[test]
    fn new_ids_are_readable_and_valid() {
        let id = new_item_id(Kind::Flash, "Coupure d’eau mardi 24 novembre, 9 h – 12 h (bâtiment B)");
        assert!(id.starts_with("flash-coupure-d-eau-mardi-24-novembre"), "{id}");
        assert!(ItemId::parse(&id).is_ok(), "{id}");
        assert!(ItemId::parse(&new_item_id(Kind::Promo, "")).is_ok());
    }
}
