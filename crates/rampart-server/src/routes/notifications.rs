//! `/api/v1/notifications`: channels and routing rules (admins), the
//! delivery log (admins), and `/api/v1/me/notifications`, a user's own
//! e-mail preferences.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_app::api::notifications::{
    ChannelChange, ChannelInput, ChannelView, DeliveryView, NotificationRuleChange,
    NotificationRuleInput, NotificationRuleView,
};
use rampart_core::notification::{DeliveryStatus, NotificationPrefs};
use rampart_core::{ChannelId, DeliveryId, JobId, NotificationRuleId};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, PathId, Principal};
use crate::routes::{Page, PageParams};
use crate::state::AppState;

/// The organisation's channels (admins).
#[utoipa::path(get, path = "/api/v1/notifications/channels", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Vec<ChannelView>), (status = 403, body = Problem)))]
pub async fn channels(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(state.notifications.channels(&principal).await?))
}

/// Add a channel: e-mail, a signed webhook or a Slack-compatible webhook (admins; audited).
#[utoipa::path(post, path = "/api/v1/notifications/channels", tag = "notifications", security(("bearer" = [])),
    request_body = ChannelInput,
    responses((status = 201, body = ChannelView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem)))]
pub async fn create_channel(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<ChannelInput>,
) -> Result<(StatusCode, Json<ChannelView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .notifications
                .create_channel(&principal, input)
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/notifications/channels/{id}", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = ChannelView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_channel(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ChannelId>,
) -> Result<Json<ChannelView>, ApiError> {
    Ok(Json(state.notifications.get_channel(&principal, id).await?))
}

/// Change a channel; a new target replaces the old one whole (admins; audited).
#[utoipa::path(patch, path = "/api/v1/notifications/channels/{id}", tag = "notifications", security(("bearer" = [])),
    request_body = ChannelChange,
    responses((status = 200, body = ChannelView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update_channel(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ChannelId>,
    ApiJson(change): ApiJson<ChannelChange>,
) -> Result<Json<ChannelView>, ApiError> {
    Ok(Json(
        state
            .notifications
            .update_channel(&principal, id, change)
            .await?,
    ))
}

/// Delete a channel no rule routes to (admins; audited).
#[utoipa::path(delete, path = "/api/v1/notifications/channels/{id}", tag = "notifications", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ChannelId>,
) -> Result<StatusCode, ApiError> {
    state.notifications.delete_channel(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The job a test message was queued as.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestQueued {
    pub job: Option<JobId>,
}

/// Send a test message to a channel through the job queue (admins).
#[utoipa::path(post, path = "/api/v1/notifications/channels/{id}/test", tag = "notifications", security(("bearer" = [])),
    responses((status = 202, body = TestQueued), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn test_channel(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ChannelId>,
) -> Result<(StatusCode, Json<TestQueued>), ApiError> {
    let job = state.notifications.test_channel(&principal, id).await?;
    Ok((StatusCode::ACCEPTED, Json(TestQueued { job })))
}

/// The organisation's notification rules (admins).
#[utoipa::path(get, path = "/api/v1/notifications/rules", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Vec<NotificationRuleView>), (status = 403, body = Problem)))]
pub async fn rules(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<NotificationRuleView>>, ApiError> {
    Ok(Json(state.notifications.rules(&principal).await?))
}

/// Route incident notices of a minimum severity to channels (admins; audited).
#[utoipa::path(post, path = "/api/v1/notifications/rules", tag = "notifications", security(("bearer" = [])),
    request_body = NotificationRuleInput,
    responses((status = 201, body = NotificationRuleView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem)))]
pub async fn create_rule(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NotificationRuleInput>,
) -> Result<(StatusCode, Json<NotificationRuleView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.notifications.create_rule(&principal, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/notifications/rules/{id}", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationRuleView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_rule(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<NotificationRuleId>,
) -> Result<Json<NotificationRuleView>, ApiError> {
    Ok(Json(state.notifications.get_rule(&principal, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/notifications/rules/{id}", tag = "notifications", security(("bearer" = [])),
    request_body = NotificationRuleChange,
    responses((status = 200, body = NotificationRuleView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update_rule(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<NotificationRuleId>,
    ApiJson(change): ApiJson<NotificationRuleChange>,
) -> Result<Json<NotificationRuleView>, ApiError> {
    Ok(Json(
        state
            .notifications
            .update_rule(&principal, id, change)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/notifications/rules/{id}", tag = "notifications", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<NotificationRuleId>,
) -> Result<StatusCode, ApiError> {
    state.notifications.delete_rule(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    pub status: Option<DeliveryStatus>,
    #[param(
        value_type = Option<String>,
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub channel: Option<ChannelId>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

/// The delivery log, newest first: status, attempts and last error (admins).
#[utoipa::path(get, path = "/api/v1/notifications/deliveries", tag = "notifications", security(("bearer" = [])),
    params(DeliveryParams),
    responses((status = 200, body = Page<DeliveryView>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<DeliveryParams>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    Ok(Json(
        state
            .notifications
            .deliveries(&principal, params.status, params.channel, &page)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/notifications/deliveries/{id}", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = DeliveryView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delivery(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<DeliveryId>,
) -> Result<Json<DeliveryView>, ApiError> {
    Ok(Json(state.notifications.delivery(&principal, id).await?))
}

/// The caller's own e-mail preferences.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationPrefs), (status = 403, body = Problem)))]
pub async fn my_prefs(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<NotificationPrefs>, ApiError> {
    Ok(Json(state.notifications.my_prefs(&principal).await?))
}

/// Set the caller's own e-mail preferences.
#[utoipa::path(put, path = "/api/v1/me/notifications", tag = "notifications", security(("bearer" = [])),
    request_body = NotificationPrefs,
    responses((status = 200, body = NotificationPrefs), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn set_my_prefs(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(prefs): ApiJson<NotificationPrefs>,
) -> Result<Json<NotificationPrefs>, ApiError> {
    Ok(Json(
        state.notifications.set_my_prefs(&principal, prefs).await?,
    ))
}
