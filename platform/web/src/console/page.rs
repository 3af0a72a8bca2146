//! What every console page shares: the language, the frame around a page's content, the
//! errors a request can end in and the pages they become, and the two ways to answer.

use askama::Template;
use axum::extract::Request;
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::text::{self, Text};
use crate::publishing::PublishingError;
use crate::rules::Forbidden;
use crate::store::StoreError;

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

    pub(super) fn from_query(parts: &Parts) -> Option<Lang> {
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
pub(super) async fn error_pages(request: Request, next: Next) -> Response {
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

/// Renders a template into an HTML answer.
pub fn html(template: &impl Template) -> Result<Response, ConsoleError> {
    Ok(Html(template.render()?).into_response())
}

/// A redirect after a successful form (303: the browser then GETs the page).
pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}
