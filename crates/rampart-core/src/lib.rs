//! Rampart's domain types, shared by every other crate: identifiers,
//! organisations, users, roles, API-key scopes, permissions and the clock.

pub mod access;
pub mod clock;
pub mod ids;
pub mod tenancy;

pub use access::{ApiKeyScope, Permission, Role};
pub use clock::{Clock, SystemClock, Timestamp};
pub use ids::{ApiKeyId, OrgId, SessionId, UserId};
pub use tenancy::{ApiKey, Organisation, User};
