//! The audit trail: who changed what, when, with the state before and after.

use serde_json::Value;

use crate::{AuditId, OrgId, Timestamp};

/// One recorded change; entries are only ever appended.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub id: AuditId,
    pub org_id: OrgId,
    pub at: Timestamp,
    /// `user:<id>`, `api_key:<id>` or `system`.
    pub actor: String,
    /// What was done, e.g. `incident.update`, `rule.create`, `user.delete`.
    pub action: String,
    /// The kind of thing changed: `incident`, `rule`, `user`, `api_key`, `settings`.
    pub target_type: String,
    pub target_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditEntry {
    /// An entry with a fresh id.
    pub fn new(
        org_id: OrgId,
        at: Timestamp,
        actor: impl Into<String>,
        action: impl Into<String>,
        target: (&str, String),
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditEntry {
        AuditEntry {
            id: AuditId::new(),
            org_id,
            at,
            actor: actor.into(),
            action: action.into(),
            target_type: target.0.to_owned(),
            target_id: target.1,
            before,
            after,
        }
    }
}
