//! People's console accounts: added with a role and a scope, disabled and re-enabled, given
//! another role or scope, sent a new link to set their password. Every change is audited.

use jiff::Timestamp;

use super::{AdminError, Administration, Administrator, PASSWORD_LINK_TTL};
use crate::ids::PublisherId;
use crate::rules::Role;
use crate::secret;
use crate::store::{Person, Publisher, PublisherKind, Targets};

/// A new console account and the one-time token of its link to set a password.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub person: Person,
    /// Goes at the end of the console's password page; shown once, kept only as a hash.
    pub password_token: String,
    pub expires: Timestamp,
}

/// Checks an e-mail address enough to catch typos; returns it in lower case.
pub fn check_email(email: &str) -> Result<String, AdminError> {
    let email = email.trim().to_lowercase();
    let plausible = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if plausible {
        Ok(email)
    } else {
        Err(AdminError::Invalid(format!("{email:?} is not an e-mail address")))
    }
}

/// A role a person may hold, and a scope it needs: an admin reaches every building and
/// needs none; every other role needs a building or an area.
fn check_person_role(role: Role, scope: &Targets) -> Result<(), AdminError> {
    if !Role::FOR_PEOPLE.contains(&role) {
        let roles: Vec<&str> = Role::FOR_PEOPLE.iter().map(|r| r.as_str()).collect();
        return Err(AdminError::Invalid(format!(
            "a person's role is one of {}, not {role}",
            roles.join(", ")
        )));
    }
    if role != Role::Admin && scope.is_empty() {
        return Err(AdminError::Invalid(format!("a {role} needs at least one building or area")));
    }
    Ok(())
}

impl Administration {
    /// Every account, sorted by e-mail.
    pub async fn people(&self, who: &Administrator) -> Result<Vec<Person>, AdminError> {
        who.may_read()?;
        Ok(self.store.people().await?)
    }

    /// The account with this e-mail (checked and lowered first).
    pub async fn person_by_email(&self, who: &Administrator, email: &str) -> Result<Person, AdminError> {
        who.may_read()?;
        let email = check_email(email)?;
        self.store.person_by_email(&email).await?.ok_or(AdminError::Unknown { what: "person", id: email })
    }

    /// A person's console account with a role and buildings or areas (none for an admin, who
    /// reaches every building), and a link to set the password, valid 24 hours.
    pub async fn add_person(
        &self,
        who: &Administrator,
        email: &str,
        role: Role,
        scope_ids: &[String],
    ) -> Result<NewPerson, AdminError> {
        let change = who.change(self.now())?;
        let email = check_email(email)?;
        let scope = self.targets(scope_ids).await?;
        check_person_role(role, &scope)?;
        let reach = self.reach(&scope).await?;
        let id = PublisherId::parse(&secret::new_id("usr")).map_err(AdminError::Invalid)?;
        let Targets { buildings, areas } = scope;
        // The audit log and the console name a person by their e-mail.
        let publisher =
            Publisher { id, name: email.clone(), role, buildings, areas, reach, kind: PublisherKind::Person };
        let person =
            Person { publisher, email, password_hash: None, created_at: change.at, disabled_at: None };
        self.store.add_person(&person, &change).await?;
        let (password_token, expires) = self.new_password_link(&person.publisher.id, change.at).await?;
        Ok(NewPerson { person, password_token, expires })
    }

    /// Disables an account at once; false if it already was.
    pub async fn disable_person(&self, who: &Administrator, id: &PublisherId) -> Result<bool, AdminError> {
        let change = who.change(self.now())?;
        if let Administrator::Person(actor) = who
            && actor.publisher.id == *id
        {
            return Err(AdminError::Invalid("you cannot disable your own account".into()));
        }
        Ok(self.store.disable_person(id, &change).await?)
    }

    /// Gives a disabled account its access back; false if it was not disabled.
    pub async fn enable_person(&self, who: &Administrator, id: &PublisherId) -> Result<bool, AdminError> {
        let change = who.change(self.now())?;
        Ok(self.store.enable_person(id, &change).await?)
    }

    /// Gives a person another role and scope; false if they already had exactly these.
    pub async fn change_person(
        &self,
        who: &Administrator,
        id: &PublisherId,
        role: Role,
        scope_ids: &[String],
    ) -> Result<bool, AdminError> {
        let change = who.change(self.now())?;
        let current = self
            .store
            .person(id)
            .await?
            .ok_or_else(|| AdminError::Unknown { what: "person", id: id.to_string() })?;
        let scope = self.targets(scope_ids).await?;
        check_person_role(role, &scope)?;
        if let Administrator::Person(actor) = who
            && actor.publisher.id == *id
            && role != current.publisher.role
        {
            return Err(AdminError::Invalid("you cannot change your own role".into()));
        }
        let reach = self.reach(&scope).await?;
        let Targets { buildings, areas } = scope;
        let wanted = Publisher { role, buildings, areas, reach, ..current.publisher };
        Ok(self.store.change_person(&wanted, &change).await?)
    }

    /// A new one-time link to set a person's password (a forgotten password, a lost link).
    pub async fn password_link(
        &self,
        who: &Administrator,
        id: &PublisherId,
    ) -> Result<(String, Timestamp), AdminError> {
        let change = who.change(self.now())?;
        let person = self
            .store
            .person(id)
            .await?
            .ok_or_else(|| AdminError::Unknown { what: "person", id: id.to_string() })?;
        if person.disabled_at.is_some() {
            return Err(AdminError::Invalid(format!(
                "{} is disabled; enable the account first",
                person.email
            )));
        }
        self.new_password_link(id, change.at).await
    }

    async fn new_password_link(
        &self,
        person: &PublisherId,
        now: Timestamp,
    ) -> Result<(String, Timestamp), AdminError> {
        let token = secret::new_token("pw1_");
        let expires = now + PASSWORD_LINK_TTL;
        self.store.add_password_link(&secret::hash_secret(&token), person, expires).await?;
        Ok((token, expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_lowered() {
        assert_eq!(check_email(" Camille.Martin@Example.org ").unwrap(), "camille.martin@example.org");
        for bad in ["", "camille", "camille@", "@example.org", "a b@example.org", "camille@example", "c@.org"]
        {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_and_scopes_of_people() {
        let b = Targets { buildings: vec![crate::ids::BuildingId::parse("bld-a").unwrap()], areas: vec![] };
        let none = Targets::default();
        let cases = [
            (Role::Admin, &none, true),
            (Role::Landlord, &b, true),
            (Role::Landlord, &none, false),
            (Role::Shop, &b, true),
            (Role::Caretaker, &none, false),
            (Role::Feed, &b, false),
        ];
        for (role, scope, ok) in cases {
            assert_eq!(check_person_role(role, scope).is_ok(), ok, "{role} {scope:?}");
        }
    }
}
