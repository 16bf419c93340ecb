//! `/api/v1/flags`: feature flags of the organisation (admins change them)
//! and of the platform (`platform=true`; platform admins change them), and
//! their evaluation for the caller.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use rampart_app::api::flags::{EvaluateInput, FlagInput, FlagView, NewFlag};
use rampart_core::flag::Evaluation;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Principal};
use crate::routes::params::PlatformScope;
use crate::state::AppState;

/// The flags of the organisation (or the platform's).
#[utoipa::path(get, path = "/api/v1/flags", tag = "flags", security(("bearer" = [])), params(PlatformScope),
    responses((status = 200, body = Vec<FlagView>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(scope): ApiQuery<PlatformScope>,
) -> Result<Json<Vec<FlagView>>, ApiError> {
    let platform = scope.platform();
    Ok(Json(state.flags.list(&principal, platform).await?))
}

/// Create a flag (admin; a platform flag: platform admin). Audited.
#[utoipa::path(post, path = "/api/v1/flags", tag = "flags", security(("bearer" = [])), request_body = NewFlag,
    responses((status = 201, body = FlagView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NewFlag>,
) -> Result<(StatusCode, Json<FlagView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.flags.create(&principal, input).await?),
    ))
}

/// One flag.
#[utoipa::path(get, path = "/api/v1/flags/{key}", tag = "flags", security(("bearer" = [])), params(PlatformScope),
    responses((status = 200, body = FlagView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
    ApiQuery(scope): ApiQuery<PlatformScope>,
) -> Result<Json<FlagView>, ApiError> {
    let platform = scope.platform();
    Ok(Json(state.flags.get(&principal, &key, platform).await?))
}

/// Replace a flag's definition (admin). Audited; every node follows
/// within a second.
#[utoipa::path(put, path = "/api/v1/flags/{key}", tag = "flags", security(("bearer" = [])), params(PlatformScope),
    request_body = FlagInput,
    responses((status = 200, body = FlagView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
    ApiQuery(scope): ApiQuery<PlatformScope>,
    ApiJson(input): ApiJson<FlagInput>,
) -> Result<Json<FlagView>, ApiError> {
    let platform = scope.platform();
    Ok(Json(
        state
            .flags
            .replace(&principal, &key, platform, input)
            .await?,
    ))
}

/// Delete a flag (admin). Audited.
#[utoipa::path(delete, path = "/api/v1/flags/{key}", tag = "flags", security(("bearer" = [])), params(PlatformScope),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
    ApiQuery(scope): ApiQuery<PlatformScope>,
) -> Result<StatusCode, ApiError> {
    let platform = scope.platform();
    state.flags.delete(&principal, &key, platform).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Evaluate a flag for a context (the caller's organisation; the caller's
/// own user, role and e-mail unless given): `{enabled, variant, reason}`.
#[utoipa::path(post, path = "/api/v1/flags/evaluate", tag = "flags", security(("bearer" = [])),
    request_body = EvaluateInput,
    responses((status = 200, body = Evaluation), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn evaluate(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<EvaluateInput>,
) -> Result<Json<Evaluation>, ApiError> {
    Ok(Json(state.flags.evaluate(&principal, input)?))
}
