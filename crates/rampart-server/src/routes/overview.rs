//! `/api/v1/overview`: the organisation at a glance (the dashboard's data).

use axum::extract::State;
use axum::Json;
use rampart_app::api::overview::OverviewView;
use rampart_app::overview::parse_range;
use rampart_app::principal::Principal;
use rampart_core::Permission;
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverviewParams {
    /// The range ending now: `15m`, `1h` (default), `24h`, `7d` (at most 31 days).
    #[param(pattern = "^[0-9]{1,6}[mhd]$")]
    pub range: Option<String>,
}

/// Incidents by status, severity and age; event counts over the range with
/// the top source addresses, users and hosts.
#[utoipa::path(get, path = "/api/v1/overview", tag = "overview", security(("bearer" = [])), params(OverviewParams),
    responses((status = 200, body = OverviewView), (status = 400, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<OverviewParams>,
) -> Result<Json<OverviewView>, ApiError> {
    principal.require(Permission::Read)?;
    let range = parse_range(params.range.as_deref().unwrap_or("1h"))?;
    Ok(Json(state.overview.get(principal.org_id, range).await?))
}
