//! Typed identifiers: time-ordered UUIDv7 values that cannot be mixed up.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An identifier of a kind of resource, named for messages ("incident
/// not found").
pub trait Identifier: FromStr + Copy {
    /// What it identifies, in words.
    const NOUN: &'static str;
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $noun:literal) => {
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

        impl Identifier for $name {
            const NOUN: &'static str = $noun;
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
    OrgId, "organisation"
);
typed_id!(
    /// A user account.
    UserId, "user"
);
typed_id!(
    /// An API key.
    ApiKeyId, "API key"
);
typed_id!(
    /// A login session: one family of rotating refresh tokens.
    SessionId, "session"
);
typed_id!(
    /// A validation rule of an organisation's incoming events.
    ValidationRuleId, "validation rule"
);
typed_id!(
    /// One alert raised by detection.
    AlertId, "alert"
);
typed_id!(
    /// An incident.
    IncidentId, "incident"
);
typed_id!(
    /// A comment on an incident.
    CommentId, "comment"
);
typed_id!(
    /// An entry of the audit trail.
    AuditId, "audit entry"
);
typed_id!(
    /// A background job.
    JobId, "job"
);
typed_id!(
    /// A report uploaded to be imported by a job.
    UploadId, "upload"
);
typed_id!(
    /// An indicator an organisation watches for (an address, a network,
    /// a domain, a URL, an e-mail address or a file hash).
    WatchlistEntryId, "watchlist entry"
);
typed_id!(
    /// A raw e-mail sent in for phishing analysis.
    PhishingMessageId, "phishing message"
);
typed_id!(
    /// A user's feedback (a bug, an idea, a question).
    FeedbackId, "feedback"
);
typed_id!(
    /// Where notifications go: an e-mail list, a webhook, a Slack webhook.
    ChannelId, "notification channel"
);
typed_id!(
    /// Which notices go to which channels.
    NotificationRuleId, "notification rule"
);
typed_id!(
    /// One notification to one channel or person, and how sending it went.
    DeliveryId, "delivery"
);
typed_id!(
    /// Something findings are about: a host, a web application, a
    /// repository, a container image.
    AssetId, "asset"
);
typed_id!(
    /// A vulnerability finding, de-duplicated across reports.
    FindingId, "finding"
);
typed_id!(
    /// One scanner report imported.
    ImportId, "import"
);
typed_id!(
    /// One of Rampart's own scans, run as a job.
    ScanId, "scan"
);
typed_id!(
    /// One entry of an organisation's scan scope.
    ScopeEntryId, "scope entry"
);
typed_id!(
    /// A recurring scan.
    ScanScheduleId, "scan schedule"
);
typed_id!(
    /// A saved hunt.
    SavedHuntId, "saved hunt"
);
