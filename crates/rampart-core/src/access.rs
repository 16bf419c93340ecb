//! Who may do what: user roles, API-key scopes and the permissions they grant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A permission checked by the API before it calls a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Read the organisation's data (events, incidents, users list, ...).
    Read,
    /// Work incidents and hunts: change analyst-owned data.
    Analyse,
    /// Send events.
    Ingest,
    /// Manage users, API keys, rules and settings.
    Admin,
}

/// A user's role within their organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages users, keys, rules and settings; can do everything an analyst can.
    Admin,
    /// Works incidents and hunts.
    Analyst,
    /// Reads only.
    Viewer,
}

impl Role {
    pub fn grants(self, permission: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Analyst => !matches!(permission, Permission::Admin),
            Role::Viewer => matches!(permission, Permission::Read),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }
}

/// What an API key may be used for. A key carries one or more scopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyScope {
    /// Send events only.
    Ingest,
    /// Read the organisation's data.
    Read,
    /// Everything, including managing users and keys.
    Admin,
}

impl ApiKeyScope {
    pub fn grants(self, permission: Permission) -> bool {
        match self {
            ApiKeyScope::Admin => true,
            ApiKeyScope::Read => matches!(permission, Permission::Read),
            ApiKeyScope::Ingest => matches!(permission, Permission::Ingest),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyScope::Ingest => "ingest",
            ApiKeyScope::Read => "read",
            ApiKeyScope::Admin => "admin",
        }
    }
}

/// An unknown role or scope name.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} '{value}' (expected one of: {expected})")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "analyst" => Ok(Role::Analyst),
            "viewer" => Ok(Role::Viewer),
            other => Err(UnknownName {
                kind: "role",
                value: other.to_string(),
                expected: "admin, analyst, viewer",
            }),
        }
    }
}

impl FromStr for ApiKeyScope {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ingest" => Ok(ApiKeyScope::Ingest),
            "read" => Ok(ApiKeyScope::Read),
            "admin" => Ok(ApiKeyScope::Admin),
            other => Err(UnknownName {
                kind: "scope",
                value: other.to_string(),
                expected: "ingest, read, admin",
            }),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ApiKeyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_in_order_of_power() {
        use Permission::*;
        assert!(Role::Viewer.grants(Read));
        assert!(!Role::Viewer.grants(Analyse));
        assert!(Role::Analyst.grants(Analyse));
        assert!(!Role::Analyst.grants(Admin));
        assert!(Role::Admin.grants(Admin));
    }

    #[test]
    fn scopes_grant_only_their_own_permission() {
        use Permission::*;
        assert!(ApiKeyScope::Ingest.grants(Ingest));
        assert!(!ApiKeyScope::Ingest.grants(Read));
        assert!(ApiKeyScope::Read.grants(Read));
        assert!(!ApiKeyScope::Read.grants(Ingest));
        assert!(!ApiKeyScope::Read.grants(Admin));
        assert!(ApiKeyScope::Admin.grants(Admin));
    }

    #[test]
    fn names_round_trip() {
        for r in [Role::Admin, Role::Analyst, Role::Viewer] {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        for s in [ApiKeyScope::Ingest, ApiKeyScope::Read, ApiKeyScope::Admin] {
            assert_eq!(s.as_str().parse::<ApiKeyScope>().unwrap(), s);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
