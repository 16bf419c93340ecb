//! `/api/v1/incidents` and `/api/v1/alerts`: list, read, open, update and
//! comment on incidents; list alerts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_core::{AlertId, IncidentId, Permission, UserId};
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, PathId, Principal};
use crate::routes::params::{Severity, Statuses};
use crate::routes::{Page, PageParams};
use crate::state::AppState;
use rampart_app::api::incidents::{
    AlertView, CommentView, IncidentChange, IncidentDetail, IncidentView, NewComment, NewIncident,
};
use rampart_app::incidents::Listing;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IncidentParams {
    /// Statuses, comma-separated (e.g. `open,acknowledged`).
    #[param(schema_with = crate::routes::params::schema::statuses)]
    pub status: Option<Statuses>,
    /// Lowest severity: a number or a name.
    #[param(schema_with = crate::routes::params::schema::severity)]
    pub min_severity: Option<Severity>,
    pub assignee: Option<UserId>,
    pub rule_id: Option<String>,
    /// Words in the title (case-insensitive).
    pub q: Option<String>,
    /// `-last_seen` (default), `last_seen`, `-created_at`, `created_at`, `-severity`, `severity`.
    #[param(schema_with = crate::routes::params::schema::incident_sort)]
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    #[param(schema_with = crate::routes::params::schema::incident_cursor)]
    pub cursor: Option<String>,
}

impl IncidentParams {
    /// The service's listing these parameters ask for.
    pub fn into_listing(self) -> Listing {
        Listing {
            statuses: self.status.map(|s| s.0).unwrap_or_default(),
            min_severity: self.min_severity.map(|s| s.0),
            assignee: self.assignee,
            rule_id: self.rule_id,
            text: self.q,
            sort: self.sort,
            limit: self.limit,
            cursor: self.cursor,
        }
    }
}

/// List incidents: filters, sort and keyset pagination.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])), params(IncidentParams),
    responses((status = 200, body = Page<IncidentView>), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<IncidentParams>,
) -> Result<Json<Page<IncidentView>>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(
        state
            .incidents
            .list(principal.org_id, params.into_listing())
            .await?,
    ))
}

/// Open an incident by hand.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])), request_body = NewIncident,
    responses((status = 201, body = IncidentView), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<NewIncident>,
) -> Result<(StatusCode, Json<IncidentView>), ApiError> {
    principal.require(Permission::Analyse)?;
    Ok((
        StatusCode::CREATED,
        Json(state.incidents.create(&principal, input).await?),
    ))
}

/// One incident with its newest alerts and its comments.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    responses((status = 200, body = IncidentDetail), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<IncidentId>,
) -> Result<Json<IncidentDetail>, ApiError> {
    principal.require(Permission::Read)?;
    Ok(Json(state.incidents.get(principal.org_id, id).await?))
}

/// Change status, assignee, escalation, severity, title or description.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])), request_body = IncidentChange,
    responses((status = 200, body = IncidentView), (status = 400, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<IncidentId>,
    ApiJson(change): ApiJson<IncidentChange>,
) -> Result<Json<IncidentView>, ApiError> {
    principal.require(Permission::Analyse)?;
    Ok(Json(state.incidents.update(&principal, id, change).await?))
}

/// Comment on an incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/comments", tag = "incidents", security(("bearer" = [])), request_body = NewComment,
    responses((status = 201, body = CommentView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn comment(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<IncidentId>,
    ApiJson(input): ApiJson<NewComment>,
) -> Result<(StatusCode, Json<CommentView>), ApiError> {
    principal.require(Permission::Analyse)?;
    let view = state.incidents.comment(&principal, id, &input.body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    /// Only this incident's alerts.
    #[param(schema_with = crate::routes::params::schema::uuid)]
    pub incident: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

/// List alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "incidents", security(("bearer" = [])), params(AlertParams),
    responses((status = 200, body = Page<AlertView>), (status = 400, body = Problem)))]
pub async fn alerts(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<AlertParams>,
) -> Result<Json<Page<AlertView>>, ApiError> {
    principal.require(Permission::Read)?;
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    let limit = page.limit()?;
    let before: Option<AlertId> = page.cursor()?;
    let incident = params
        .incident
        .as_deref()
        .map(|i| {
            i.parse()
                .map_err(|_| ApiError::invalid_field("incident", "not an incident id"))
        })
        .transpose()?;
    let items = state
        .store
        .list_alerts(principal.org_id, incident, before, limit)
        .await?;
    let items: Vec<AlertView> = items.iter().map(AlertView::from).collect();
    Ok(Json(Page::new(items, limit, |a| a.id.to_string())))
}
