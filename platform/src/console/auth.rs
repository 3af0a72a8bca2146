//! Logging in and out, and setting a password from a one-time link.
//!
//! Passwords are hashed with Argon2id (the `argon2` crate's defaults), off the async threads.
//! Failed logins are counted per account and per client address; past the limit the login
//! answers 429 until the window ends, whether the password is right or not. An unknown
//! e-mail costs the same hash as a known one, so timing tells nothing.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Instant;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::page::{ConsoleError, Lang, Page, html, see_other};
use super::session::{ConsoleForm, csrf_token, log_in as start_session, log_out as end_session};
use crate::client::ClientIp;
use crate::secret::hash_secret;
use crate::state::AppState;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Hashes a password into its PHC string (slow on purpose: run it on the blocking pool).
pub fn hash_password(password: &str) -> Result<String, ConsoleError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ConsoleError::Internal(format!("hashing a password: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// A hash nobody's password matches, verified when the e-mail is unknown.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&crate::secret::new_token("decoy")).unwrap_or_default())
}

/// Where to go after logging in: a path of this console, never another site.
fn safe_next(next: &str) -> String {
    let local =
        next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.contains("://");
    if local { next.to_owned() } else { "/".to_owned() }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    page: Page,
    error: Option<String>,
    email: String,
    next: String,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

/// The language of a request, for pages shown before anyone is logged in.
#[derive(Debug, Clone, Copy)]
pub struct RequestLang(pub Lang);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<RequestLang, Self::Rejection> {
        Ok(RequestLang(Lang::from_parts(parts)))
    }
}

/// `GET /login`.
pub async fn login_page(
    RequestLang(lang): RequestLang,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> Result<Response, ConsoleError> {
    let t = lang.text();
    let notice = match query.notice.as_deref() {
        Some("password") => Some(t.password_saved.to_owned()),
        Some("expired") => Some(t.session_ended.to_owned()),
        _ => None,
    };
    let next = safe_next(query.next.as_deref().unwrap_or("/"));
    let page =
        Page::anonymous(lang, t.login_title, csrf_token(&session).await?, "/login").with_notice(notice);
    html(&LoginTemplate { page, error: None, email: String::new(), next })
}

/// `POST /login`.
pub async fn log_in(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    ClientIp(client): ClientIp,
    session: Session,
    form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let t = lang.text();
    let email = form.get("email").trim().to_lowercase();
    let next = safe_next(form.get("next"));
    let limits = state.console_limits();
    let now = Instant::now();
    let address = client.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let account = hash_secret(&email);
    if let Err(wait_s) = limits.by_account.check(&account, now).and(limits.by_address.check(&address, now)) {
        return Err(ConsoleError::TooMany { wait_s });
    }
    let person = state.store().person_by_email(&email).await?;
    let password = form.get("password").to_owned();
    let stored =
        person.as_ref().and_then(|p| p.password_hash.clone()).unwrap_or_else(|| decoy_hash().to_owned());
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(|e| ConsoleError::Internal(format!("password check: {e}")))?;
    match person {
        Some(person) if matches && person.disabled_at.is_none() && person.password_hash.is_some() => {
            start_session(&session, &person).await?;
            tracing::info!(person = %person.publisher.id, "console login");
            Ok(see_other(&next))
        }
        _ => {
            limits.by_account.record_failure(account, now);
            limits.by_address.record_failure(address, now);
            tracing::info!(%address, "console login refused");
            let page = Page::anonymous(lang, t.login_title, csrf_token(&session).await?, "/login");
            let body = html(&LoginTemplate { page, error: Some(t.login_failed.to_owned()), email, next })?;
            Ok((StatusCode::UNAUTHORIZED, body).into_response())
        }
    }
}

/// `POST /logout`.
pub async fn log_out(session: Session, _form: ConsoleForm) -> Result<Response, ConsoleError> {
    end_session(&session).await?;
    Ok(see_other("/login"))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordTemplate {
    page: Page,
    dead: bool,
    email: String,
    error: Option<String>,
}

async fn password_form(
    state: &AppState,
    lang: Lang,
    session: &Session,
    token: &str,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let t = lang.text();
    let person = match state.store().password_link(&hash_secret(token), state.now()).await? {
        Some(id) => state.store().person(&id).await?,
        None => None,
    };
    let page =
        Page::anonymous(lang, t.password_title, csrf_token(session).await?, &format!("/password/{token}"));
    let status = if person.is_none() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    let template = PasswordTemplate {
        page,
        dead: person.is_none(),
        email: person.map(|p| p.email).unwrap_or_default(),
        error,
    };
    Ok((status, html(&template)?).into_response())
}

/// `GET /password/{token}`: the link `user add` printed.
pub async fn password_page(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, ConsoleError> {
    password_form(&state, lang, &session, &token, None).await
}

/// `POST /password/{token}`.
pub async fn set_password(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    session: Session,
    Path(token): Path<String>,
    form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let t = lang.text();
    let password = form.get("password").to_owned();
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return password_form(&state, lang, &session, &token, Some(t.password_short.to_owned())).await;
    }
    if password != form.get("again") {
        return password_form(&state, lang, &session, &token, Some(t.password_mismatch.to_owned())).await;
    }
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ConsoleError::Internal(format!("password hash: {e}")))??;
    match state.store().use_password_link(&hash_secret(&token), &hash, state.now()).await? {
        Some(person) => {
            tracing::info!(%person, "password set");
            Ok(see_other("/login?notice=password"))
        }
        None => password_form(&state, lang, &session, &token, None).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify_and_next_stays_here() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stapler", &hash));
        assert!(!verify_password("anything", decoy_hash()));
        for (next, safe) in [
            ("/items/f1", "/items/f1"),
            ("/b/x/items?state=live", "/b/x/items?state=live"),
            ("https://evil.example/", "/"),
            ("//evil.example/", "/"),
            ("/\\evil.example", "/"),
            ("", "/"),
        ] {
            assert_eq!(safe_next(next), safe, "{next}");
        }
    }
}
