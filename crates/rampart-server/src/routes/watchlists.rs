//! `/api/v1/watchlists`: indicators the organisation watches for in its
//! events; feeds in (STIX 2.1, CSV) and out; hunts back in time.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_app::api::watchlists::{
    FeedFormat, HuntQueued, HuntRequest, WatchlistEntryInput, WatchlistEntryPatch,
    WatchlistImportReply, WatchlistImportRequest,
};
use rampart_app::watchlists::EntryFilter;
use rampart_core::watchlist::{IndicatorType, WatchlistEntry};
use rampart_core::WatchlistEntryId;
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, PathId, Principal};
use crate::routes::vulns::file_response;
use crate::routes::{Page, PageParams};
use crate::state::AppState;

/// Which entries a listing or an export selects.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryParams {
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<IndicatorType>,
    #[param(max_length = 200)]
    pub source: Option<String>,
    #[param(max_length = 500)]
    pub tag: Option<String>,
    /// Part of the value, any case.
    #[param(max_length = 2048)]
    pub q: Option<String>,
    /// Expired entries too.
    pub include_expired: Option<bool>,
    /// At most this many items (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

impl EntryParams {
    fn split(self) -> (EntryFilter, PageParams) {
        (
            EntryFilter {
                kind: self.kind,
                source: self.source,
                tag: self.tag,
                text: self.q,
                include_expired: self.include_expired.unwrap_or(false),
            },
            PageParams {
                limit: self.limit,
                cursor: self.cursor,
            },
        )
    }
}

/// Add an entry (analysts). Its value is made canonical: addresses as
/// written by the standard library, networks with host bits cleared,
/// domains lower case (internationalised names as punycode), hashes lower
/// case; defanged values are read.
#[utoipa::path(post, path = "/api/v1/watchlists", tag = "watchlists", security(("bearer" = [])), request_body = WatchlistEntryInput,
    responses((status = 201, body = WatchlistEntry), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "the organisation watches this value already")))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<WatchlistEntryInput>,
) -> Result<(StatusCode, Json<WatchlistEntry>), ApiError> {
    let entry = state.watchlists.create(&principal, input).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// The organisation's live entries (expired ones with
/// `include_expired=true`), newest first.
#[utoipa::path(get, path = "/api/v1/watchlists", tag = "watchlists", security(("bearer" = [])), params(EntryParams),
    responses((status = 200, body = Page<WatchlistEntry>), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<EntryParams>,
) -> Result<Json<Page<WatchlistEntry>>, ApiError> {
    let (filter, page) = params.split();
    Ok(Json(
        state.watchlists.list(&principal, &filter, &page).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/watchlists/{id}", tag = "watchlists", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = WatchlistEntry), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<WatchlistEntryId>,
) -> Result<Json<WatchlistEntry>, ApiError> {
    Ok(Json(state.watchlists.get(&principal, id).await?))
}

/// Change an entry's source, tags, description, severity, expiry or
/// subdomains (analysts; audited).
#[utoipa::path(patch, path = "/api/v1/watchlists/{id}", tag = "watchlists", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = WatchlistEntryPatch,
    responses((status = 200, body = WatchlistEntry), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<WatchlistEntryId>,
    ApiJson(patch): ApiJson<WatchlistEntryPatch>,
) -> Result<Json<WatchlistEntry>, ApiError> {
    Ok(Json(state.watchlists.update(&principal, id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/watchlists/{id}", tag = "watchlists", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<WatchlistEntryId>,
) -> Result<StatusCode, ApiError> {
    state.watchlists.delete(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How a feed is imported.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// Detected from the content when absent (JSON: STIX; otherwise CSV).
    pub format: Option<FeedFormat>,
    /// Given to every entry; `import` when absent.
    #[param(max_length = 200)]
    pub source: Option<String>,
    /// Entries without an expiry of their own expire this many days on.
    #[param(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
    /// For entries whose feed names none; 4 (high) when absent.
    #[param(minimum = 1, maximum = 5)]
    pub severity: Option<i64>,
}

/// Import a feed (the file as the body, up to 128 MiB): a STIX 2.1 bundle
/// or CSV. Indicators the organisation has already are refreshed (hits
/// kept); items that cannot be read are listed with their row or object
/// index, and the rest imported.
#[utoipa::path(post, path = "/api/v1/watchlists/import", tag = "watchlists", security(("bearer" = [])), params(ImportParams),
    request_body(content = String, content_type = "application/octet-stream", description = "the feed file"),
    responses((status = 200, body = WatchlistImportReply), (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem)))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: Bytes,
) -> Result<Json<WatchlistImportReply>, ApiError> {
    let request = WatchlistImportRequest {
        format: params.format,
        source: params.source,
        expires_in_days: params.expires_in_days,
        severity: params.severity,
    };
    Ok(Json(
        state.watchlists.import(&principal, &body, request).await?,
    ))
}

/// What an export writes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` or `stix`.
    pub format: FeedFormat,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<IndicatorType>,
    #[param(max_length = 200)]
    pub source: Option<String>,
    #[param(max_length = 500)]
    pub tag: Option<String>,
    pub include_expired: Option<bool>,
}

/// The entries as a file: CSV, or a STIX 2.1 bundle of indicators.
#[utoipa::path(get, path = "/api/v1/watchlists/export", tag = "watchlists", security(("bearer" = [])), params(ExportParams),
    responses((status = 200, description = "the file (text/csv or application/stix+json)", body = String), (status = 400, body = Problem)))]
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<axum::response::Response, ApiError> {
    let filter = EntryFilter {
        kind: params.kind,
        source: params.source,
        tag: params.tag,
        text: None,
        include_expired: params.include_expired.unwrap_or(false),
    };
    let file = state
        .watchlists
        .export(&principal, &filter, params.format)
        .await?;
    Ok(file_response(file))
}

/// Hunt an entry back in time (analysts): a job reads the last `days`
/// days of events and raises the alerts ingest would have.
#[utoipa::path(post, path = "/api/v1/watchlists/{id}/hunt", tag = "watchlists", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = HuntRequest,
    responses((status = 202, body = HuntQueued), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "a hunt for this entry is pending")))]
pub async fn hunt(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<WatchlistEntryId>,
    ApiJson(request): ApiJson<HuntRequest>,
) -> Result<(StatusCode, Json<HuntQueued>), ApiError> {
    let queued = state.watchlists.hunt(&principal, id, request).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}
