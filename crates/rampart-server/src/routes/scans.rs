//! `/api/v1/scope` and `/api/v1/scans`: what an organisation may scan
//! (admins), and Rampart's own scans of it (analysts), run as jobs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_app::scans::{ScanRequest, ScheduleInput, ScopeInput};
use rampart_core::scan::{Scan, ScanSchedule, ScopeEntry};
use rampart_core::{ScanId, ScanScheduleId, ScopeEntryId};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, PathId, Principal};
use crate::routes::vulns::ImportListParams;
use crate::routes::{Page, PageParams};
use crate::state::AppState;

/// What the organisation may scan.
#[utoipa::path(get, path = "/api/v1/scope", tag = "scans", security(("bearer" = [])),
    responses((status = 200, body = Vec<ScopeEntry>), (status = 403, body = Problem)))]
pub async fn scope(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<ScopeEntry>>, ApiError> {
    Ok(Json(state.scans.scope(&principal).await?))
}

/// Authorise a target for scanning (admins; audited): a network, a host
/// name (`*.example.com` for subdomains) or a URL prefix, optionally on
/// some ports only. Loopback, private, link-local and cloud-metadata
/// addresses are scanned only when an entry names them at least as
/// narrowly as their block.
#[utoipa::path(post, path = "/api/v1/scope", tag = "scans", security(("bearer" = [])), request_body = ScopeInput,
    responses((status = 201, body = ScopeEntry), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn add_scope(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<ScopeInput>,
) -> Result<(StatusCode, Json<ScopeEntry>), ApiError> {
    let entry = state.scans.add_scope(&principal, input).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Remove a scope entry (admins; audited).
#[utoipa::path(delete, path = "/api/v1/scope/{id}", tag = "scans", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove_scope(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ScopeEntryId>,
) -> Result<StatusCode, ApiError> {
    state.scans.remove_scope(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start a scan (analysts; audited): every target is checked against the
/// scope first (host names resolved), and refused with the reason when
/// outside it. The scan runs as a job on the `scans` queue; its findings
/// are stored like an import of scan type `web-baseline`,
/// `exposed-files` or `ports` on the asset.
#[utoipa::path(post, path = "/api/v1/scans", tag = "scans", security(("bearer" = [])), request_body = ScanRequest,
    responses((status = 202, body = Scan), (status = 400, body = Problem, description = "a target outside the scope: `field` names it"),
        (status = 403, body = Problem)))]
pub async fn start(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<ScanRequest>,
) -> Result<(StatusCode, Json<Scan>), ApiError> {
    let scan = state.scans.start(&principal, request).await?;
    Ok((StatusCode::ACCEPTED, Json(scan)))
}

/// The organisation's scans, newest first.
#[utoipa::path(get, path = "/api/v1/scans", tag = "scans", security(("bearer" = [])), params(ImportListParams),
    responses((status = 200, body = Page<Scan>), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ImportListParams>,
) -> Result<Json<Page<Scan>>, ApiError> {
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    Ok(Json(
        state.scans.list(&principal, params.asset_id, &page).await?,
    ))
}

/// A scan with its progress, counts and per-target outcomes.
#[utoipa::path(get, path = "/api/v1/scans/{id}", tag = "scans", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Scan), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ScanId>,
) -> Result<Json<Scan>, ApiError> {
    Ok(Json(state.scans.get(&principal, id).await?))
}

/// Cancel a scan (analysts): a queued one at once, a running one at its
/// next check.
#[utoipa::path(post, path = "/api/v1/scans/{id}/cancel", tag = "scans", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Scan), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ScanId>,
) -> Result<Json<Scan>, ApiError> {
    Ok(Json(state.scans.cancel(&principal, id).await?))
}

/// The organisation's recurring scans.
#[utoipa::path(get, path = "/api/v1/scan-schedules", tag = "scans", security(("bearer" = [])),
    responses((status = 200, body = Vec<ScanSchedule>)))]
pub async fn schedules(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<ScanSchedule>>, ApiError> {
    Ok(Json(state.scans.schedules(&principal).await?))
}

/// Schedule a scan (analysts; audited): its request is checked against
/// the scope now and again at every run; a run the scope no longer
/// allows is recorded in `last_error`.
#[utoipa::path(post, path = "/api/v1/scan-schedules", tag = "scans", security(("bearer" = [])), request_body = ScheduleInput,
    responses((status = 201, body = ScanSchedule), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create_schedule(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> Result<(StatusCode, Json<ScanSchedule>), ApiError> {
    let schedule = state.scans.create_schedule(&principal, input).await?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

/// Remove a recurring scan (analysts; audited).
#[utoipa::path(delete, path = "/api/v1/scan-schedules/{id}", tag = "scans", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_schedule(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ScanScheduleId>,
) -> Result<StatusCode, ApiError> {
    state.scans.delete_schedule(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
