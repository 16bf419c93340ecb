//! `/api/v1/rules`: detection rules (Sigma YAML) with hit counts; admins
//! write them, analysts validate and test them, readers read them. Also
//! `/api/v1/detection/field-mapping`, the Sigma field names' mapping.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use rampart_core::Permission;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, Principal};
use crate::routes::Page;
use crate::state::AppState;
use rampart_app::api::rules::{
    FieldMappingInput, FieldMappingView, RuleInput, RuleSummary, RuleView, TestInput, TestReport,
    ValidateInput,
};
use rampart_app::paging::TextPageParams;

/// List rules (built-in and own) with their hit counts.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", security(("bearer" = [])), params(TextPageParams),
    responses((status = 200, body = Page<RuleView>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<TextPageParams>,
) -> Result<Json<Page<RuleView>>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(
        state.rules.list(principal.org_id, &page.into()).await?,
    ))
}

/// Add a rule (admin).
#[utoipa::path(post, path = "/api/v1/rules", tag = "rules", security(("bearer" = [])), request_body = RuleInput,
    responses((status = 201, body = RuleView), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<(StatusCode, Json<RuleView>), ApiError> {
    principal.require(Permission::Admin)?;
    Ok((
        StatusCode::CREATED,
        Json(state.rules.create(&principal, input).await?),
    ))
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/rules/{id}", tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = RuleView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<RuleView>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.rules.get(principal.org_id, &id).await?))
}

/// Replace a rule's YAML (admin; not for built-in rules).
#[utoipa::path(put, path = "/api/v1/rules/{id}", tag = "rules", security(("bearer" = [])), request_body = RuleInput,
    responses((status = 200, body = RuleView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<RuleView>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(state.rules.replace(&principal, &id, input).await?))
}

/// Delete a rule (admin; not for built-in rules).
#[utoipa::path(delete, path = "/api/v1/rules/{id}", tag = "rules", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(Permission::Admin)?;
    state.rules.delete(&principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Switch a rule on (admin).
#[utoipa::path(post, path = "/api/v1/rules/{id}/enable", tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = RuleView), (status = 404, body = Problem)))]
pub async fn enable(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<RuleView>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(state.rules.set_enabled(&principal, &id, true).await?))
}

/// Switch a rule off (admin).
#[utoipa::path(post, path = "/api/v1/rules/{id}/disable", tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = RuleView), (status = 404, body = Problem)))]
pub async fn disable(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<RuleView>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(state.rules.set_enabled(&principal, &id, false).await?))
}

/// Check a rule without storing it: 200 with its summary, or 400 naming
/// what could not be loaded.
#[utoipa::path(post, path = "/api/v1/rules/validate", tag = "rules", security(("bearer" = [])), request_body = ValidateInput,
    responses((status = 200, body = RuleSummary), (status = 400, body = Problem)))]
pub async fn validate(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<ValidateInput>,
) -> Result<Json<RuleSummary>, ApiError> {
    principal.require(Permission::Analyse)?;
    Ok(Json(
        state.rules.validate(principal.org_id, &input.yaml).await?,
    ))
}

/// Run rules over sample events; nothing is stored.
#[utoipa::path(post, path = "/api/v1/rules/test", tag = "rules", security(("bearer" = [])), request_body = TestInput,
    responses((status = 200, body = TestReport), (status = 400, body = Problem)))]
pub async fn test(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<TestInput>,
) -> Result<Json<TestReport>, ApiError> {
    principal.require(Permission::Analyse)?;
    Ok(Json(state.rules.test(principal.org_id, input).await?))
}

/// The organisation's Sigma field mapping: its own entries and the
/// built-in defaults.
#[utoipa::path(get, path = "/api/v1/detection/field-mapping", tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = FieldMappingView), (status = 403, body = Problem)))]
pub async fn field_mapping(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<FieldMappingView>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.rules.field_mapping(principal.org_id).await?))
}

/// Replace the organisation's own field mapping (admin); the rules are
/// recompiled with it. An empty `mapping` leaves only the defaults.
#[utoipa::path(put, path = "/api/v1/detection/field-mapping", tag = "rules", security(("bearer" = [])),
    request_body = FieldMappingInput,
    responses((status = 200, body = FieldMappingView), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn replace_field_mapping(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<FieldMappingInput>,
) -> Result<Json<FieldMappingView>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(
        state.rules.replace_field_mapping(&principal, input).await?,
    ))
}
