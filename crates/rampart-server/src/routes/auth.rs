//! `/api/v1/auth`: login, refresh, logout.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp, Principal};
use crate::state::AppState;
use rampart_app::api::accounts::{LoginRequest, RefreshRequest, TokenPair};

/// Exchange e-mail and password for an access token and a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem),
              (status = 429, body = Problem, description = "too many failures or attempts from this address; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(
        state.sessions.login(&body.email, body.password, ip).await?,
    ))
}

/// Rotate a refresh token: the old one stops working, a new pair is returned.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem),
              (status = 429, body = Problem, description = "too many attempts from this address; see Retry-After")))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(state.sessions.refresh(&body.refresh_token).await?))
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem, description = "an API key has no session"), (status = 401, body = Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<StatusCode, ApiError> {
    state.sessions.logout(&principal).await?;
    Ok(StatusCode::NO_CONTENT)
}
