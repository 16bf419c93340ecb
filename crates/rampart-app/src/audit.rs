//! Recording changes in the audit trail. Changes to incidents and rules
//! are recorded by the store in the change's own transaction (the services
//! build the entry with [`Audit::entry`]); this records the rest (users,
//! API keys, settings) right after the change.

use std::sync::Arc;

use rampart_core::{AuditEntry, Clock, Error, OrgId};
use rampart_store::{AuditQuery, Store};
use serde::Serialize;
use serde_json::Value;

use crate::principal::Principal;

/// A value as it is written into the trail.
pub fn snapshot<T: Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

/// The audit trail: entries stamped by the clock, appended to the store.
#[derive(Clone)]
pub struct Audit {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Audit {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The entry for a change by `principal`, now.
    pub fn entry(
        &self,
        principal: &Principal,
        action: &str,
        target: (&str, String),
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditEntry {
        self.entry_in(
            principal.org_id,
            principal.audit_actor(),
            action,
            target,
            before,
            after,
        )
    }

    /// As [`Audit::entry`], for an organisation and actor given explicitly.
    pub fn entry_in(
        &self,
        org: OrgId,
        actor: String,
        action: &str,
        target: (&str, String),
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditEntry {
        AuditEntry::new(org, self.clock.now(), actor, action, target, before, after)
    }

    /// Entries matching `query`, newest first.
    pub async fn list(&self, org: OrgId, query: &AuditQuery) -> Result<Vec<AuditEntry>, Error> {
        Ok(self.store.list_audit(org, query).await?)
    }

    /// Appends an entry for a change already made.
    pub async fn record(
        &self,
        principal: &Principal,
        action: &str,
        target: (&str, String),
        before: Option<Value>,
        after: Option<Value>,
    ) -> Result<(), Error> {
        let entry = self.entry(principal, action, target, before, after);
        self.store.append_audit(principal.org_id, &entry).await?;
        Ok(())
    }
}
