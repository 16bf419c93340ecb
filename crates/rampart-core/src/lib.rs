//! Rampart's domain types, shared by every other crate: identifiers,
//! organisations, users, roles, API-key scopes, permissions, the clock,
//! the event model, the pure parsers of the ingest path, and alerts,
//! incidents, detection rules, vulnerability findings and the audit trail.

pub mod access;
pub mod alert_grouping;
pub mod audit;
pub mod clock;
pub mod csv_text;
pub mod detection_rule;
pub mod error;
pub mod event;
pub mod feedback;
pub mod finding;
pub mod flag;
pub mod hunt;
pub mod ids;
pub mod incident;
pub mod ingest;
pub mod intel;
pub mod job;
pub mod json_shape;
pub mod notification;
pub mod phishing;
pub mod rate_limit;
pub mod scan;
pub mod tenancy;
pub mod validation;
pub mod watchlist;
pub mod whole_number;

pub use access::{ApiKeyScope, Permission, Role};
pub use audit::AuditEntry;
pub use clock::{Clock, SystemClock, Timestamp};
pub use detection_rule::DetectionRule;
pub use error::{Error, ErrorKind, ItemError};
pub use event::{Event, EventFilter, EventId};
pub use ids::{
    AlertId, ApiKeyId, AssetId, AuditId, ChannelId, CommentId, DeliveryId, FeedbackId, FindingId,
    ImportId, IncidentId, JobId, NotificationRuleId, OrgId, PhishingMessageId, SavedHuntId, ScanId,
    ScanScheduleId, ScopeEntryId, SessionId, UploadId, UserId, ValidationRuleId, WatchlistEntryId,
};
pub use incident::{Alert, Comment, Entities, Incident, IncidentStatus};
pub use job::{Job, JobState, NewJob};
pub use tenancy::{ApiKey, CreatorState, Organisation, User};
