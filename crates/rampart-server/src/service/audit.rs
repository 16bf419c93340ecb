//! Recording changes in the audit trail. Changes to incidents and rules
//! are recorded by the store in the change's own transaction; this records
//! the rest (users, API keys, settings) right after the change.

use rampart_core::{AuditEntry, OrgId};
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::Principal;
use crate::state::AppState;

/// A value as it is written into the trail.
pub fn snapshot<T: Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

/// The entry for a change by `principal`, at the state's clock.
pub fn entry(
    state: &AppState,
    principal: &Principal,
    action: &str,
    target: (&str, String),
    before: Option<Value>,
    after: Option<Value>,
) -> AuditEntry {
    entry_in(
        state,
        principal.org_id,
        principal.audit_actor(),
        action,
        target,
        before,
        after,
    )
}

/// As [`entry`], for an organisation and actor given explicitly.
pub fn entry_in(
    state: &AppState,
    org: OrgId,
    actor: String,
    action: &str,
    target: (&str, String),
    before: Option<Value>,
    after: Option<Value>,
) -> AuditEntry {
    AuditEntry::new(org, state.clock.now(), actor, action, target, before, after)
}

/// Appends an entry for a change already made.
pub async fn record(
    state: &AppState,
    principal: &Principal,
    action: &str,
    target: (&str, String),
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), ApiError> {
    let entry = entry(state, principal, action, target, before, after);
    state.store.append_audit(principal.org_id, &entry).await?;
    Ok(())
}
