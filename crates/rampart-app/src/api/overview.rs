//! The operations overview the dashboard shows.

use rampart_core::{IncidentStatus, Timestamp};
use serde::Serialize;

use super::events::{Bucket, TopValue};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StatusCount {
    pub status: IncidentStatus,
    pub count: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SeverityCount {
    pub severity: u8,
    pub count: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AgeCount {
    /// `under_1h`, `under_24h`, `under_7d` or `older`.
    pub age: &'static str,
    pub count: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RuleHitCount {
    pub rule_id: String,
    pub title: String,
    /// Matches (for correlations: firings) since the rule was made.
    pub hits: i64,
    pub last_hit_at: Option<Timestamp>,
}

/// The organisation at a glance, over the chosen range ending now.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OverviewView {
    pub at: Timestamp,
    pub range_secs: i64,
    /// Every status, with zeros.
    pub incidents_by_status: Vec<StatusCount>,
    /// Incidents not yet resolved or false positive, by severity.
    pub open_by_severity: Vec<SeverityCount>,
    /// Incidents not yet closed, by time since they opened.
    pub open_by_age: Vec<AgeCount>,
    pub events_total: u64,
    pub events_bucket_secs: i64,
    /// Non-empty buckets, oldest first.
    pub events: Vec<Bucket>,
    pub top_sources: Vec<TopValue>,
    pub top_users: Vec<TopValue>,
    pub top_hosts: Vec<TopValue>,
    /// The top sources, users or hosts are approximate: added up from each
    /// stored block's most frequent values (counts are lower bounds).
    pub top_approximate: bool,
    /// The rules with the most hits (of the first 1,000 rules).
    pub top_rules: Vec<RuleHitCount>,
    /// Events that passed and failed the validation rules over the range
    /// (counted per minute, so the range's first minute is whole).
    pub validation_passed: i64,
    pub validation_failed: i64,
    /// The same per validation rule (each applies to one source, or all).
    pub validation: Vec<ValidationTotal>,
    /// Events with `@timestamp` in the last minute: the ingest rate now.
    pub events_last_minute: u64,
    /// Incidents first acknowledged within the range, and their mean time
    /// from creation (seconds; none when there are none).
    pub acknowledged: i64,
    pub mean_time_to_acknowledge_secs: Option<i64>,
    /// Incidents closed (resolved or false positive) within the range, and
    /// their mean time from creation.
    pub closed: i64,
    pub mean_time_to_close_secs: Option<i64>,
}

/// One validation rule's passes and failures over the range.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ValidationTotal {
    pub rule_id: rampart_core::ValidationRuleId,
    pub name: String,
    /// The ingest source it applies to; all sources when absent.
    pub source: Option<String>,
    pub passed: i64,
    pub failed: i64,
}
