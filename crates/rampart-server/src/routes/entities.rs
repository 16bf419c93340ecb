//! `/api/v1/entities/{kind}/{value}`: an address's, user's or host's
//! timeline.

use axum::extract::{Path, State};
use axum::Json;
use rampart_app::api::entities::{EntityKind, EntityTimeline};
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, Principal};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineParams {
    /// Days of events, 1 to 90 (7 when absent).
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<i64>,
}

/// Everything known about an address, a user or a host, newest first: its
/// events (an address as source or destination), the alerts and incidents
/// that name it, open findings of assets that name it, and the watchlist
/// entries it matches.
#[utoipa::path(get, path = "/api/v1/entities/{kind}/{value}", tag = "hunting", security(("bearer" = [])),
    params(("kind" = EntityKind, Path), ("value" = String, Path, description = "the address, user name or host name"), TimelineParams),
    responses((status = 200, body = EntityTimeline), (status = 400, body = Problem)))]
pub async fn timeline(
    State(state): State<AppState>,
    principal: Principal,
    Path((kind, value)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<TimelineParams>,
) -> Result<Json<EntityTimeline>, ApiError> {
    let kind = EntityKind::parse(&kind)
        .ok_or_else(|| rampart_core::Error::invalid_field("kind", "ip, user or host"))?;
    Ok(Json(
        state
            .entities
            .timeline(&principal, kind, &value, params.days.unwrap_or(7))
            .await?,
    ))
}
