//! Who may reach the platform without a console account: publisher tokens (a neighbourhood
//! network, a lift company), and boards with their one-time enrolment codes.

use jiff::{SignedDuration, Timestamp};
use palier_content::validate::check_role;

use super::{AdminError, Administration, Administrator};
use crate::ids::{BuildingId, DeviceId, PublisherId};
use crate::rules::Role;
use crate::secret;
use crate::store::{DeviceReport, EnrolmentCode, Publisher, PublisherEntry, PublisherKind, Targets};

impl Administration {
    /// Every publisher (tokens, feeds and people's), with when it was revoked.
    pub async fn publishers(&self, who: &Administrator) -> Result<Vec<PublisherEntry>, AdminError> {
        who.may_read()?;
        Ok(self.store.publishers().await?)
    }

    /// Adds a publisher for these buildings and areas (ids of either) and returns it with its
    /// token, shown only now.
    pub async fn add_publisher(
        &self,
        who: &Administrator,
        name: &str,
        role: Role,
        scope_ids: &[String],
    ) -> Result<(Publisher, String), AdminError> {
        let change = who.change(self.now())?;
        if !Role::FOR_TOKENS.contains(&role) {
            let roles: Vec<&str> = Role::FOR_TOKENS.iter().map(|r| r.as_str()).collect();
            return Err(AdminError::Invalid(format!(
                "a publisher token's role is one of {}; a {role} is a person with a console account",
                roles.join(", ")
            )));
        }
        let scope = self.targets(scope_ids).await?;
        if scope.is_empty() {
            return Err(AdminError::Invalid("a publisher needs at least one building or area".to_owned()));
        }
        let id = PublisherId::parse(&secret::new_id("pub")).map_err(AdminError::Invalid)?;
        let name = if name.trim().is_empty() { format!("{role} {id}") } else { name.trim().to_owned() };
        let reach = self.reach(&scope).await?;
        let Targets { buildings, areas } = scope;
        let publisher = Publisher { id, name, role, buildings, areas, reach, kind: PublisherKind::Token };
        let token = secret::new_token(secret::PUBLISHER_TOKEN_PREFIX);
        self.store.add_publisher(&publisher, &secret::hash_secret(&token), &change).await?;
        Ok((publisher, token))
    }

    /// Revokes a publisher's token at once; false if it already was.
    pub async fn revoke_publisher(&self, who: &Administrator, id: &PublisherId) -> Result<bool, AdminError> {
        let change = who.change(self.now())?;
        Ok(self.store.revoke_publisher(id, &change).await?)
    }

    /// A one-time enrolment code for a building and screen roles, valid for `ttl`.
    pub async fn create_enrolment_code(
        &self,
        who: &Administrator,
        building_id: &str,
        roles: &[String],
        ttl: SignedDuration,
    ) -> Result<(String, Timestamp), AdminError> {
        let now = who.change(self.now())?.at;
        let building_id = BuildingId::parse(building_id).map_err(AdminError::Invalid)?;
        if roles.is_empty() {
            return Err(AdminError::Invalid(
                "a device needs at least one screen role, for example lift".to_owned(),
            ));
        }
        for role in roles {
            check_role(role).map_err(AdminError::Invalid)?;
        }
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        let code = secret::new_enrolment_code();
        let expires = now + ttl;
        let stored = EnrolmentCode {
            code_hash: secret::hash_secret(&secret::normalize_code(&code)),
            building_id,
            roles,
            created: now,
            expires,
        };
        self.store.add_enrolment_code(&stored).await?;
        Ok((code, expires))
    }

    /// Every board (of one building) with its last heartbeat.
    pub async fn device_reports(
        &self,
        who: &Administrator,
        building: Option<&BuildingId>,
    ) -> Result<Vec<DeviceReport>, AdminError> {
        who.may_read()?;
        Ok(self.store.device_reports(building).await?)
    }

    /// Revokes a board's token; false if it already was.
    pub async fn revoke_device(&self, who: &Administrator, id: &DeviceId) -> Result<bool, AdminError> {
        let change = who.change(self.now())?;
        Ok(self.store.revoke_device(id, change.at).await?)
    }
}
