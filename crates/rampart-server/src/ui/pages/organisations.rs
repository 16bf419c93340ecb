//! Organisations (platform admins only): every tenant, and a new one with
//! its first admin.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use rampart_app::accounts::UserInput;
use rampart_app::paging::PageParams;
use rampart_core::Role;
use secrecy::SecretString;
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::{self, Session};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    name: String,
    admin_email: String,
    admin_password: SecretString,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    page: Result<ApiQuery<PageParams>, ApiError>,
) -> Response {
    match page {
        Ok(ApiQuery(page)) => render(&state, &session, &page, None, StatusCode::OK).await,
        Err(error) => super::error_page(&session, error),
    }
}

async fn render(
    state: &AppState,
    session: &Session,
    page: &PageParams,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    if let Err(error) = session.principal.require_platform_admin() {
        return super::error_page(session, error);
    }
    let orgs = match state.organisations.list(page).await {
        Ok(orgs) => orgs,
        Err(error) => return super::error_page(session, error),
    };
    let body = html! {
        h1 { "Organisations" }
        @if let Some(problem) = problem { (layout::problem(problem)) }
        form.filters method="post" action="/platform/organisations" {
            input type="hidden" name="csrf" value=(session.csrf);
            div.field { label for="name" { "Name" } input #name name="name" required maxlength="100"; }
            div.field { label for="admin_email" { "First admin's e-mail" } input #admin_email type="email" name="admin_email" required; }
            div.field { label for="admin_password" { "Their password (12 or more)" } input #admin_password type="password" name="admin_password" required minlength="12" autocomplete="new-password"; }
            button type="submit" { "Add organisation" }
        }
        table {
            thead { tr { th { "Name" } th { "Id" } th { "Added" } } }
            tbody {
                @for org in &orgs.items {
                    tr { td { (org.name) } td { code { (org.id) } } td { (layout::time(org.created_at)) } }
                }
            }
        }
        @if let Some(cursor) = &orgs.next_cursor {
            p.paging { a rel="next" href={ "/platform/organisations?cursor=" (cursor) } { "More →" } }
        }
    };
    (
        status,
        Html(
            layout::page("Organisations", Some(session), Section::Organisations, body)
                .into_string(),
        ),
    )
        .into_response()
}

pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Response {
    if !session::csrf_ok(&headers, &form.csrf) {
        return super::csrf_refused(&session);
    }
    if let Err(error) = session.principal.require_platform_admin() {
        return super::error_page(&session, error);
    }
    let admin = UserInput {
        email: form.admin_email,
        display_name: None,
        role: Role::Admin,
        password: form.admin_password,
    };
    match state.organisations.create(&form.name, admin).await {
        Ok(_) => Redirect::to("/platform/organisations").into_response(),
        Err(error) => {
            let status = ApiError::from(error.clone()).status;
            let detail = super::detail(&error);
            render(
                &state,
                &session,
                &PageParams::default(),
                Some(&detail),
                status,
            )
            .await
        }
    }
}
