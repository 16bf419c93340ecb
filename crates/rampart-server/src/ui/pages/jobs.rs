//! Background jobs (admins): the organisation's queue, or the platform's
//! own jobs for platform admins, filtered by state and queue, newest
//! first; dead and finished jobs can be retried, waiting ones cancelled.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::jobs::JobView;
use rampart_app::paging::Page;
use rampart_core::{JobId, JobState, Permission};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::routes::jobs::JobParams;
use crate::routes::params::PlatformScope;
use crate::state::AppState;

/// The filters as sent, to show them again.
#[derive(Deserialize, Default)]
struct Chosen {
    state: Option<String>,
    queue: Option<String>,
    platform: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    params: Result<ApiQuery<JobParams>, ApiError>,
) -> Response {
    if let Err(error) = session.principal.require(Permission::Admin) {
        return super::error_page(&session, error);
    }
    let chosen: Chosen = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let platform = chosen.platform.as_deref() == Some("true");
    let page = match params {
        Ok(ApiQuery(params)) => {
            let (filter, page) = params.into_parts();
            state.jobs.list(&session.principal, &filter, &page).await
        }
        Err(error) => Err(error.error),
    };
    let body = html! {
        h1 { "Jobs" }
        p.note { "Background work: deliveries, scheduled upkeep. A dead job failed its last attempt; retry it once its cause is fixed." }
        form.filters method="get" action="/admin/jobs" role="search" {
            div.field {
                label for="state" { "State" }
                select #state name="state" {
                    option value="" selected[chosen.state.is_none()] { "Any" }
                    @for s in JobState::ALL {
                        option value=(s.as_str()) selected[chosen.state.as_deref() == Some(s.as_str())] { (s.as_str()) }
                    }
                }
            }
            div.field { label for="queue" { "Queue" } input #queue name="queue" placeholder="default" value=[chosen.queue.as_deref()]; }
            @if session.principal.require_platform_admin().is_ok() {
                div.field {
                    label for="platform" { "Whose" }
                    select #platform name="platform" {
                        option value="false" selected[!platform] { "This organisation's" }
                        option value="true" selected[platform] { "The platform's own" }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        @match &page {
            Ok(page) => (table(page, &uri, &session, platform)),
            Err(error) => (layout::problem(&super::detail(error))),
        }
    };
    Html(layout::page("Jobs", Some(&session), Section::Jobs, body).into_string()).into_response()
}

fn table(page: &Page<JobView>, uri: &axum::http::Uri, session: &Session, platform: bool) -> Markup {
    let scope = if platform { "?platform=true" } else { "" };
    html! {
        @if page.items.is_empty() { p.empty { "No jobs match." } } @else {
            table {
                thead { tr { th { "Job" } th { "Queue" } th { "State" } th.num { "Attempts" } th { "Due" } th { "Last error" } th { "" } } }
                tbody {
                    @for job in &page.items {
                        tr {
                            td { (job.kind) br; code { (job.id) } }
                            td { (job.queue) }
                            td { span class={ "status job-" (job.state.as_str()) } { (job.state.as_str()) } }
                            td.num { (job.attempts) "/" (job.max_attempts) }
                            td { (layout::time(job.run_at)) }
                            td.message { (job.last_error.as_deref().unwrap_or("")) }
                            td {
                                @if matches!(job.state, JobState::Dead | JobState::Cancelled | JobState::Completed | JobState::Retryable) {
                                    form.inline method="post" action={ "/admin/jobs/" (job.id) "/retry" (scope) } {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        button type="submit" { "Retry" }
                                    }
                                }
                                @if job.state.is_pending() {
                                    form.inline method="post" action={ "/admin/jobs/" (job.id) "/cancel" (scope) } {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        button.danger type="submit" { "Cancel" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(cursor) = &page.next_cursor {
                p.paging { a rel="next" href=(super::link_with(uri, "cursor", cursor)) { "Older jobs →" } }
            }
        }
    }
}

/// `POST /admin/jobs/{id}/retry` and `…/cancel`.
pub async fn change(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    axum::extract::Query(scope): axum::extract::Query<PlatformScope>,
    Form(form): Form<super::CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let Ok(id) = id.parse::<JobId>() else {
        return super::error_page(&session, rampart_core::Error::not_found("job"));
    };
    let platform = scope.platform();
    let done = match action.as_str() {
        "retry" => state.jobs.retry(&session.principal, id, platform).await,
        "cancel" => state.jobs.cancel(&session.principal, id, platform).await,
        _ => Err(rampart_core::Error::not_found("action")),
    };
    match done {
        Ok(_) if platform => Redirect::to("/admin/jobs?platform=true").into_response(),
        Ok(_) => Redirect::to("/admin/jobs").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}
