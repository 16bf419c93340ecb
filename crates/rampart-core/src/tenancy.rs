//! Organisations and the accounts and keys that belong to them.

use serde::Serialize;

use crate::{ApiKeyId, ApiKeyScope, OrgId, Role, Timestamp, UserId};

/// An organisation: the unit of tenancy. Every piece of data belongs to one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub created_at: Timestamp,
}

/// A user account of one organisation. The password hash is not part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// May create organisations (the operator of this Rampart installation).
    pub platform_admin: bool,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// An API key's public description; the secret itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub name: String,
    /// The first characters of the key, to recognise it (e.g. `rk_3fQ9a1`).
    pub prefix: String,
    pub scopes: Vec<ApiKeyScope>,
    pub created_by: Option<UserId>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// The state of the user who made the key; absent for keys made at the
    /// command line. A key works only while its creator is active.
    pub creator_state: Option<CreatorState>,
}

/// Where the user who made an API key stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CreatorState {
    Active,
    Disabled,
    Deleted,
}

impl ApiKey {
    /// Not revoked, and its creator (if any) neither disabled nor deleted.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none() && matches!(self.creator_state, None | Some(CreatorState::Active))
    }
}

/// Whether `email` looks like an address mail can be sent to: one `@`
/// between a local part and a domain, no spaces, at most 254 bytes.
pub fn is_email_address(email: &str) -> bool {
    email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}
