//! Who is logged in: console sessions kept in the platform's own store (so several platform
//! processes share them), the CSRF token of each session, and the extractors every console
//! handler starts with.
//!
//! Sessions come from `tower-sessions` with [`StoreSessions`] as its store: an HttpOnly,
//! SameSite=Lax cookie (Secure when the console is served over HTTPS) naming a record in the
//! `sessions` table. A session holds the person's publisher id, a CSRF token drawn at its
//! start (and drawn again at login, with a new session id), and the forms already submitted
//! (so a double submit never publishes twice). Every state-changing form carries the token;
//! [`ConsoleForm`] refuses a form without it. [`Signed`] loads the person on each request, so
//! an account disabled a second ago stops working at once.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use rand::Rng;
use tower_sessions::session::{Id, Record};
use tower_sessions::{Session, SessionStore, session_store};

use super::page::{ConsoleError, Lang, Page};
use super::view;
use crate::accounts::Accounts;
use crate::administration::Administrator;
use crate::console::ConsoleState;
use crate::publishing::Actor;
use crate::store::{Person, Via};

/// Session keys.
const PERSON: &str = "person";
const CSRF: &str = "csrf";
const DONE_FORMS: &str = "done_forms";
const NOTICE: &str = "notice";
/// How many submitted forms a session remembers.
const REMEMBERED_FORMS: usize = 32;
/// The most a picture sent with a console form may weigh.
pub const MAX_FORM_BYTES: usize = crate::media::MAX_UPLOAD_BYTES + 64 * 1024;

/// `tower-sessions` records in the platform's store.
#[derive(Clone)]
pub struct StoreSessions {
    accounts: Accounts,
}

impl fmt::Debug for StoreSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreSessions").field("accounts", &self.accounts).finish()
    }
}

impl StoreSessions {
    pub fn new(accounts: Accounts) -> StoreSessions {
        StoreSessions { accounts }
    }
}

fn backend(e: impl fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry(record: &Record) -> Timestamp {
    Timestamp::from_second(record.expiry_date.unix_timestamp()).unwrap_or(Timestamp::MAX)
}

#[async_trait]
impl SessionStore for StoreSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; draw again in the unlikely case one is taken.
        while self.accounts.session_taken(&record.id.to_string()).await.map_err(backend)? {
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let json = serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        self.accounts.save_session(&record.id.to_string(), &json, expiry(record)).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(json) = self.accounts.session(&id.to_string()).await.map_err(backend)? else {
            return Ok(None);
        };
        serde_json::from_str(&json).map(Some).map_err(|e| session_store::Error::Decode(e.to_string()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.accounts.delete_session(&id.to_string()).await.map_err(backend)
    }
}

fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 32]>())
}

fn session_failed(e: impl fmt::Display) -> ConsoleError {
    ConsoleError::Internal(format!("console session: {e}"))
}

/// The session's CSRF token, drawn when first needed.
pub async fn csrf_token(session: &Session) -> Result<String, ConsoleError> {
    if let Some(token) = session.get::<String>(CSRF).await.map_err(session_failed)? {
        return Ok(token);
    }
    let token = new_token();
    session.insert(CSRF, &token).await.map_err(session_failed)?;
    Ok(token)
}

/// Starts a person's session: a new session id and a new CSRF token (no fixation).
pub async fn log_in(session: &Session, person: &Person) -> Result<(), ConsoleError> {
    session.cycle_id().await.map_err(session_failed)?;
    session.insert(PERSON, person.publisher.id.as_str()).await.map_err(session_failed)?;
    session.insert(CSRF, new_token()).await.map_err(session_failed)?;
    Ok(())
}

/// Ends the session: its record is deleted and its cookie dropped.
pub async fn log_out(session: &Session) -> Result<(), ConsoleError> {
    session.flush().await.map_err(session_failed)
}

/// Compares two tokens in time independent of where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The item a form already created, if this form was submitted before.
pub async fn already_done(session: &Session, form_id: &str) -> Result<Option<String>, ConsoleError> {
    let done: HashMap<String, String> =
        session.get(DONE_FORMS).await.map_err(session_failed)?.unwrap_or_default();
    Ok(done.get(form_id).cloned())
}

/// Remembers that a form led to `outcome` (where a repeat submission is sent).
pub async fn remember_done(session: &Session, form_id: &str, outcome: &str) -> Result<(), ConsoleError> {
    let mut done: Vec<(String, String)> = session
        .get::<HashMap<String, String>>(DONE_FORMS)
        .await
        .map_err(session_failed)?
        .unwrap_or_default()
        .into_iter()
        .collect();
    if done.len() >= REMEMBERED_FORMS {
        done.sort();
        done.truncate(REMEMBERED_FORMS / 2);
    }
    let mut done: HashMap<String, String> = done.into_iter().collect();
    done.insert(form_id.to_owned(), outcome.to_owned());
    session.insert(DONE_FORMS, done).await.map_err(session_failed)
}

/// Leaves a sentence for the next page shown (after a redirect).
pub async fn set_notice(session: &Session, notice: &str) -> Result<(), ConsoleError> {
    session.insert(NOTICE, notice).await.map_err(session_failed)
}

/// The sentence left for this page, once.
pub async fn take_notice(session: &Session) -> Result<Option<String>, ConsoleError> {
    session.remove(NOTICE).await.map_err(session_failed)
}

/// A fresh id for a rendered form.
pub fn new_form_id() -> String {
    new_token()[..16].to_owned()
}

/// A logged-in person, acting through the console, with the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Signed {
    pub person: Person,
    pub actor: Actor,
    pub csrf: String,
    pub session: Session,
    pub lang: Lang,
}

impl FromRequestParts<ConsoleState> for Signed {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &ConsoleState) -> Result<Signed, ConsoleError> {
        let lang = Lang::from_parts(parts);
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, message)| ConsoleError::Internal(message.to_owned()))?;
        let next = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let login = || ConsoleError::LoginNeeded { next: next.clone() };
        let id: Option<String> = session.get(PERSON).await.map_err(session_failed)?;
        let id = id.and_then(|id| crate::ids::PublisherId::parse(&id).ok()).ok_or_else(login)?;
        let Some(person) = state.accounts().signed_in(&id).await? else {
            log_out(&session).await?;
            return Err(login());
        };
        let csrf = csrf_token(&session).await?;
        let actor = Actor::new(person.publisher.clone(), Via::Console);
        Ok(Signed { person, actor, csrf, session, lang })
    }
}

impl Signed {
    /// This person as an administrator (the service says whether their role administers).
    pub fn administrator(&self) -> Administrator {
        Administrator::Person(self.actor.clone())
    }
}

/// A submitted console form (URL-encoded or multipart), whose CSRF token matched the
/// session's: its text fields, and its file when one was chosen.
#[derive(Debug, Default)]
pub struct ConsoleForm {
    pub fields: HashMap<String, String>,
    /// The picture field's bytes, when a file was sent.
    pub file: Option<Vec<u8>>,
    /// A multipart form holds one of the upload slots while it lives.
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl ConsoleForm {
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    /// Every value of a repeated field (`roles=lift&roles=lobby`), from `name` joined by '\n'.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.get(name).split('\n').filter(|v| !v.is_empty()).collect()
    }
}

impl FromRequest<ConsoleState> for ConsoleForm {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, state: &ConsoleState) -> Result<ConsoleForm, ConsoleError> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, state)
            .await
            .map_err(|(_, message)| ConsoleError::Internal(message.to_owned()))?;
        let content_type =
            parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let request = Request::from_parts(parts, body);
        let mut form = ConsoleForm::default();
        if content_type.starts_with("multipart/form-data") {
            form._slot = Some(state.upload_body_slot().await.map_err(ConsoleError::Internal)?);
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| ConsoleError::BadForm(format!("the form could not be read: {e}")))?;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| ConsoleError::BadForm(format!("the form could not be read: {e}")))?
            {
                let name = field.name().unwrap_or("").to_owned();
                if field.file_name().is_some() {
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(|e| ConsoleError::BadForm(format!("the picture could not be read: {e}")))?;
                    if !bytes.is_empty() {
                        form.file = Some(bytes.to_vec());
                    }
                } else {
                    let value = field
                        .text()
                        .await
                        .map_err(|e| ConsoleError::BadForm(format!("field {name}: {e}")))?;
                    add_field(&mut form.fields, name, value);
                }
            }
        } else {
            let bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
                .await
                .map_err(|e| ConsoleError::BadForm(format!("the form could not be read: {e}")))?;
            for (name, value) in form_urlencoded::parse(&bytes) {
                add_field(&mut form.fields, name.into_owned(), value.into_owned());
            }
        }
        let expected: Option<String> = session.get(CSRF).await.map_err(session_failed)?;
        match expected {
            Some(expected) if same_token(&expected, form.get("csrf")) => Ok(form),
            _ => Err(ConsoleError::Csrf),
        }
    }
}

fn add_field(fields: &mut HashMap<String, String>, name: String, value: String) {
    match fields.get_mut(&name) {
        Some(existing) => {
            existing.push('\n');
            existing.push_str(&value);
        }
        None => {
            fields.insert(name, value);
        }
    }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        let token = new_token();
        assert_eq!(token.len(), 43);
        assert!(same_token(&token, &token.clone()));
        assert!(!same_token(&token, &new_token()));
        assert!(!same_token(&token, &token[..42]));
        assert!(!same_token(&token, ""));
        assert_ne!(new_form_id(), new_form_id());
    }
}
