//! The audit trail.

use rampart_core::{AuditEntry, AuditId, Timestamp};
use serde::Serialize;
use serde_json::Value;

/// One recorded change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditView {
    pub id: AuditId,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        AuditView {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            before: e.before,
            after: e.after,
        }
    }
}
