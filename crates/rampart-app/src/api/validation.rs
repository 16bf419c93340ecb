//! Validation rules and their counts.

use rampart_core::validation::{Check, Mode, ValidationRule};
use rampart_core::{Timestamp, ValidationRuleId};
use serde::Serialize;

/// A rule as clients send it.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ValidationRuleInput)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    #[schema(min_length = 1, max_length = 100, pattern = "[^\\s\\u0085]")]
    pub name: String,
    /// Only events of this ingest source; all when absent.
    #[schema(min_length = 1, max_length = 64)]
    pub source: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub field: String,
    pub check: Check,
    pub mode: Mode,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

/// The organisation's rules.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ValidationRuleList)]
pub struct RuleList {
    pub items: Vec<ValidationRule>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CountBucket {
    pub start: Timestamp,
    pub passed: i64,
    pub failed: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ValidationRuleCounts)]
pub struct RuleCounts {
    pub rule_id: ValidationRuleId,
    pub passed: i64,
    pub failed: i64,
    /// Non-empty buckets, oldest first.
    pub buckets: Vec<CountBucket>,
}

fn enabled_by_default() -> bool {
    true
}
