//! A hunt: a query over the organisation's events and what it found.

use rampart_core::Timestamp;
use serde::{Deserialize, Serialize};

/// What to hunt for, and over which time.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HuntRequest {
    /// The query, e.g. `source.ip:10.0.0.0/8 AND event.outcome:failure | stats count() by user.name`.
    #[schema(max_length = 16384)]
    pub query: String,
    /// Start of the range (inclusive); 24 hours before `to` when absent.
    pub from: Option<Timestamp>,
    /// End of the range (exclusive); now when absent.
    pub to: Option<Timestamp>,
    /// Most rows (1 to 10,000; 100 when absent).
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous answer (event rows only).
    pub cursor: Option<String>,
}

/// What a hunt's rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    /// Matching events, newest first.
    Events,
    /// Counts from `stats` or `timechart`.
    Aggregates,
}

/// What a hunt found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HuntReply {
    pub kind: RowKind,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Events that matched (of those read).
    pub matched: u64,
    /// Events read from the store (after what the store could rule out).
    pub scanned: u64,
    pub took_ms: u64,
    /// The time or scan limit ended the hunt early: counts are partial.
    pub truncated: bool,
    /// More matching events after these (event rows without a sort).
    pub next_cursor: Option<String>,
}

/// A hunt to keep under a name (`POST` and `PUT /api/v1/saved-hunts`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedHuntInput {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The query, as `POST /api/v1/hunt` takes it.
    #[schema(max_length = 16384)]
    pub query: String,
    /// Five cron fields (UTC), e.g. `*/15 * * * *`; absent: run by hand only.
    pub cron: Option<String>,
    /// Each run covers the last this many minutes (1 to 43,200; 60 when
    /// absent).
    #[schema(minimum = 1, maximum = 43200)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub window_minutes: Option<i64>,
    /// A scheduled run acts when it matches at least this many events
    /// (1 when absent).
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub threshold: Option<i64>,
    /// `incident` (when absent) or `notify`.
    pub action: Option<rampart_core::hunt::saved::HuntAction>,
    /// Of the alert or notice, 1 to 5 (3 when absent).
    #[schema(minimum = 1, maximum = 5)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub severity: Option<i64>,
    /// Whether the schedule runs (true when absent).
    pub enabled: Option<bool>,
}

/// What running a saved hunt by hand found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SavedHuntRun {
    pub hunt: rampart_core::hunt::saved::SavedHunt,
    pub result: HuntReply,
}
