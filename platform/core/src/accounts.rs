//! Accounts: a person signing in to the console with an e-mail and a password, setting it
//! from a one-time link, and the sessions that keep them signed in; a publisher's API token.
//!
//! Passwords are hashed with Argon2id (the `argon2` crate's defaults), off the async threads.
//! An unknown e-mail costs the same hash as a known one, so timing tells nothing. How often
//! one may try is the doors' business (they know the client's address).

use std::sync::{Arc, OnceLock};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use jiff::Timestamp;

use crate::ids::PublisherId;
use crate::publishing::{Actor, Clock};
use crate::secret::{self, hash_secret};
use crate::store::{Person, Store, StoreError, Via};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Why setting a password failed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("hashing a password: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Hashes a password into its PHC string (slow on purpose: run it on the blocking pool).
fn hash_password(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// A hash nobody's password matches, verified when the e-mail is unknown.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&secret::new_token("decoy")).unwrap_or_default())
}

/// The accounts service.
#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Store>,
    clock: Clock,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Accounts {
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Accounts {
        Accounts { store, clock }
    }

    fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// The person with this e-mail and password, if the account is active; `None` otherwise,
    /// after the same work either way.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Option<Person>, StoreError> {
        let email = email.trim().to_lowercase();
        let person = self.store.person_by_email(&email).await?;
        let stored =
            person.as_ref().and_then(|p| p.password_hash.clone()).unwrap_or_else(|| decoy_hash().to_owned());
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
            .await
            .map_err(|e| StoreError::Backend { operation: "checking a password", detail: e.to_string() })?;
        Ok(person.filter(|p| matches && p.disabled_at.is_none() && p.password_hash.is_some()))
    }

    /// The active person a session names; `None` once they are disabled or gone.
    pub async fn signed_in(&self, id: &PublisherId) -> Result<Option<Person>, StoreError> {
        Ok(self.store.person(id).await?.filter(|p| p.disabled_at.is_none()))
    }

    /// Who a one-time password link is for, while it works.
    pub async fn password_link(&self, token: &str) -> Result<Option<Person>, StoreError> {
        match self.store.password_link(&hash_secret(token), self.now()).await? {
            Some(id) => self.store.person(&id).await,
            None => Ok(None),
        }
    }

    /// Sets the password of the link's person and uses the link up; `None` if the link no
    /// longer works.
    pub async fn set_password(
        &self,
        token: &str,
        password: &str,
    ) -> Result<Option<PublisherId>, PasswordError> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| PasswordError::Hashing(e.to_string()))??;
        Ok(self.store.use_password_link(&hash_secret(token), &hash, self.now()).await?)
    }

    /// The publisher holding this API token, acting through the API.
    pub async fn publisher(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let publisher = self.store.publisher_by_token(&hash_secret(token)).await?;
        Ok(publisher.map(|p| Actor::new(p, Via::Api)))
    }

    /// A console session's record, unless it expired.
    pub async fn session(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.store.session(id, Timestamp::now()).await
    }

    /// Whether a session id is taken, expired or not (a new id must be fresh).
    pub async fn session_taken(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.store.session(id, Timestamp::MIN).await?.is_some())
    }

    pub async fn save_session(&self, id: &str, record: &str, expires: Timestamp) -> Result<(), StoreError> {
        self.store.save_session(id, record, expires).await
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete_session(id).await
    }

    /// Forgets sessions past their expiry; answers how many.
    pub async fn forget_expired_sessions(&self) -> Result<u64, StoreError> {
        self.store.forget_expired_sessions(self.now()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stapler", &hash));
        assert!(!verify_password("anything", decoy_hash()));
    }
}
