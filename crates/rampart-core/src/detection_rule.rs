//! A detection rule as an organisation stores it: its Sigma YAML and the
//! switches and counters around it.

use crate::{OrgId, Timestamp};

/// A Sigma detection or correlation rule of one organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectionRule {
    /// The rule's Sigma `id` (a UUID), unique within the organisation.
    pub id: String,
    pub org_id: OrgId,
    pub title: String,
    pub level: Option<String>,
    /// `detection` or `correlation`.
    pub kind: String,
    pub yaml: String,
    pub enabled: bool,
    /// Shipped with Rampart: it can be disabled but not edited or deleted.
    pub builtin: bool,
    pub hits: i64,
    pub last_hit_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
