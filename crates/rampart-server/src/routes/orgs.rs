//! `/api/v1/org` (the caller's organisation) and `/api/v1/orgs` (platform admin).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_core::{Organisation, Permission};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Principal};
use crate::routes::{Page, PageParams};
use crate::state::AppState;
use rampart_app::accounts::UserInput;
use rampart_app::api::accounts::{CreateOrg, CreatedOrg, OrgSettings, OrgSettingsInput};

/// The caller's organisation.
#[utoipa::path(get, path = "/api/v1/org", tag = "organisations", security(("bearer" = [])),
    responses((status = 200, body = Organisation), (status = 403, body = Problem)))]
pub async fn current(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Organisation>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.organisations.get(principal.org_id).await?))
}

/// All organisations (platform admin).
#[utoipa::path(get, path = "/api/v1/orgs", tag = "organisations", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<Organisation>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<Page<Organisation>>, ApiError> {
    principal.require_platform_admin()?;
    Ok(Json(state.organisations.list(&page).await?))
}

/// Create an organisation with its first admin (platform admin).
#[utoipa::path(post, path = "/api/v1/orgs", tag = "organisations", security(("bearer" = [])), request_body = CreateOrg,
    responses((status = 201, body = CreatedOrg), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateOrg>,
) -> Result<(StatusCode, Json<CreatedOrg>), ApiError> {
    principal.require_platform_admin()?;
    let admin = UserInput {
        email: body.admin.email,
        display_name: body.admin.display_name,
        role: rampart_core::Role::Admin,
        password: body.admin.password,
    };
    let (organisation, admin) = state.organisations.create(&body.name, admin).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOrg {
            organisation,
            admin,
        }),
    ))
}

/// The caller's organisation's settings.
#[utoipa::path(get, path = "/api/v1/org/settings", tag = "organisations", security(("bearer" = [])),
    responses((status = 200, body = OrgSettings), (status = 403, body = Problem)))]
pub async fn settings(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<OrgSettings>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.organisations.settings(principal.org_id).await?))
}

/// Change the caller's organisation's settings (admin).
#[utoipa::path(put, path = "/api/v1/org/settings", tag = "organisations", security(("bearer" = [])),
    request_body = OrgSettingsInput,
    responses((status = 200, body = OrgSettings), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn update_settings(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<OrgSettingsInput>,
) -> Result<Json<OrgSettings>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(
        state
            .organisations
            .update_settings(&principal, input)
            .await?,
    ))
}
