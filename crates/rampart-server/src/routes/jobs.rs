//! `/api/v1/jobs`: the job queue of the caller's organisation (admins), or
//! the platform's own jobs (`platform=true`, platform admins): list,
//! inspect, retry a dead or finished job, cancel a waiting one.

use axum::extract::State;
use axum::Json;
use rampart_app::api::jobs::JobView;
use rampart_app::jobs::JobFilter;
use rampart_core::JobId;
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, PathId, Principal};
use crate::routes::params::{JobStates, PlatformScope};
use crate::routes::{Page, PageParams};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobParams {
    /// Only jobs in these states.
    #[param(schema_with = crate::routes::params::schema::job_states)]
    pub state: Option<JobStates>,
    /// Only jobs of this queue.
    pub queue: Option<String>,
    /// The platform's own jobs instead of the organisation's (platform admins).
    pub platform: Option<bool>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

impl JobParams {
    pub fn into_parts(self) -> (JobFilter, PageParams) {
        (
            JobFilter {
                states: self.state.map(|s| s.0).unwrap_or_default(),
                queue: self.queue,
                platform: self.platform.unwrap_or(false),
            },
            PageParams {
                limit: self.limit,
                cursor: self.cursor,
            },
        )
    }
}

/// List jobs, newest first (admin).
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), params(JobParams),
    responses((status = 200, body = Page<JobView>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<JobParams>,
) -> Result<Json<Page<JobView>>, ApiError> {
    let (filter, page) = params.into_parts();
    Ok(Json(state.jobs.list(&principal, &filter, &page).await?))
}

/// One job (admin).
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])), params(PlatformScope),
    responses((status = 200, body = JobView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<JobId>,
    ApiQuery(scope): ApiQuery<PlatformScope>,
) -> Result<Json<JobView>, ApiError> {
    let platform = scope.platform();
    Ok(Json(state.jobs.get(&principal, id, platform).await?))
}

/// Run a dead, cancelled, completed or retryable job again now, with its
/// attempts reset (admin; audited).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", security(("bearer" = [])), params(PlatformScope),
    responses((status = 200, body = JobView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<JobId>,
    ApiQuery(scope): ApiQuery<PlatformScope>,
) -> Result<Json<JobView>, ApiError> {
    let platform = scope.platform();
    Ok(Json(state.jobs.retry(&principal, id, platform).await?))
}

/// Cancel a job that has not finished; a running attempt's result is then
/// ignored (admin; audited).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", security(("bearer" = [])), params(PlatformScope),
    responses((status = 200, body = JobView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<JobId>,
    ApiQuery(scope): ApiQuery<PlatformScope>,
) -> Result<Json<JobView>, ApiError> {
    let platform = scope.platform();
    Ok(Json(state.jobs.cancel(&principal, id, platform).await?))
}
