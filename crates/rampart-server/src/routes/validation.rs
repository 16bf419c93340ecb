//! `/api/v1/validation-rules`: rules for incoming events (admin writes,
//! readers read) and their pass/fail counts over time.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_core::validation::ValidationRule;
use rampart_core::{Permission, ValidationRuleId};
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, PathId, Principal};
use crate::routes::params::Time;
use crate::state::AppState;
use rampart_app::api::validation::{CountBucket, RuleCounts, RuleInput, RuleList};

/// List rules.
#[utoipa::path(get, path = "/api/v1/validation-rules", tag = "validation", security(("bearer" = [])),
    responses((status = 200, body = RuleList), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<RuleList>, ApiError> {
    principal.require(Permission::Read)?;
    let items = state.validation_rules.list(principal.org_id).await?;
    Ok(Json(RuleList { items }))
}

/// Create a rule.
#[utoipa::path(post, path = "/api/v1/validation-rules", tag = "validation", security(("bearer" = [])),
    request_body = RuleInput,
    responses((status = 201, body = ValidationRule), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<(StatusCode, Json<ValidationRule>), ApiError> {
    principal.require(Permission::Admin)?;
    let rule = state
        .validation_rules
        .create(principal.org_id, input)
        .await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/validation-rules/{id}", tag = "validation", security(("bearer" = [])),
    responses((status = 200, body = ValidationRule), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ValidationRuleId>,
) -> Result<Json<ValidationRule>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(
        state.validation_rules.get(principal.org_id, id).await?,
    ))
}

/// Replace a rule's definition (also to enable or disable it).
#[utoipa::path(put, path = "/api/v1/validation-rules/{id}", tag = "validation", security(("bearer" = [])),
    request_body = RuleInput,
    responses((status = 200, body = ValidationRule), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ValidationRuleId>,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<ValidationRule>, ApiError> {
    principal.require(Permission::Admin)?;
    let rule = state
        .validation_rules
        .replace(principal.org_id, id, input)
        .await?;
    Ok(Json(rule))
}

/// Delete a rule.
#[utoipa::path(delete, path = "/api/v1/validation-rules/{id}", tag = "validation", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ValidationRuleId>,
) -> Result<StatusCode, ApiError> {
    principal.require(Permission::Admin)?;
    state.validation_rules.delete(principal.org_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountParams {
    /// From (RFC 3339 or epoch ms) [default: an hour ago].
    #[param(schema_with = crate::routes::params::schema::time)]
    pub from: Option<Time>,
    /// Until, exclusive [default: now].
    #[param(schema_with = crate::routes::params::schema::time)]
    pub to: Option<Time>,
    /// Bucket width in minutes (1–1440) [default: 1].
    #[param(minimum = 1, maximum = 1440)]
    pub bucket_minutes: Option<i64>,
}

/// How many events passed and failed the rule, over time.
#[utoipa::path(get, path = "/api/v1/validation-rules/{id}/counts", tag = "validation", security(("bearer" = [])),
    params(CountParams),
    responses((status = 200, body = RuleCounts), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn counts(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ValidationRuleId>,
    ApiQuery(params): ApiQuery<CountParams>,
) -> Result<Json<RuleCounts>, ApiError> {
    principal.require(Permission::Read)?;
    let (from, to) = (params.from.map(|t| t.0), params.to.map(|t| t.0));
    let buckets = state
        .validation_rules
        .counts(principal.org_id, id, from, to, params.bucket_minutes)
        .await?;
    Ok(Json(RuleCounts {
        rule_id: id,
        passed: buckets.iter().map(|b| b.1).sum(),
        failed: buckets.iter().map(|b| b.2).sum(),
        buckets: buckets
            .into_iter()
            .map(|(start, passed, failed)| CountBucket {
                start,
                passed,
                failed,
            })
            .collect(),
    }))
}
