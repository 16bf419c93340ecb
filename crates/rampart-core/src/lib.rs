//! Rampart's domain types, shared by every other crate: identifiers,
//! organisations, users, roles, API-key scopes, permissions, the clock,
//! the event model and the pure parsers of the ingest path.

pub mod access;
pub mod clock;
pub mod event;
pub mod ids;
pub mod ingest;
pub mod tenancy;
pub mod validation;

pub use access::{ApiKeyScope, Permission, Role};
pub use clock::{Clock, SystemClock, Timestamp};
pub use event::{Event, EventFilter, EventId};
pub use ids::{ApiKeyId, OrgId, SessionId, UserId, ValidationRuleId};
pub use tenancy::{ApiKey, Organisation, User};
