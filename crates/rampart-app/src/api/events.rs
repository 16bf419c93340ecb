//! Events: ingest bodies, search pages and statistics.

use rampart_core::Timestamp;
use serde::{Deserialize, Serialize};

/// A page of events, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// Events as stored: well-known ECS fields by dotted name, the rest under `fields`.
    pub items: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Bucket {
    pub start: Timestamp,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TopValue {
    pub value: String,
    pub count: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventStatsView {
    pub total: u64,
    pub bucket_secs: i64,
    /// Non-empty buckets, oldest first.
    pub buckets: Vec<Bucket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_field: Option<String>,
    pub top: Vec<TopValue>,
    /// The top counts are lower bounds added up from per-block
    /// pre-aggregates (only when `approximate=true` was asked for).
    pub top_approximate: bool,
}

/// A JSON ingest body, as the document describes it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Only described; the body is read by the pipeline.
pub enum EventsJson {
    /// One event.
    #[schema(value_type = Object)]
    One(serde_json::Value),
    /// Events, in order (each item that is not an event object is
    /// refused on its own, with its index).
    #[schema(value_type = Vec<Value>)]
    Many(Vec<serde_json::Value>),
}
