//! Saved hunts: the organisation's hunts kept under a name (the list, one
//! hunt with its schedule, last run and a form to change it), saving the
//! query on the Hunt page, running one now (its rows shown as the Hunt
//! page shows them) and deleting it.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::hunt::{SavedHuntInput, SavedHuntRun};
use rampart_core::hunt::saved::{HuntAction, SavedHunt};
use rampart_core::{Error, Permission, SavedHuntId};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use super::CsrfForm;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;

/// The form that saves or changes a hunt.
#[derive(Deserialize)]
pub struct SavedHuntForm {
    csrf: String,
    name: String,
    query: String,
    #[serde(default)]
    cron: String,
    #[serde(default)]
    window_minutes: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    severity: String,
    /// A checkbox: present when ticked.
    enabled: Option<String>,
}

fn whole(field: &'static str, text: &str) -> Result<Option<i64>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| Error::invalid_field(field, "must be a whole number"))
}

impl SavedHuntForm {
    fn input(self) -> Result<SavedHuntInput, Error> {
        let action = match self.action.trim() {
            "" => None,
            other => Some(
                HuntAction::parse(other)
                    .ok_or_else(|| Error::invalid_field("action", "incident or notify"))?,
            ),
        };
        Ok(SavedHuntInput {
            window_minutes: whole("window_minutes", &self.window_minutes)?,
            threshold: whole("threshold", &self.threshold)?,
            severity: whole("severity", &self.severity)?,
            name: self.name,
            query: self.query,
            cron: Some(self.cron).filter(|c| !c.trim().is_empty()),
            action,
            enabled: Some(self.enabled.is_some()),
        })
    }
}

/// The Hunt page's address for a query.
pub fn hunt_link(query: &str) -> String {
    let query: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    format!("/hunt?query={query}")
}

/// The fields of the save and change forms, filled from `hunt` if any.
pub fn fields(session: &Session, hunt: Option<&SavedHunt>, query: &str) -> Markup {
    let action = hunt.map_or(HuntAction::Incident, |h| h.action);
    html! {
        input type="hidden" name="csrf" value=(session.csrf);
        label for="saved-name" { "Name" }
        input #saved-name name="name" required maxlength="100" value=(hunt.map_or("", |h| h.name.as_str()));
        label for="saved-query" { "Query" }
        textarea #saved-query name="query" rows="2" required { (hunt.map_or(query, |h| h.query.as_str())) }
        label for="saved-cron" { "Schedule: a cron expression, UTC (*/15 * * * * is every 15 minutes; empty: run by hand only)" }
        input #saved-cron name="cron" value=(hunt.and_then(|h| h.cron.as_deref()).unwrap_or(""));
        label for="saved-window" { "Each run covers the last … minutes" }
        input #saved-window name="window_minutes" type="number" min="1" max="43200" value=(hunt.map_or(60, |h| h.window_minutes));
        label for="saved-threshold" { "Act when a run matches at least … events" }
        input #saved-threshold name="threshold" type="number" min="1" value=(hunt.map_or(1, |h| h.threshold));
        label for="saved-action" { "Then" }
        select #saved-action name="action" {
            option value="incident" selected[action == HuntAction::Incident] { "open or join an incident" }
            option value="notify" selected[action == HuntAction::Notify] { "send a notice (hunt.matched)" }
        }
        label for="saved-severity" { "Severity (1–5)" }
        input #saved-severity name="severity" type="number" min="1" max="5" value=(hunt.map_or(3, |h| h.severity));
        label.check { input #saved-enabled type="checkbox" name="enabled" checked[hunt.is_none_or(|h| h.enabled)]; " Schedule enabled" }
    }
}

fn owner_text(session: &Session, hunt: &SavedHunt) -> String {
    if hunt.owner == session.principal.audit_actor() {
        "you".to_owned()
    } else {
        hunt.owner.clone()
    }
}

fn may_change(session: &Session, hunt: &SavedHunt) -> bool {
    session.principal.may(Permission::Admin)
        || (session.principal.may(Permission::Analyse)
            && hunt.owner == session.principal.audit_actor())
}

fn last_run(hunt: &SavedHunt) -> Markup {
    html! {
        @if let Some(at) = hunt.last_run_at {
            (layout::time(at))
            @if let Some(n) = hunt.last_matched { " · " (n) " matched" }
            @if let Some(incident) = hunt.last_incident_id { " · " a href={ "/incidents/" (incident) } { "incident" } }
            @if let Some(error) = &hunt.last_error { " · " span.overdue { (error) } }
        } @else { "never" }
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    let hunts = match state.hunts.saved(&session.principal).await {
        Ok(hunts) => hunts,
        Err(error) => return super::error_page(&session, error),
    };
    let body = html! {
        h1 { "Saved hunts" }
        p.note { "Queries kept under a name; those with a schedule run over their window and open an incident or send a notice when they match. Save one from the " a href="/hunt" { "Hunt" } " page." }
        @if hunts.is_empty() {
            p.empty { "No saved hunts." }
        } @else {
            table #saved-hunts {
                thead { tr { th { "Name" } th { "Query" } th { "Schedule" } th { "Then" } th { "Owner" } th { "Next run" } th { "Last run" } } }
                tbody { @for h in &hunts { tr {
                    td { a href={ "/hunt/saved/" (h.id) } { (h.name) } }
                    td { code { (h.query) } }
                    td { @if let Some(cron) = &h.cron { code { (cron) } @if !h.enabled { " (off)" } } @else { "by hand" } }
                    td { (h.action.as_str()) }
                    td { (owner_text(&session, h)) }
                    td { @if let (Some(next), true) = (h.next_run_at, h.enabled) { (layout::time(next)) } }
                    td { (last_run(h)) }
                } } }
            }
        }
    };
    Html(layout::page("Saved hunts", Some(&session), Section::Hunt, body).into_string())
        .into_response()
}

async fn render(
    state: &AppState,
    session: &Session,
    id: SavedHuntId,
    run: Option<&SavedHuntRun>,
    problem: Option<(StatusCode, String)>,
) -> Response {
    let hunt = match run {
        Some(run) => run.hunt.clone(),
        None => match state.hunts.saved_hunt(&session.principal, id).await {
            Ok(hunt) => hunt,
            Err(error) => return super::error_page(session, error),
        },
    };
    let body = html! {
        h1 { "Saved hunt: " (hunt.name) }
        dl.facts {
            dt { "Query" } dd { code #saved-query-text { (hunt.query) } " " a href=(hunt_link(&hunt.query)) { "Open in Hunt" } }
            dt { "Schedule" } dd { @if let Some(cron) = &hunt.cron { code { (cron) } " UTC, over the last " (hunt.window_minutes) " minutes" @if !hunt.enabled { " (off)" } } @else { "by hand, over the last " (hunt.window_minutes) " minutes" } }
            dt { "Then" } dd { @match hunt.action { HuntAction::Incident => "open or join an incident", HuntAction::Notify => "send a notice" } " when a run matches at least " (hunt.threshold) @if hunt.threshold == 1 { " event" } @else { " events" } " (severity " (hunt.severity) ")" }
            dt { "Owner" } dd { (owner_text(session, &hunt)) }
            @if let (Some(next), true) = (hunt.next_run_at, hunt.enabled) { dt { "Next run" } dd { (layout::time(next)) } }
            dt { "Last run" } dd #saved-last-run { (last_run(&hunt)) }
        }
        form.inline method="post" action={ "/hunt/saved/" (hunt.id) "/run" } {
            input type="hidden" name="csrf" value=(session.csrf);
            button #run-now type="submit" { "Run now" }
        }
        @if let Some(run) = run { (super::hunt::results(&axum::http::Uri::from_static("/hunt"), &run.result)) }
        @if let Some((_, detail)) = &problem { (layout::problem(detail)) }
        @if may_change(session, &hunt) {
            h2 { "Change" }
            form.editor method="post" action={ "/hunt/saved/" (hunt.id) } {
                (fields(session, Some(&hunt), ""))
                div.actions { button type="submit" { "Save" } }
            }
            form.inline method="post" action={ "/hunt/saved/" (hunt.id) "/delete" } {
                input type="hidden" name="csrf" value=(session.csrf);
                button.danger type="submit" { "Delete" }
            }
        }
    };
    let status = problem.map_or(StatusCode::OK, |(status, _)| status);
    (
        status,
        Html(layout::page("Saved hunt", Some(session), Section::Hunt, body).into_string()),
    )
        .into_response()
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    id: Result<PathId<SavedHuntId>, ApiError>,
) -> Response {
    match id {
        Ok(PathId(id)) => render(&state, &session, id, None, None).await,
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<SavedHuntForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let query = form.query.clone();
    let saved = match form.input() {
        Ok(input) => state.hunts.save(&session.principal, input).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(hunt) => Redirect::to(&format!("/hunt/saved/{}", hunt.id)).into_response(),
        Err(error) => {
            let (status, detail) = super::problem_of(&error);
            let body = html! {
                h1 { "Save a hunt" }
                (layout::problem(&detail))
                form.editor method="post" action="/hunt/saved" {
                    (fields(&session, None, &query))
                    div.actions { button type="submit" { "Save" } }
                }
            };
            (
                status,
                Html(
                    layout::page("Save a hunt", Some(&session), Section::Hunt, body).into_string(),
                ),
            )
                .into_response()
        }
    }
}

pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<SavedHuntId>, ApiError>,
    Form(form): Form<SavedHuntForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    let updated = match form.input() {
        Ok(input) => {
            state
                .hunts
                .update_saved(&session.principal, id, input)
                .await
        }
        Err(error) => Err(error),
    };
    match updated {
        Ok(_) => Redirect::to(&format!("/hunt/saved/{id}")).into_response(),
        Err(error) if error.kind == rampart_core::ErrorKind::NotFound => {
            super::error_page(&session, error)
        }
        Err(error) => render(&state, &session, id, None, Some(super::problem_of(&error))).await,
    }
}

pub async fn run(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<SavedHuntId>, ApiError>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Read) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state.hunts.run_saved(&session.principal, id).await {
        Ok(run) => render(&state, &session, id, Some(&run), None).await,
        Err(error) if error.kind == rampart_core::ErrorKind::NotFound => {
            super::error_page(&session, error)
        }
        Err(error) => render(&state, &session, id, None, Some(super::problem_of(&error))).await,
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<SavedHuntId>, ApiError>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state.hunts.delete_saved(&session.principal, id).await {
        Ok(()) => Redirect::to("/hunt/saved").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}
