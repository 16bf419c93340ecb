//! The audit trail (admins): every change with who made it, newest first,
//! filtered by actor, action and target, with what changed.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};
use rampart_app::api::audit::AuditView;
use rampart_app::paging::Page;
use rampart_core::Permission;
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::routes::audit::AuditParams;
use crate::state::AppState;

/// The filters as sent, to show them again.
#[derive(Deserialize, Default)]
struct Chosen {
    actor: Option<String>,
    action: Option<String>,
    target_type: Option<String>,
    target_id: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    params: Result<ApiQuery<AuditParams>, ApiError>,
) -> Response {
    if let Err(error) = session.principal.require(Permission::Admin) {
        return super::error_page(&session, error);
    }
    let chosen: Chosen = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let page = match params {
        Ok(ApiQuery(params)) => params.page(&state, session.principal.org_id).await,
        Err(error) => Err(error.error),
    };
    let body = html! {
        h1 { "Audit trail" }
        form.filters method="get" action="/admin/audit" role="search" {
            div.field { label for="actor" { "Actor" } input #actor name="actor" placeholder="user:…" value=[chosen.actor.as_deref()]; }
            div.field { label for="action" { "Action" } input #action name="action" placeholder="incident.update" value=[chosen.action.as_deref()]; }
            div.field { label for="target_type" { "Target type" } input #target_type name="target_type" placeholder="incident" value=[chosen.target_type.as_deref()]; }
            div.field { label for="target_id" { "Target id" } input #target_id name="target_id" value=[chosen.target_id.as_deref()]; }
            button type="submit" { "Filter" }
        }
        @match &page {
            Ok(page) => (entries(page, &uri)),
            Err(error) => (layout::problem(&error.detail)),
        }
    };
    Html(layout::page("Audit trail", Some(&session), Section::Audit, body).into_string())
        .into_response()
}

fn entries(page: &Page<AuditView>, uri: &axum::http::Uri) -> Markup {
    html! {
        @if page.items.is_empty() { p.empty { "No changes recorded that match." } } @else {
            table {
                thead { tr { th { "When" } th { "Actor" } th { "Action" } th { "Target" } th { "Before" } th { "After" } } }
                tbody {
                    @for entry in &page.items {
                        tr {
                            td { (layout::time(entry.at)) }
                            td { (entry.actor) }
                            td { (entry.action) }
                            td { (entry.target_type) " " code { (entry.target_id) } }
                            td.message { @if let Some(before) = &entry.before { (before.to_string()) } }
                            td.message { @if let Some(after) = &entry.after { (after.to_string()) } }
                        }
                    }
                }
            }
            @if let Some(cursor) = &page.next_cursor {
                p.paging { a rel="next" href=(super::link_with(uri, "cursor", cursor)) { "Older changes →" } }
            }
        }
    }
}
