//! Logging in and out, and setting a password from a one-time link.
//!
//! Passwords are checked and hashed by the accounts service ([`crate::accounts`]). Failed
//! logins are counted here, per account and per client address; past the limit the login
//! answers 429 until the window ends, whether the password is right or not.

use std::net::IpAddr;
use std::time::Instant;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::page::{ConsoleError, Lang, Page, html, see_other};
use super::session::{ConsoleForm, csrf_token, log_in as start_session, log_out as end_session};
use crate::accounts::PasswordError;
use crate::client::ClientIp;
use crate::console::ConsoleState;
use crate::secret::hash_secret;

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
    State(state): State<ConsoleState>,
    RequestLang(lang): RequestLang,
    ClientIp(client): ClientIp,
    session: Session,
    form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let t = lang.text();
    let email = form.get("email").trim().to_lowercase();
    let next = safe_next(form.get("next"));
    let limits = state.login_limits();
    let now = Instant::now();
    let address = client.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let account = hash_secret(&email);
    if let Err(wait_s) = limits.by_account.check(&account, now).and(limits.by_address.check(&address, now)) {
        return Err(ConsoleError::TooMany { wait_s });
    }
    match state.accounts().sign_in(&email, form.get("password")).await? {
        Some(person) => {
            start_session(&session, &person).await?;
            tracing::info!(person = %person.publisher.id, "console login");
            Ok(see_other(&next))
        }
        None => {
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
    state: &ConsoleState,
    lang: Lang,
    session: &Session,
    token: &str,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let t = lang.text();
    let person = state.accounts().password_link(token).await?;
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
    State(state): State<ConsoleState>,
    RequestLang(lang): RequestLang,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, ConsoleError> {
    password_form(&state, lang, &session, &token, None).await
}

/// `POST /password/{token}`.
pub async fn set_password(
    State(state): State<ConsoleState>,
    RequestLang(lang): RequestLang,
    session: Session,
    Path(token): Path<String>,
    form: ConsoleForm,
) -> Result<Response, ConsoleError> {
    let t = lang.text();
    let password = form.get("password");
    if password != form.get("again") {
        return password_form(&state, lang, &session, &token, Some(t.password_mismatch.to_owned())).await;
    }
    match state.accounts().set_password(&token, password).await {
        Ok(Some(person)) => {
            tracing::info!(%person, "password set");
            Ok(see_other("/login?notice=password"))
        }
        Ok(None) => password_form(&state, lang, &session, &token, None).await,
        Err(PasswordError::TooShort) => {
            password_form(&state, lang, &session, &token, Some(t.password_short.to_owned())).await
        }
        Err(PasswordError::Store(e)) => Err(e.into()),
        Err(e @ PasswordError::Hashing(_)) => Err(ConsoleError::Internal(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_here() {
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
