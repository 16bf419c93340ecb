//! `/api/v1/api-keys`: scoped keys of the organisation (admin).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use rampart_core::{ApiKey, ApiKeyId, ApiKeyScope, Permission};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Principal};
use crate::routes::{Page, PageParams};
use crate::state::AppState;
use rampart_app::audit;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(min_items = 1)]
    pub scopes: Vec<ApiKeyScope>,
}

/// A new key with its secret, shown only in this answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The key to send as `Authorization: Bearer rk_…`; it is not stored and cannot be shown again.
    pub key: String,
}

fn parse_id(id: &str) -> Result<ApiKeyId, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("API key"))
}

/// Create a key.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = [])), request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    principal.require(Permission::Admin)?;
    let created_by = principal.user().map(|u| u.id);
    let created = state
        .accounts
        .create_api_key(principal.org_id, &body.name, body.scopes, created_by)
        .await?;
    let target = ("api_key", created.key.id.to_string());
    let after = audit::snapshot(&created.key);
    state
        .audit
        .record(&principal, "api_key.create", target, None, after)
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
    let limit = page.limit()?;
    let keys = state
        .store
        .list_api_keys(principal.org_id, page.cursor()?, limit)
        .await?;
    Ok(Json(Page::new(keys, limit, |k| k.id.to_string())))
}

/// One key.
#[utoipa::path(get, path = "/api/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = ApiKey), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    principal.require(Permission::Admin)?;
    let key = state
        .store
        .get_api_key(principal.org_id, parse_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))?;
    Ok(Json(key))
}

/// Revoke a key; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = ApiKey), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    principal.require(Permission::Admin)?;
    let key = state
        .accounts
        .revoke_api_key(principal.org_id, parse_id(&id)?)
        .await?;
    let target = ("api_key", key.id.to_string());
    state
        .audit
        .record(
            &principal,
            "api_key.revoke",
            target,
            None,
            audit::snapshot(&key),
        )
        .await?;
    Ok(Json(key))
}
