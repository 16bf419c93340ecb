//! Typed identifiers: time-ordered UUIDv7 values that cannot be mixed up.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new identifier; identifiers created later sort later.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// An organisation (tenant).
    OrgId
);
typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// An API key.
    ApiKeyId
);
typed_id!(
    /// A login session: one family of rotating refresh tokens.
    SessionId
);
typed_id!(
    /// A validation rule of an organisation's incoming events.
    ValidationRuleId
);
typed_id!(
    /// One alert raised by detection.
    AlertId
);
typed_id!(
    /// An incident.
    IncidentId
);
typed_id!(
    /// A comment on an incident.
    CommentId
);
typed_id!(
    /// An entry of the audit trail.
    AuditId
);
