//! The publisher console: server-rendered pages over the same service and rules as the
//! publishing API, for landlords, caretakers, shops, moderators and admins, French first,
//! usable on a phone, with a keyboard and with a screen reader.
//!
//! - [`session`]: console sessions in the platform's store, CSRF, the `Signed` person.
//! - [`auth`]: log in (rate-limited per account and per address), log out, set a password.
//! - [`items`]: a building's items, an item with its proof of play, withdrawal, moderation.
//! - [`publish`]: the publish and edit form with its exact preview ([`preview`] runs
//!   `palier-player render`; the platform never links the player).
//! - [`screens`]: what each board and screen of a building reports, and shows now.
//! - [`admin`]: people, building settings and the audit log (admins only).
//! - [`text`]: every sentence in French and English; [`view`]: dates, durations, labels.
//!
//! Templates live in `platform/templates/` and are checked at compile time (askama).

pub mod admin;
pub mod auth;
pub mod items;
pub mod preview;
pub mod publish;
pub mod screens;
pub mod session;
pub mod text;
pub mod view;

use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::publishing::PublishingError;
use crate::rules::Forbidden;
use crate::server::AppState;
use crate::store::StoreError;
pub use session::{Signed, StoreSessions};
pub use text::Text;

/// The console's language: French unless the browser or the switch asks for English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn text(self) -> &'static Text {
        match self {
            Lang::Fr => &text::FR,
            Lang::En => &text::EN,
        }
    }

    fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_', ';']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    fn from_query(parts: &Parts) -> Option<Lang> {
        let query = parts.uri.query()?;
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Lang::parse(&v))
    }

    /// The `?lang=` switch, then the `lang` cookie it leaves, then `Accept-Language`.
    pub fn from_parts(parts: &Parts) -> Lang {
        if let Some(lang) = Lang::from_query(parts) {
            return lang;
        }
        let cookie = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == "lang").then(|| Lang::parse(value)).flatten()
            });
        if let Some(lang) = cookie {
            return lang;
        }
        let accepted = parts.headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        accepted.split(',').find_map(Lang::parse).unwrap_or(Lang::Fr)
    }
}

/// What every page shows around its content: the language, who is logged in, the CSRF
/// token for the header's log-out form, a notice after an action, the navigation.
#[derive(Debug, Clone)]
pub struct Page {
    pub t: &'static Text,
    pub title: String,
    /// `None` on the login and password pages.
    pub person: Option<String>,
    pub csrf: String,
    pub notice: Option<String>,
    pub moderates: bool,
    pub administers: bool,
    /// The current path, for the language switch.
    pub path: String,
}

impl Page {
    /// A page for a logged-in person.
    pub fn signed(signed: &Signed, title: impl Into<String>, path: &str) -> Page {
        let publisher = &signed.person.publisher;
        Page {
            t: signed.lang.text(),
            title: title.into(),
            person: Some(format!(
                "{} ({})",
                signed.person.email,
                view::role_name(signed.lang.text(), publisher.role)
            )),
            csrf: signed.csrf.clone(),
            notice: None,
            moderates: crate::rules::moderates(publisher),
            administers: crate::rules::may_administer(publisher).is_ok(),
            path: path.to_owned(),
        }
    }

    /// A page for someone not logged in.
    pub fn anonymous(lang: Lang, title: impl Into<String>, csrf: String, path: &str) -> Page {
        Page {
            t: lang.text(),
            title: title.into(),
            person: None,
            csrf,
            notice: None,
            moderates: false,
            administers: false,
            path: path.to_owned(),
        }
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Page {
        self.notice = notice;
        self
    }

    /// A sentence with one value, for templates.
    pub fn fill(&self, template: &str, value: &str) -> String {
        text::fill(template, &[value])
    }

    /// « Connecté : camille@… (Gardien) ».
    pub fn signed_in(&self) -> String {
        text::fill(self.t.signed_in_as, &[self.person.as_deref().unwrap_or("")])
    }

    /// The current page in the other language.
    pub fn other_lang_href(&self) -> String {
        let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let kept: Vec<String> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k != "lang")
            .map(|(k, v)| format!("{}={}", enc(&k), enc(&v)))
            .collect();
        let mut href = format!("{path}?lang={}", self.t.other_lang);
        for pair in kept {
            href.push('&');
            href.push_str(&pair);
        }
        href
    }
}

/// Percent-encodes a query component.
pub fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Why a console request failed; each becomes a page in the request's language.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("log in first")]
    LoginNeeded { next: String },
    #[error("{0}")]
    Forbidden(#[from] Forbidden),
    #[error("{0}")]
    NotFound(String),
    #[error("the form's CSRF token is missing or wrong")]
    Csrf,
    #[error("{0}")]
    BadForm(String),
    #[error("too many attempts; wait {wait_s} s")]
    TooMany { wait_s: u64 },
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> ConsoleError {
        PublishingError::from(e).into()
    }
}

impl From<PublishingError> for ConsoleError {
    fn from(e: PublishingError) -> ConsoleError {
        match e {
            PublishingError::Forbidden(f) => ConsoleError::Forbidden(f),
            PublishingError::NotFound(m) => ConsoleError::NotFound(m),
            PublishingError::Invalid(m)
            | PublishingError::Conflict { message: m, .. }
            | PublishingError::ManifestFull(m) => ConsoleError::BadForm(m),
            PublishingError::Upload(e) => ConsoleError::BadForm(e.to_string()),
            other => ConsoleError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for ConsoleError {
    fn from(e: askama::Error) -> ConsoleError {
        ConsoleError::Internal(format!("template: {e}"))
    }
}

/// The error a response carries until [`error_pages`] renders it in the request's language.
#[derive(Debug, Clone)]
struct ErrorPage {
    status: StatusCode,
    detail: String,
    /// For a refusal, the rule: the page says it in the person's language.
    rule: Option<crate::rules::Rule>,
}

/// A refusal's rule, in words.
fn forbidden_sentence(t: &Text, rule: crate::rules::Rule) -> &'static str {
    use crate::rules::Rule;
    match rule {
        Rule::RoleKinds => t.forbidden_kinds,
        Rule::RoleChannel => t.forbidden_channel,
        Rule::BuildingScope => t.forbidden_scope,
        Rule::Ownership => t.forbidden_ownership,
        Rule::People => t.forbidden_people,
        Rule::Moderation => t.forbidden_moderation,
        Rule::Admin => t.forbidden_admin,
        Rule::Screens => t.forbidden_screens,
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let mut rule = None;
        let (status, detail) = match self {
            ConsoleError::LoginNeeded { next } => {
                let location = format!("/login?next={}", enc(&next));
                return (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response();
            }
            ConsoleError::Forbidden(f) => {
                rule = Some(f.rule);
                (StatusCode::FORBIDDEN, f.message)
            }
            ConsoleError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ConsoleError::Csrf => (StatusCode::FORBIDDEN, String::new()),
            ConsoleError::BadForm(m) => (StatusCode::BAD_REQUEST, m),
            ConsoleError::TooMany { wait_s } => {
                (StatusCode::TOO_MANY_REQUESTS, wait_s.div_ceil(60).to_string())
            }
            ConsoleError::Internal(m) => {
                tracing::error!("console: {m}");
                (StatusCode::INTERNAL_SERVER_ERROR, String::new())
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPage { status, detail, rule });
        response
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    page: Page,
    heading: String,
    detail: String,
}

/// Renders console errors as pages in the request's language, and keeps the `?lang=`
/// switch in a cookie.
async fn error_pages(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let lang = Lang::from_parts(&parts);
    let switched = Lang::from_query(&parts);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(error) = response.extensions_mut().remove::<ErrorPage>() {
        let t = lang.text();
        let (heading, detail) = match error.status {
            StatusCode::FORBIDDEN if error.rule.is_some() => {
                (t.error_403, error.rule.map(|r| forbidden_sentence(t, r)).unwrap_or_default().to_owned())
            }
            StatusCode::FORBIDDEN if error.detail.is_empty() => (t.error_403, t.error_csrf.to_owned()),
            StatusCode::FORBIDDEN => (t.error_403, error.detail),
            StatusCode::NOT_FOUND => (t.error_404, error.detail),
            StatusCode::TOO_MANY_REQUESTS => (t.error_429, text::fill(t.too_many, &[&error.detail])),
            StatusCode::BAD_REQUEST => (t.error_400, error.detail),
            _ => (t.error_500, String::new()),
        };
        let page = Page::anonymous(lang, heading, String::new(), &path);
        let html = ErrorTemplate { page, heading: heading.to_owned(), detail }
            .render()
            .unwrap_or_else(|_| heading.to_owned());
        let headers = std::mem::take(response.headers_mut());
        response = (error.status, Html(html)).into_response();
        for (name, value) in headers.iter() {
            if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
                response.headers_mut().append(name, value.clone());
            }
        }
    }
    if let Some(lang) = switched {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.text().lang);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

const CONSOLE_CSS: &str = include_str!("../../templates/console.css");
const CONSOLE_JS: &str = include_str!("../../templates/console.js");

async fn stylesheet() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "max-age=3600")], CONSOLE_CSS)
}

async fn script() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "max-age=3600")], CONSOLE_JS)
}

/// How long a console session lasts without use.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(12);

/// The console's routes, with their session layer.
pub fn routes(state: &AppState) -> Router<AppState> {
    let sessions = SessionManagerLayer::new(StoreSessions::new(state.store_arc()))
        .with_name("palier_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(state.console_settings().secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));
    Router::new()
        .route("/", get(items::home))
        .route("/login", get(auth::login_page).post(auth::log_in))
        .route("/logout", post(auth::log_out))
        .route("/password/{token}", get(auth::password_page).post(auth::set_password))
        .route("/b/{building}/items", get(items::building_items))
        .route("/b/{building}/new", get(publish::new_page).post(publish::submit_new))
        .route("/b/{building}/screens", get(screens::screens_page))
        .route("/b/{building}/screens/{device}/{screen}", get(screens::thumbnail))
        .route("/b/{building}/settings", get(admin::settings_page).post(admin::save_settings))
        .route("/items/{id}", get(items::item_page))
        .route("/items/{id}/plays.csv", get(items::plays_csv))
        .route("/items/{id}/edit", get(publish::edit_page).post(publish::submit_edit))
        .route("/items/{id}/withdraw", get(items::withdraw_page).post(items::withdraw))
        .route("/media/{sha256}", get(items::media))
        .route("/moderation", get(items::moderation_page))
        .route("/moderation/{id}", post(items::moderate))
        .route("/people", get(admin::people_page).post(admin::add_person))
        .route("/people/{id}/disable", post(admin::disable_person))
        .route("/audit", get(admin::audit_page))
        .route("/audit.csv", get(admin::audit_csv))
        .route("/console.css", get(stylesheet))
        .route("/console.js", get(script))
        .layer(middleware::from_fn(error_pages))
        .layer(sessions)
}

/// Renders a template into an HTML answer.
pub fn html(template: &impl Template) -> Result<Response, ConsoleError> {
    Ok(Html(template.render()?).into_response())
}

/// A redirect after a successful form (303: the browser then GETs the page).
pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

/// Reads the console's state; exists so handlers name what they use.
pub type ConsoleState = State<AppState>;

#[cfg(test)]
mod tests {
    use axum::http::Request as HttpRequest;

    use super::*;

    #[test]
    fn the_language_comes_from_the_switch_the_cookie_then_the_browser() {
        let lang = |uri: &str, headers: &[(&str, &str)]| {
            let mut request = HttpRequest::builder().uri(uri);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let (parts, _) = request.body(()).unwrap().into_parts();
            Lang::from_parts(&parts)
        };
        // (uri, headers, language)
        let cases: Vec<(&str, Vec<(&str, &str)>, Lang)> = vec![
            ("/", vec![], Lang::Fr),
            ("/", vec![("accept-language", "en-GB,en;q=0.9")], Lang::En),
            ("/", vec![("accept-language", "de-DE,en;q=0.5")], Lang::En),
            ("/", vec![("accept-language", "fr-FR,en;q=0.5")], Lang::Fr),
            ("/", vec![("accept-language", "en"), ("cookie", "a=b; lang=fr")], Lang::Fr),
            ("/?lang=en", vec![("cookie", "lang=fr")], Lang::En),
            ("/x?lang=xx", vec![], Lang::Fr),
        ];
        for (uri, headers, expected) in cases {
            assert_eq!(lang(uri, &headers), expected, "{uri} {headers:?}");
        }
    }

    #[test]
    fn the_switch_keeps_the_rest_of_the_query() {
        let page = Page::anonymous(Lang::Fr, "t", String::new(), "/b/x/items?state=live&lang=fr");
        assert_eq!(page.other_lang_href(), "/b/x/items?lang=en&state=live");
    }
}
