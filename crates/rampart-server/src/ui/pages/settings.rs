//! The organisation's settings (admins): how long its events are kept and
//! whether every user must sign in with two factors.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use rampart_app::api::accounts::OrgSettingsInput;
use rampart_core::Permission;
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SettingsForm {
    csrf: String,
    /// Days, or empty for the server's default.
    retention_days: String,
    /// Present (`on`) when the box is ticked.
    require_mfa: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    if let Err(error) = session.principal.require(Permission::Admin) {
        return super::error_page(&session, error);
    }
    let (organisation, settings) = match (
        state.organisations.get(session.principal.org_id).await,
        state.organisations.settings(session.principal.org_id).await,
    ) {
        (Ok(organisation), Ok(settings)) => (organisation, settings),
        (Err(error), _) | (_, Err(error)) => return super::error_page(&session, error),
    };
    let body = html! {
        h1 { "Settings of " (organisation.name) }
        form.editor method="post" action="/admin/settings" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="retention_days" { "Keep events for (days, 1 to 3650; empty for the server's default of " (settings.default_retention_days) ")" }
            input #retention_days name="retention_days" type="number" min="1" max="3650"
                value=[settings.retention_days_override];
            p.note { "Events are kept for " (settings.retention_days) " days now; older ones are removed by the retention job." }
            label.check for="require_mfa" {
                input #require_mfa type="checkbox" name="require_mfa" checked[settings.require_mfa];
                " Require two-factor sign-in of every user"
            }
            p.note { "Users without an authenticator app set one up the next time they sign in; sessions already open last until they end. Set up your own first, under Security." }
            div.actions { button type="submit" { "Save" } }
        }
    };
    Html(layout::page("Settings", Some(&session), Section::Settings, body).into_string())
        .into_response()
}

pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let retention_days = match form.retention_days.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(days) => Some(days),
            Err(_) => {
                let error = rampart_core::Error::invalid_field(
                    "retention_days",
                    "must be a whole number of days",
                );
                return super::error_page(&session, error);
            }
        },
    };
    let input = OrgSettingsInput {
        retention_days,
        require_mfa: Some(form.require_mfa.is_some()),
    };
    match state
        .organisations
        .update_settings(&session.principal, input)
        .await
    {
        Ok(_) => Redirect::to("/admin/settings").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}
