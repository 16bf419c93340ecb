//! `/api/v1/events`: ingest (JSON, NDJSON, raw lines), search, one event,
//! and counts over time.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use rampart_app::events::StatsQuery;
use rampart_core::{EventFilter, EventId, Permission};
use serde::Deserialize;

use crate::body::read_body;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, PathId, Principal};
use crate::limits::{charge_ingest, LimitSlot};
use crate::routes::params::{Address, Bounded, BucketWidth, Severity, Time};
use crate::state::AppState;
use rampart_app::api::events::{EventPage, EventStatsView, EventsJson};
use rampart_ingest::{decode_json, decode_raw, IngestReport, JsonLayout, RawFormat};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestParams {
    /// All or none: refuse the whole batch if any item is invalid.
    #[serde(default)]
    pub atomic: bool,
    /// The `source` stored with each event [default: http].
    #[param(min_length = 1, max_length = 64)]
    pub source: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawParams {
    /// `syslog` (RFC 3164/5424) or `plain` (each line is the message).
    pub format: RawFormat,
    #[serde(default)]
    pub atomic: bool,
    /// The `source` stored with each event [default: raw].
    #[param(min_length = 1, max_length = 64)]
    pub source: Option<String>,
}

fn source_name(given: Option<String>, default: &str) -> Result<String, ApiError> {
    let name = given.unwrap_or_else(|| default.to_owned());
    if name.is_empty() || name.len() > 64 {
        return Err(ApiError::invalid_field("source", "must be 1–64 characters"));
    }
    Ok(name)
}

fn json_layout(headers: &HeaderMap) -> Result<JsonLayout, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "" => Ok(JsonLayout::Json),
        "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonl"
        | "application/x-jsonlines" => Ok(JsonLayout::Ndjson),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Content-Type {other:?}: send application/json or application/x-ndjson"),
        )),
    }
}

/// Ingest events: one JSON object, an array, or NDJSON.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", security(("bearer" = [])), params(IngestParams),
    request_body(description = "One JSON object, a JSON array of objects, or NDJSON (one object per line); gzip or zstd Content-Encoding accepted; charset utf-8 (default), utf-16 or iso-8859-1",
        content((EventsJson = "application/json"), (String = "application/x-ndjson"))),
    responses((status = 202, body = IngestReport), (status = 400, body = Problem), (status = 413, body = Problem),
        (status = 422, body = Problem, description = "atomic batch with invalid items"), (status = 503, body = Problem)))]
pub async fn ingest(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<IngestParams>,
    headers: HeaderMap,
    slot: Option<Extension<LimitSlot>>,
    body: Body,
) -> Result<(StatusCode, Json<IngestReport>), ApiError> {
    principal.require(Permission::Ingest)?;
    let layout = json_layout(&headers)?;
    let source = source_name(params.source, "http")?;
    let _slot = state.ingest.admit().await?;
    let bytes = read_body(&headers, body, state.config.max_body_bytes).await?;
    let report = state
        .ingest
        .ingest(principal.org_id, params.atomic, move |received, rules| {
            decode_json(&bytes, layout, received, &source, rules)
        })
        .await?;
    let accepted = u64::try_from(report.accepted).unwrap_or(u64::MAX);
    charge_ingest(&state, slot.as_ref().map(|s| &s.0), &principal, accepted).await;
    Ok((StatusCode::ACCEPTED, Json(report)))
}

/// Ingest raw log lines (text/plain, one event per line).
#[utoipa::path(post, path = "/api/v1/events/raw", tag = "events", security(("bearer" = [])), params(RawParams),
    request_body(description = "Log lines, one event per line; gzip or zstd Content-Encoding accepted", content = String, content_type = "text/plain"),
    responses((status = 202, body = IngestReport), (status = 413, body = Problem),
        (status = 422, body = Problem, description = "atomic batch with invalid items"), (status = 503, body = Problem)))]
pub async fn ingest_raw(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<RawParams>,
    headers: HeaderMap,
    slot: Option<Extension<LimitSlot>>,
    body: Body,
) -> Result<(StatusCode, Json<IngestReport>), ApiError> {
    principal.require(Permission::Ingest)?;
    let source = source_name(params.source, "raw")?;
    let _slot = state.ingest.admit().await?;
    let bytes = read_body(&headers, body, state.config.max_body_bytes).await?;
    let format = params.format;
    let report = state
        .ingest
        .ingest(principal.org_id, params.atomic, move |received, rules| {
            Ok(decode_raw(&bytes, format, received, &source, rules))
        })
        .await?;
    let accepted = u64::try_from(report.accepted).unwrap_or(u64::MAX);
    charge_ingest(&state, slot.as_ref().map(|s| &s.0), &principal, accepted).await;
    Ok((StatusCode::ACCEPTED, Json(report)))
}

/// Filters of event searches and stats.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// From this time (RFC 3339 or epoch ms), inclusive.
    #[param(schema_with = crate::routes::params::schema::time)]
    pub from: Option<Time>,
    /// Until this time, exclusive.
    #[param(schema_with = crate::routes::params::schema::time)]
    pub to: Option<Time>,
    /// At least this severity (0–255 or a name: low, medium, high, critical).
    #[param(schema_with = crate::routes::params::schema::severity)]
    pub min_severity: Option<Severity>,
    pub category: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// An address or a CIDR network.
    #[param(schema_with = crate::routes::params::schema::address)]
    pub source_ip: Option<Address>,
    /// An address or a CIDR network.
    #[param(schema_with = crate::routes::params::schema::address)]
    pub destination_ip: Option<Address>,
    pub host: Option<String>,
    pub user: Option<String>,
    /// Case-insensitive text the message contains.
    pub q: Option<String>,
}

impl FilterParams {
    pub(crate) fn to_filter(&self) -> EventFilter {
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        EventFilter {
            from: self.from.map(|t| t.0),
            to: self.to.map(|t| t.0),
            min_severity: self.min_severity.map(|s| s.0),
            category: nonempty(&self.category),
            action: nonempty(&self.action),
            outcome: nonempty(&self.outcome),
            source_ip: self.source_ip.clone().map(|a| a.0),
            destination_ip: self.destination_ip.clone().map(|a| a.0),
            host: nonempty(&self.host),
            user: nonempty(&self.user),
            text: nonempty(&self.q),
            condition: None,
        }
    }
}

/// Search parameters beside [`FilterParams`] (read from the same query
/// string by a second extractor, so that each failing value is named).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// At most this many events (1 to 1000, default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<Bounded<1, 1000>>,
    /// The `next_cursor` of the previous page.
    #[param(schema_with = crate::routes::params::schema::event_cursor)]
    pub cursor: Option<String>,
}

/// Search events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])), params(FilterParams, SearchParams),
    responses((status = 200, body = EventPage), (status = 400, body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(filter): ApiQuery<FilterParams>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<EventPage>, ApiError> {
    principal.require(Permission::Read)?;
    let limit = params.limit.map_or(100, |l| l.0);
    let filter = filter.to_filter();
    Ok(Json(
        state
            .events
            .search(principal.org_id, &filter, limit, params.cursor.as_deref())
            .await?,
    ))
}

/// One event.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<EventId>,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.events.get(principal.org_id, id).await?))
}

/// Stats parameters beside [`FilterParams`].
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Bucket width: seconds, or a number with s, m, h or d [default: 1h].
    #[param(schema_with = crate::routes::params::schema::bucket)]
    pub bucket: Option<BucketWidth>,
    /// Count the top values of this field (e.g. source.ip, user.name, event.action).
    #[param(schema_with = crate::routes::params::schema::stats_field)]
    pub top: Option<String>,
    /// How many top values (1–100, default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub top_limit: Option<Bounded<1, 100>>,
    /// Approximate top values will do: over a time range alone, counts are
    /// then added up from stored per-block pre-aggregates, much faster over
    /// long ranges, as lower bounds (`top_approximate` says when).
    pub approximate: Option<bool>,
}

/// Counts per time bucket and the top values of a field.
#[utoipa::path(get, path = "/api/v1/events/stats", tag = "events", security(("bearer" = [])), params(FilterParams, StatsParams),
    responses((status = 200, body = EventStatsView), (status = 400, body = Problem)))]
pub async fn stats(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(filter): ApiQuery<FilterParams>,
    ApiQuery(params): ApiQuery<StatsParams>,
) -> Result<Json<EventStatsView>, ApiError> {
    principal.require(Permission::Read)?;
    let filter = filter.to_filter();
    let query = StatsQuery {
        filter: &filter,
        bucket_secs: params.bucket.map_or(3600, |b| b.0),
        top: params.top,
        top_limit: params.top_limit.map_or(10, |l| l.0 as usize),
        approximate_top: params.approximate.unwrap_or(false),
    };
    Ok(Json(state.events.stats(principal.org_id, query).await?))
}
