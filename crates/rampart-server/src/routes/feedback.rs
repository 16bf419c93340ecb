//! `/api/v1/feedback`: users send feedback and read the answers to theirs;
//! admins list, answer and close their organisation's.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_app::api::feedback::{FeedbackChange, FeedbackView, NewFeedback};
use rampart_core::feedback::FeedbackStatus;
use rampart_core::FeedbackId;
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, PathId, Principal};
use crate::routes::{Page, PageParams};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedbackParams {
    pub status: Option<FeedbackStatus>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

/// Send feedback (signed-in users; at most 20 an hour).
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", security(("bearer" = [])), request_body = NewFeedback,
    responses((status = 201, body = FeedbackView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 429, body = Problem)))]
pub async fn submit(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NewFeedback>,
) -> Result<(StatusCode, Json<FeedbackView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.feedback.submit(&principal, input).await?),
    ))
}

/// The organisation's feedback, newest first (admins).
#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback", security(("bearer" = [])), params(FeedbackParams),
    responses((status = 200, body = Page<FeedbackView>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<FeedbackParams>,
) -> Result<Json<Page<FeedbackView>>, ApiError> {
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    Ok(Json(
        state
            .feedback
            .list(&principal, params.status, &page)
            .await?,
    ))
}

/// The caller's own feedback with its answers.
#[utoipa::path(get, path = "/api/v1/feedback/mine", tag = "feedback", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<FeedbackView>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn mine(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<Page<FeedbackView>>, ApiError> {
    Ok(Json(state.feedback.mine(&principal, &page).await?))
}

/// Answer feedback or change its status (admins; audited).
#[utoipa::path(patch, path = "/api/v1/feedback/{id}", tag = "feedback", security(("bearer" = [])),
    request_body = FeedbackChange,
    responses((status = 200, body = FeedbackView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn change(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<FeedbackId>,
    ApiJson(change): ApiJson<FeedbackChange>,
) -> Result<Json<FeedbackView>, ApiError> {
    Ok(Json(state.feedback.change(&principal, id, change).await?))
}
