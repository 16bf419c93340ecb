//! API keys (admins): the organisation's keys with their scopes, last use
//! and state; making one (its secret shown once, on the page that made
//! it) and revoking one.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::paging::{Page, PageParams};
use rampart_core::{ApiKey, ApiKeyId, ApiKeyScope, CreatorState, Permission};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PathId};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    name: String,
    scope_ingest: Option<String>,
    scope_read: Option<String>,
    scope_admin: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    page: Result<ApiQuery<PageParams>, ApiError>,
) -> Response {
    let page = match page {
        Ok(ApiQuery(page)) => page,
        Err(error) => return super::error_page(&session, error),
    };
    render(&state, &session, &page, None, None, StatusCode::OK).await
}

pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let scopes: Vec<ApiKeyScope> = [
        (form.scope_ingest.is_some(), ApiKeyScope::Ingest),
        (form.scope_read.is_some(), ApiKeyScope::Read),
        (form.scope_admin.is_some(), ApiKeyScope::Admin),
    ]
    .into_iter()
    .filter_map(|(chosen, scope)| chosen.then_some(scope))
    .collect();
    let first = PageParams::default();
    if scopes.is_empty() {
        let problem = "Choose at least one scope.";
        return render(
            &state,
            &session,
            &first,
            None,
            Some(problem),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    match state
        .api_keys
        .create(&session.principal, &form.name, scopes)
        .await
    {
        Ok(created) => {
            let shown = (created.key.name.clone(), created.secret);
            render(
                &state,
                &session,
                &first,
                Some(shown),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(error) => {
            let status = ApiError::from(error.clone()).status;
            render(&state, &session, &first, None, Some(&error.detail), status).await
        }
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<ApiKeyId>, ApiError>,
    Form(form): Form<super::CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state.api_keys.revoke(&session.principal, id).await {
        Ok(_) => Redirect::to("/admin/api-keys").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

async fn render(
    state: &AppState,
    session: &Session,
    page: &PageParams,
    created: Option<(String, String)>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    if let Err(error) = session.principal.require(Permission::Admin) {
        return super::error_page(session, error);
    }
    let keys = match state.api_keys.list(session.principal.org_id, page).await {
        Ok(keys) => keys,
        Err(error) => return super::error_page(session, error),
    };
    let body = html! {
        h1 { "API keys" }
        @if let Some((name, secret)) = &created {
            section.created role="status" {
                h2 { "Key “" (name) "” made" }
                p { "Copy it now: it is not stored and cannot be shown again." }
                label for="secret" { "The key" }
                div.inline {
                    input #secret readonly value=(secret) size="60";
                    button type="button" data-copy="#secret" { "Copy" }
                }
                p.note { "Send it as " code { "Authorization: Bearer rk_…" } "." }
            }
        }
        @if let Some(problem) = problem { (layout::problem(problem)) }
        form.filters method="post" action="/admin/api-keys" {
            input type="hidden" name="csrf" value=(session.csrf);
            div.field {
                label for="name" { "Name" }
                input #name name="name" required maxlength="100" placeholder="syslog shipper";
            }
            fieldset.scopes {
                legend { "Scopes" }
                label { input type="checkbox" name="scope_ingest" value="on"; " ingest" }
                label { input type="checkbox" name="scope_read" value="on"; " read" }
                label { input type="checkbox" name="scope_admin" value="on"; " admin" }
            }
            button type="submit" { "Make key" }
        }
        (key_table(&keys, session))
    };
    (
        status,
        Html(layout::page("API keys", Some(session), Section::ApiKeys, body).into_string()),
    )
        .into_response()
}

fn key_table(keys: &Page<ApiKey>, session: &Session) -> Markup {
    html! {
        @if keys.items.is_empty() { p.empty { "No API keys yet. Shippers and scripts use them instead of a password." } } @else {
            table {
                thead { tr { th { "Name" } th { "Key" } th { "Scopes" } th { "Made" } th { "Last used" } th { "State" } th {} } }
                tbody {
                    @for key in &keys.items {
                        tr {
                            td { (key.name) }
                            td { code { (key.prefix) "…" } }
                            td { (key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) }
                            td { (layout::time(key.created_at)) }
                            td { @match key.last_used_at { Some(at) => (layout::time(at)), None => "never" } }
                            td { (state(key)) }
                            td {
                                @if key.revoked_at.is_none() {
                                    form method="post" action={ "/admin/api-keys/" (key.id) "/revoke" } {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        button.danger type="submit" { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(cursor) = &keys.next_cursor {
                p.paging { a rel="next" href={ "/admin/api-keys?cursor=" (cursor) } { "More keys →" } }
            }
        }
    }
}

fn state(key: &ApiKey) -> &'static str {
    match (key.revoked_at, key.creator_state) {
        (Some(_), _) => "revoked",
        (None, Some(CreatorState::Disabled)) => "off: its maker is disabled",
        (None, Some(CreatorState::Deleted)) => "off: its maker was deleted",
        (None, _) => "active",
    }
}
