//! `/api/v1/events`: ingest (JSON, NDJSON, raw lines), search, one event,
//! and counts over time.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use rampart_core::event::{event_view, parse_severity, IpMatch};
use rampart_core::{EventFilter, EventId, Permission, Timestamp};
use rampart_store::{EventCursor, StatsRequest, STATS_FIELDS};
use serde::{Deserialize, Serialize};

use crate::body::read_body;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, Principal};
use crate::routes::{time_param, PageParams};
use crate::state::AppState;
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
        content((Object = "application/json"), (String = "application/x-ndjson"))),
    responses((status = 202, body = IngestReport), (status = 400, body = Problem), (status = 413, body = Problem),
        (status = 422, body = Problem, description = "atomic batch with invalid items"), (status = 503, body = Problem)))]
pub async fn ingest(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<IngestParams>,
    headers: HeaderMap,
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
    Ok((StatusCode::ACCEPTED, Json(report)))
}

/// Filters of event searches and stats.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// From this time (RFC 3339 or epoch ms), inclusive.
    pub from: Option<String>,
    /// Until this time, exclusive.
    pub to: Option<String>,
    /// At least this severity (0–255 or a name: low, medium, high, critical).
    pub min_severity: Option<String>,
    pub category: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// An address or a CIDR network.
    pub source_ip: Option<String>,
    /// An address or a CIDR network.
    pub destination_ip: Option<String>,
    pub host: Option<String>,
    pub user: Option<String>,
    /// Case-insensitive text the message contains.
    pub q: Option<String>,
}

impl FilterParams {
    fn to_filter(&self) -> Result<EventFilter, ApiError> {
        let ip = |name: &str, v: &Option<String>| -> Result<Option<IpMatch>, ApiError> {
            v.as_deref()
                .map(|t| {
                    t.parse()
                        .map_err(|e: String| ApiError::invalid_field(name, e))
                })
                .transpose()
        };
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        Ok(EventFilter {
            from: time_param("from", self.from.as_deref())?,
            to: time_param("to", self.to.as_deref())?,
            min_severity: self
                .min_severity
                .as_deref()
                .map(|s| {
                    parse_severity(s).ok_or_else(|| {
                        ApiError::invalid_field("min_severity", "must be 0–255 or a severity name")
                    })
                })
                .transpose()?,
            category: nonempty(&self.category),
            action: nonempty(&self.action),
            outcome: nonempty(&self.outcome),
            source_ip: ip("source_ip", &self.source_ip)?,
            destination_ip: ip("destination_ip", &self.destination_ip)?,
            host: nonempty(&self.host),
            user: nonempty(&self.user),
            text: nonempty(&self.q),
        })
    }
}

/// Search parameters: [`FilterParams`] and [`PageParams`].
#[derive(Debug, Deserialize)]
pub struct SearchParams {
    #[serde(flatten)]
    pub filter: FilterParams,
    /// At most this many events (1 to 1000, default 100). Text, because a
    /// flattened query struct sees every value as a string.
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of events, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// Events as stored: well-known ECS fields by dotted name, the rest under `fields`.
    pub items: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
}

/// Search events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])), params(FilterParams, PageParams),
    responses((status = 200, body = EventPage), (status = 400, body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<EventPage>, ApiError> {
    principal.require(Permission::Read)?;
    let filter = params.filter.to_filter()?;
    let limit = match params.limit.as_deref().map(str::parse::<u32>) {
        None => 100,
        Some(Ok(n @ 1..=1000)) => n,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "limit",
                "must be between 1 and 1000",
            ))
        }
    };
    let after = params
        .cursor
        .as_deref()
        .map(|c| {
            EventCursor::decode(c)
                .ok_or_else(|| ApiError::invalid_field("cursor", "not a cursor this API returned"))
        })
        .transpose()?;
    let events = state
        .store
        .query_events(principal.org_id, &filter, after, limit)
        .await?;
    let next_cursor = (events.len() == limit as usize)
        .then(|| events.last())
        .flatten()
        .map(|(id, e)| {
            EventCursor {
                timestamp: e.timestamp,
                id: *id,
            }
            .encode()
        });
    Ok(Json(EventPage {
        items: events.iter().map(|(id, e)| event_view(*id, e)).collect(),
        next_cursor,
    }))
}

/// One event.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    principal.require(Permission::Read)?;
    let id: EventId = id.parse().map_err(|_| ApiError::not_found("event"))?;
    let event = state
        .store
        .get_event(principal.org_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    Ok(Json(event_view(id, &event)))
}

/// Stats parameters: [`FilterParams`] and these.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    #[serde(flatten)]
    #[param(ignore)]
    pub filter: FilterParams,
    /// Bucket width: seconds, or a number with s, m, h or d [default: 1h].
    pub bucket: Option<String>,
    /// Count the top values of this field (e.g. source.ip, user.name, event.action).
    pub top: Option<String>,
    /// How many top values (1–100, default 10).
    pub top_limit: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Bucket {
    pub start: Timestamp,
    pub count: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
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
}

fn bucket_secs(text: Option<&str>) -> Result<i64, ApiError> {
    let Some(text) = text else { return Ok(3600) };
    let bad = || ApiError::invalid_field("bucket", "must be like 60, 30s, 5m, 1h or 1d");
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let secs = n
        .checked_mul(scale)
        .filter(|s| *s > 0 && *s <= 366 * 86_400)
        .ok_or_else(bad)?;
    Ok(secs)
}

/// Counts per time bucket and the top values of a field.
#[utoipa::path(get, path = "/api/v1/events/stats", tag = "events", security(("bearer" = [])), params(FilterParams, StatsParams),
    responses((status = 200, body = EventStatsView), (status = 400, body = Problem)))]
pub async fn stats(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<StatsParams>,
) -> Result<Json<EventStatsView>, ApiError> {
    principal.require(Permission::Read)?;
    let filter = params.filter.to_filter()?;
    let bucket = bucket_secs(params.bucket.as_deref())?;
    if let Some(field) = &params.top {
        if !STATS_FIELDS.contains(&field.as_str()) {
            return Err(ApiError::invalid_field(
                "top",
                format!("must be one of {}", STATS_FIELDS.join(", ")),
            ));
        }
    }
    let top_limit = match params.top_limit.as_deref().map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n @ 1..=100)) => n,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "top_limit",
                "must be between 1 and 100",
            ))
        }
    };
    let stats = state
        .store
        .event_stats(
            principal.org_id,
            &StatsRequest {
                filter: &filter,
                bucket_ms: bucket * 1000,
                top_field: params.top.as_deref(),
                top_limit,
            },
        )
        .await?;
    Ok(Json(EventStatsView {
        total: stats.total,
        bucket_secs: bucket,
        buckets: stats
            .buckets
            .into_iter()
            .map(|(start, count)| Bucket { start, count })
            .collect(),
        top_field: params.top,
        top: stats
            .top
            .into_iter()
            .map(|(value, count)| TopValue { value, count })
            .collect(),
    }))
}
