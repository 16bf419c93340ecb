//! `/api/v1/users` and `/api/v1/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_core::{Permission, User, UserId};

use crate::error::{ApiError, Problem};
use crate::extract::{Actor, ApiJson, ApiQuery, PathId, Principal};
use crate::routes::{Page, PageParams};
use crate::state::AppState;
use rampart_app::accounts::{UserChange, UserInput};
use rampart_app::api::accounts::{CreateUser, Me, UpdateUser};

/// Who am I?
#[utoipa::path(get, path = "/api/v1/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(principal: Principal) -> Json<Me> {
    Json(match principal.actor {
        Actor::User { user, .. } => Me::User { user },
        Actor::ApiKey { key } => Me::ApiKey { api_key: key },
    })
}

/// List the organisation's users.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<User>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<Page<User>>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.users.list(principal.org_id, &page).await?))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUser,
    responses((status = 201, body = User), (status = 400, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    principal.require(Permission::Admin)?;
    let input = UserInput {
        email: body.email,
        display_name: body.display_name,
        role: body.role,
        password: body.password,
    };
    let user = state.users.create(&principal, input).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<UserId>,
) -> Result<Json<User>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.users.get(principal.org_id, id).await?))
}

/// Change a user's name, role, password or disabled state (admin).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), request_body = UpdateUser,
    responses((status = 200, body = User), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<UserId>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> Result<Json<User>, ApiError> {
    principal.require(Permission::Admin)?;
    let change = UserChange {
        display_name: body.display_name,
        role: body.role,
        disabled: body.disabled,
        password: body.password,
    };
    Ok(Json(state.users.update(&principal, id, change).await?))
}

/// Delete a user (admin).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<UserId>,
) -> Result<StatusCode, ApiError> {
    principal.require(Permission::Admin)?;
    state.users.delete(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
