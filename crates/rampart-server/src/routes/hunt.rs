//! `POST /api/v1/hunt`: a query in the hunting language over the
//! organisation's events; `/api/v1/saved-hunts`: hunts kept under a name
//! and run on a schedule.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_app::api::hunt::{HuntReply, HuntRequest, SavedHuntInput, SavedHuntRun};
use rampart_core::hunt::saved::SavedHunt;
use rampart_core::SavedHuntId;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, PathId, Principal};
use crate::state::AppState;

/// Hunt through the organisation's events: `field:value`, quoted phrases,
/// wildcards, `/regex/`, `AND`/`OR`/`NOT` and parentheses, ranges
/// (`event.severity >= 3`), CIDR (`source.ip:10.0.0.0/8`), `_exists_:f`,
/// free text on the message; then `| stats count() by f1, f2`,
/// `| sort -count`, `| head N`, `| fields a, b`, `| timechart 5m [by f]`.
/// A syntax error is a problem whose `column` says where. Hunts stop at
/// 30 s or 20 million events read (`truncated`).
#[utoipa::path(post, path = "/api/v1/hunt", tag = "hunting", security(("bearer" = [])), request_body = HuntRequest,
    responses((status = 200, body = HuntReply), (status = 400, body = Problem, description = "the query could not be read: `column` says where")))]
pub async fn hunt(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<HuntRequest>,
) -> Result<Json<HuntReply>, ApiError> {
    Ok(Json(state.hunts.hunt(&principal, request).await?))
}

/// The organisation's saved hunts.
#[utoipa::path(get, path = "/api/v1/saved-hunts", tag = "hunting", security(("bearer" = [])),
    responses((status = 200, body = Vec<SavedHunt>)))]
pub async fn saved(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<SavedHunt>>, ApiError> {
    Ok(Json(state.hunts.saved(&principal).await?))
}

/// Save a hunt (analysts; audited), optionally on a cron schedule: each
/// scheduled run covers the last `window_minutes` and, when it matches at
/// least `threshold` events, raises an alert (rule `hunt:<id>`, opening or
/// joining the hunt's open incident) or sends a `hunt.matched` notice.
#[utoipa::path(post, path = "/api/v1/saved-hunts", tag = "hunting", security(("bearer" = [])), request_body = SavedHuntInput,
    responses((status = 201, body = SavedHunt), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn save(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<SavedHuntInput>,
) -> Result<(StatusCode, Json<SavedHunt>), ApiError> {
    let hunt = state.hunts.save(&principal, input).await?;
    Ok((StatusCode::CREATED, Json(hunt)))
}

/// One saved hunt and what its last run found.
#[utoipa::path(get, path = "/api/v1/saved-hunts/{id}", tag = "hunting", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = SavedHunt), (status = 404, body = Problem)))]
pub async fn saved_hunt(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<SavedHuntId>,
) -> Result<Json<SavedHunt>, ApiError> {
    Ok(Json(state.hunts.saved_hunt(&principal, id).await?))
}

/// Replace a saved hunt (its owner or an admin; audited). A changed
/// schedule starts from now.
#[utoipa::path(put, path = "/api/v1/saved-hunts/{id}", tag = "hunting", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = SavedHuntInput,
    responses((status = 200, body = SavedHunt), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update_saved(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<SavedHuntId>,
    ApiJson(input): ApiJson<SavedHuntInput>,
) -> Result<Json<SavedHunt>, ApiError> {
    Ok(Json(state.hunts.update_saved(&principal, id, input).await?))
}

/// Delete a saved hunt (its owner or an admin; audited).
#[utoipa::path(delete, path = "/api/v1/saved-hunts/{id}", tag = "hunting", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_saved(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<SavedHuntId>,
) -> Result<StatusCode, ApiError> {
    state.hunts.delete_saved(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Run a saved hunt over its window now. The result is recorded on the
/// hunt; a run by hand raises no alert and sends no notice.
#[utoipa::path(post, path = "/api/v1/saved-hunts/{id}/run", tag = "hunting", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = SavedHuntRun), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn run_saved(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<SavedHuntId>,
) -> Result<Json<SavedHuntRun>, ApiError> {
    Ok(Json(state.hunts.run_saved(&principal, id).await?))
}
