//! `POST /api/v1/hunt`: a query in the hunting language over the
//! organisation's events.

use axum::extract::State;
use axum::Json;
use rampart_app::api::hunt::{HuntReply, HuntRequest};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Principal};
use crate::state::AppState;

/// Hunt through the organisation's events: `field:value`, quoted phrases,
/// wildcards, `/regex/`, `AND`/`OR`/`NOT` and parentheses, ranges
/// (`event.severity >= 3`), CIDR (`source.ip:10.0.0.0/8`), `_exists_:f`,
/// free text on the message; then `| stats count() by f1, f2`,
/// `| sort -count`, `| head N`, `| fields a, b`, `| timechart 5m [by f]`.
/// A syntax error is a problem whose `column` says where. Hunts stop at
/// 30 s or 20 million events read (`truncated`).
#[utoipa::path(post, path = "/api/v1/hunt", tag = "hunting", security(("bearer" = [])), request_body = HuntRequest,
    responses((status = 200, body = HuntReply), (status = 400, body = Problem, description = "the query could not be read: `column` says where")))]
pub async fn hunt(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<HuntRequest>,
) -> Result<Json<HuntReply>, ApiError> {
    Ok(Json(state.hunts.hunt(&principal, request).await?))
}
