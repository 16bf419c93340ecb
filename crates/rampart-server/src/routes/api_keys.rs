//! `/api/v1/api-keys`: scoped keys of the organisation (admin).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_core::{ApiKey, ApiKeyId, Permission};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, PathId, Principal};
use crate::routes::{Page, PageParams};
use crate::state::AppState;
use rampart_app::api::accounts::{CreateApiKey, CreatedApiKey};

/// Create a key.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = [])), request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    principal.require(Permission::Admin)?;
    let created = state
        .api_keys
        .create(&principal, &body.name, body.scopes)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            api_key: created.key,
            key: created.secret,
        }),
    ))
}

/// List keys (without their secrets).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<ApiKey>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<Page<ApiKey>>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(state.api_keys.list(principal.org_id, &page).await?))
}

/// One key.
#[utoipa::path(get, path = "/api/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = ApiKey), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ApiKeyId>,
) -> Result<Json<ApiKey>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(state.api_keys.get(principal.org_id, id).await?))
}

/// Revoke a key; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = ApiKey), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ApiKeyId>,
) -> Result<Json<ApiKey>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(state.api_keys.revoke(&principal, id).await?))
}
