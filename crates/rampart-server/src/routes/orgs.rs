//! `/api/v1/org` (the caller's organisation) and `/api/v1/orgs` (platform admin).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_core::{Organisation, Permission, User};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Principal};
use crate::routes::{Page, PageParams};
use crate::state::AppState;
use rampart_app::accounts::UserInput;
use rampart_app::audit;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub admin: NewOrgAdmin,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgAdmin {
    #[schema(format = Email)]
    pub email: String,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub display_name: Option<String>,
    #[schema(value_type = String, format = Password, min_length = 12, max_length = 1024)]
    pub password: SecretString,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedOrg {
    pub organisation: Organisation,
    pub admin: User,
}

/// The caller's organisation.
#[utoipa::path(get, path = "/api/v1/org", tag = "organisations", security(("bearer" = [])),
    responses((status = 200, body = Organisation), (status = 403, body = Problem)))]
pub async fn current(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Organisation>, ApiError> {
    principal.require(Permission::Read)?;
    let org = state
        .store
        .get_org(principal.org_id)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    Ok(Json(org))
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
    let limit = page.limit()?;
    let orgs = state.store.list_orgs(page.cursor()?, limit).await?;
    Ok(Json(Page::new(orgs, limit, |o| o.id.to_string())))
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
    let (organisation, admin) = state.accounts.create_org(&body.name, admin, false).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOrg {
            organisation,
            admin,
        }),
    ))
}

/// The organisation's settings.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgSettings {
    /// Days events are kept (the organisation's own value or the default).
    pub retention_days: i64,
    /// The organisation's own value; absent when the default applies.
    pub retention_days_override: Option<i64>,
    pub default_retention_days: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsInput {
    /// Days to keep events (1–3650); null for the server default.
    #[schema(minimum = 1, maximum = 3650)]
    pub retention_days: Option<i64>,
}

async fn settings_of(state: &AppState, org: rampart_core::OrgId) -> Result<OrgSettings, ApiError> {
    let own = state.store.retention_days(org).await?;
    let default = state.config.ingest.retention_days;
    Ok(OrgSettings {
        retention_days: own.unwrap_or(default),
        retention_days_override: own,
        default_retention_days: default,
    })
}

/// The caller's organisation's settings.
#[utoipa::path(get, path = "/api/v1/org/settings", tag = "organisations", security(("bearer" = [])),
    responses((status = 200, body = OrgSettings), (status = 403, body = Problem)))]
pub async fn settings(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<OrgSettings>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(settings_of(&state, principal.org_id).await?))
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
    if let Some(days) = input.retention_days {
        if !(1..=3650).contains(&days) {
            return Err(ApiError::invalid_field(
                "retention_days",
                "must be between 1 and 3650",
            ));
        }
    }
    let before = settings_of(&state, principal.org_id).await?;
    state
        .store
        .set_retention_days(principal.org_id, input.retention_days)
        .await?;
    let after = settings_of(&state, principal.org_id).await?;
    let target = ("settings", principal.org_id.to_string());
    let (b, a) = (audit::snapshot(&before), audit::snapshot(&after));
    state
        .audit
        .record(&principal, "settings.update", target, b, a)
        .await?;
    Ok(Json(after))
}
