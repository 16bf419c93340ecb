//! Who is calling: a signed-in user (with a session) or an API key, always
//! of one organisation, and what their role or scopes allow.

use rampart_core::{ApiKey, Error, OrgId, Permission, SessionId, User};

/// Who is calling: a logged-in user or an API key, always of one organisation.
#[derive(Clone, Debug)]
pub struct Principal {
    pub org_id: OrgId,
    pub actor: Actor,
}

#[derive(Clone, Debug)]
pub enum Actor {
    User { user: User, session: SessionId },
    ApiKey { key: ApiKey },
}

impl Principal {
    /// Whether the role or key scopes grant `permission` (pages use it to
    /// offer only the actions the caller may take).
    pub fn may(&self, permission: Permission) -> bool {
        match &self.actor {
            Actor::User { user, .. } => user.role.grants(permission),
            Actor::ApiKey { key } => key.scopes.iter().any(|s| s.grants(permission)),
        }
    }

    /// Refuses with 403 unless the role or key scopes grant `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), Error> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "this {} may not do this (needs {permission:?} permission)",
                self.kind()
            )))
        }
    }

    /// Refuses with 403 unless this is a platform admin user.
    pub fn require_platform_admin(&self) -> Result<(), Error> {
        match &self.actor {
            Actor::User { user, .. } if user.platform_admin => Ok(()),
            _ => Err(Error::forbidden("only a platform admin may do this")),
        }
    }

    /// The standing this caller changes other users with.
    pub fn changed_by(&self) -> crate::accounts::ChangedBy {
        use crate::accounts::ChangedBy;
        match &self.actor {
            Actor::User { user, .. } if user.platform_admin => ChangedBy::PlatformAdmin,
            _ => ChangedBy::OrgAdmin,
        }
    }

    pub fn user(&self) -> Option<&User> {
        match &self.actor {
            Actor::User { user, .. } => Some(user),
            Actor::ApiKey { .. } => None,
        }
    }

    /// Who this is in the audit trail: `user:<id>` or `api_key:<id>`.
    pub fn audit_actor(&self) -> String {
        match &self.actor {
            Actor::User { user, .. } => format!("user:{}", user.id),
            Actor::ApiKey { key } => format!("api_key:{}", key.id),
        }
    }

    fn kind(&self) -> &'static str {
        match self.actor {
            Actor::User { .. } => "user",
            Actor::ApiKey { .. } => "API key",
        }
    }
}
