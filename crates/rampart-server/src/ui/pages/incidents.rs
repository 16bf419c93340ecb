//! Incidents: the list with filters and paging, and one incident with its
//! entities, alerts and comments; status changes and comments by form.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::incidents::{
    IncidentChange, IncidentDetail, IncidentView, NewIncident, SeverityInput,
};
use rampart_app::paging::Page;
use rampart_app::paging::PageParams;
use rampart_core::{Entities, EventId, IncidentId, IncidentStatus, Permission, User, UserId};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::{self, Session};
use crate::error::ApiError;
use crate::extract::{ApiQuery, PathId};
use crate::routes::incidents::IncidentParams;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
}

#[derive(Deserialize)]
pub struct AssignForm {
    csrf: String,
    /// A user id, or empty to unassign.
    assignee: String,
}

#[derive(Deserialize)]
pub struct NewForm {
    csrf: String,
    title: String,
    severity: u8,
    description: Option<String>,
    ips: Option<String>,
    users: Option<String>,
    hosts: Option<String>,
    event_ids: Option<String>,
}

#[derive(Deserialize)]
pub struct CommentForm {
    csrf: String,
    body: String,
}

/// What the filter form shows as chosen, from the query string as sent.
#[derive(Deserialize, Default)]
struct Chosen {
    status: Option<String>,
    min_severity: Option<String>,
    q: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    params: Result<ApiQuery<IncidentParams>, ApiError>,
) -> Response {
    let chosen: Chosen = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let page = match params {
        Ok(ApiQuery(params)) => {
            if let Err(error) = session.principal.require(Permission::Read) {
                return super::error_page(&session, error);
            }
            state
                .incidents
                .list(session.principal.org_id, params.into_listing())
                .await
        }
        Err(error) => Err(error.error),
    };
    let may_change = session.principal.may(Permission::Analyse);
    let body = html! {
        h1 { "Incidents" }
        @if may_change { p { a href="/incidents/new" { "Open an incident by hand" } } }
        (filters(&chosen))
        @match &page {
            Ok(page) => (incident_table(page, &uri, may_change.then_some(&session))),
            Err(error) => (layout::problem(&error.detail)),
        }
    };
    Html(layout::page("Incidents", Some(&session), Section::Incidents, body).into_string())
        .into_response()
}

fn filters(chosen: &Chosen) -> Markup {
    let status = chosen.status.as_deref().unwrap_or("");
    let severity = chosen.min_severity.as_deref().unwrap_or("");
    html! {
        form.filters method="get" action="/incidents" role="search" {
            div.field {
            label for="status" { "Status" }
            select #status name="status" {
                option value="" selected[status.is_empty()] { "Any" }
                option value="open,acknowledged,investigating" selected[status == "open,acknowledged,investigating"] { "Not closed" }
                @for s in IncidentStatus::ALL {
                    option value=(s.as_str()) selected[status == s.as_str()] { (s.as_str().replace('_', " ")) }
                }
            }
            }
            div.field {
            label for="min_severity" { "Severity at least" }
            select #min_severity name="min_severity" {
                option value="" selected[severity.is_empty()] { "Any" }
                @for (value, name) in [("2", "low"), ("3", "medium"), ("4", "high"), ("5", "critical")] {
                    option value=(value) selected[severity == value] { (name) }
                }
            }
            }
            div.field {
                label for="q" { "Title contains" }
                input #q type="search" name="q" value=[chosen.q.as_deref()];
            }
            button type="submit" { "Filter" }
        }
    }
}

/// The table of a page of incidents; with a session allowed to change
/// them, a checkbox per row and a status change for those ticked.
fn incident_table(
    page: &Page<IncidentView>,
    uri: &axum::http::Uri,
    bulk: Option<&Session>,
) -> Markup {
    html! {
        @if page.items.is_empty() {
            div.empty {
                p { "No incidents match. Incidents open when detection rules fire on ingested events, or by hand through the API." }
                p { "Send your first events:" }
                pre { "curl -H 'Authorization: Bearer rk_…' -H 'Content-Type: application/x-ndjson' \\\n  --data-binary @events.ndjson http://127.0.0.1:8080/api/v1/events" }
            }
        } @else {
            form #bulk method="post" action="/incidents/bulk" {}
            @if let Some(session) = bulk {
                div.inline {
                    input form="bulk" type="hidden" name="csrf" value=(session.csrf);
                    label for="bulk-status" { "Move ticked incidents to" }
                    select form="bulk" #bulk-status name="status" {
                        @for s in IncidentStatus::ALL { option value=(s.as_str()) { (s.as_str().replace('_', " ")) } }
                    }
                    button form="bulk" type="submit" { "Apply" }
                }
            }
            table {
                thead { tr { @if bulk.is_some() { th { span.visually-hidden { "Select" } } } th { "Severity" } th { "Title" } th { "Status" } th.num { "Alerts" } th { "Last seen" } } }
                tbody {
                    @for incident in &page.items {
                        tr {
                            @if bulk.is_some() {
                                td { input form="bulk" type="checkbox" name="id" value=(incident.id) aria-label={ "Select " (incident.title) }; }
                            }
                            td { (layout::severity(incident.severity)) }
                            td { a href={ "/incidents/" (incident.id) } { (incident.title) } }
                            td { (layout::status(incident.status)) }
                            td.num { (incident.occurrences) }
                            td { (layout::time(incident.last_seen)) }
                        }
                    }
                }
            }
            @if let Some(cursor) = &page.next_cursor {
                p.paging { a rel="next" href=(super::link_with(uri, "cursor", cursor)) { "Older incidents →" } }
            }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    id: Result<PathId<IncidentId>, ApiError>,
) -> Response {
    let detail = match id {
        Ok(PathId(id)) => match session.principal.require(Permission::Read) {
            Ok(()) => state.incidents.get(session.principal.org_id, id).await,
            Err(error) => Err(error),
        },
        Err(error) => Err(error.error),
    };
    match detail {
        Ok(detail) => {
            let title = detail.incident.title.clone();
            let users = if session.principal.may(Permission::Analyse) {
                state
                    .users
                    .list(session.principal.org_id, &PageParams::default())
                    .await
                    .map(|page| page.items)
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            let body = incident_page(&detail, &session, &users);
            Html(layout::page(&title, Some(&session), Section::Incidents, body).into_string())
                .into_response()
        }
        Err(error) => super::error_page(&session, error),
    }
}

fn incident_page(detail: &IncidentDetail, session: &Session, users: &[User]) -> Markup {
    let incident = &detail.incident;
    let may_change = session.principal.may(Permission::Analyse);
    html! {
        p.crumbs { a href="/incidents" { "← Incidents" } }
        h1 { (incident.title) }
        dl.facts {
            dt { "Severity" } dd { (layout::severity(incident.severity)) }
            dt { "Status" } dd { (layout::status(incident.status)) }
            dt { "Alerts" } dd { (incident.occurrences) }
            dt { "Escalation" } dd { (incident.escalation) }
            dt { "Assignee" } dd {
                @match incident.assignee {
                    Some(a) => (users.iter().find(|u| u.id == a).map_or(a.to_string(), |u| u.email.clone())),
                    None => "nobody",
                }
            }
            dt { "Rule" } dd { (incident.rule_id.as_deref().unwrap_or("—")) }
            dt { "Group" } dd { (incident.group_key.as_deref().unwrap_or("—")) }
            dt { "First seen" } dd { (layout::time(incident.first_seen)) }
            dt { "Last seen" } dd { (layout::time(incident.last_seen)) }
            dt { "Opened by" } dd { (incident.created_by) }
        }
        @if let Some(description) = &incident.description { p.description { (description) } }
        (entities(&incident.entities))
        @if may_change {
            form.inline method="post" action={ "/incidents/" (incident.id) "/status" } {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="status" { "Move to" }
                select #status name="status" {
                    @for next in IncidentStatus::ALL.into_iter().filter(|n| *n != incident.status && incident.status.can_move_to(*n)) {
                        option value=(next.as_str()) { (next.as_str().replace('_', " ")) }
                    }
                }
                button type="submit" { "Change status" }
            }
            form.inline method="post" action={ "/incidents/" (incident.id) "/assign" } {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="assignee" { "Assign to" }
                select #assignee name="assignee" {
                    option value="" selected[incident.assignee.is_none()] { "nobody" }
                    @for user in users.iter().filter(|u| !u.disabled) {
                        option value=(user.id) selected[incident.assignee == Some(user.id)] { (user.email) }
                    }
                }
                button type="submit" { "Assign" }
            }
        }
        h2 { "Alerts" }
        @if detail.alerts.is_empty() { p { "No alerts: opened by hand." } } @else {
            table {
                thead { tr { th { "When" } th { "Rule" } th { "Severity" } th { "Events" } } }
                tbody {
                    @for alert in &detail.alerts {
                        tr {
                            td { (layout::time(alert.ts)) }
                            td { (alert.rule_title) }
                            td { (layout::severity(alert.severity)) }
                            td {
                                @for id in &alert.event_ids {
                                    a.event href={ "/events/" (id) } { (id) } " "
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Comments" }
        @for comment in &detail.comments {
            article.comment {
                header { strong { (comment.author) } " · " (layout::time(comment.created_at)) }
                p { (comment.body) }
            }
        }
        @if detail.comments.is_empty() { p { "No comments yet." } }
        @if may_change {
            form method="post" action={ "/incidents/" (incident.id) "/comments" } {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="body" { "Add a comment" }
                textarea #body name="body" rows="3" maxlength="10000" required {}
                button type="submit" { "Comment" }
            }
        }
    }
}

fn entities(entities: &Entities) -> Markup {
    html! {
        @if !entities.is_empty() {
            h2 { "Entities" }
            dl.facts {
                @if !entities.ips.is_empty() {
                    dt { "Addresses" }
                    dd { @for ip in &entities.ips { a href={ "/events?source_ip=" (encode(ip)) } { (ip) } " (" a.timeline href=(super::entity_link("ip", ip)) { "timeline" } ") " } }
                }
                @if !entities.users.is_empty() {
                    dt { "Users" }
                    dd { @for user in &entities.users { a href={ "/events?user=" (encode(user)) } { (user) } " (" a.timeline href=(super::entity_link("user", user)) { "timeline" } ") " } }
                }
                @if !entities.hosts.is_empty() {
                    dt { "Hosts" }
                    dd { @for host in &entities.hosts { a href={ "/events?host=" (encode(host)) } { (host) } " (" a.timeline href=(super::entity_link("host", host)) { "timeline" } ") " } }
                }
            }
        }
    }
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub async fn set_status(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<IncidentId>, ApiError>,
    Form(form): Form<StatusForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    let Some(status) = IncidentStatus::parse(&form.status) else {
        return super::error_page(
            &session,
            rampart_core::Error::invalid_field("status", "not an incident status"),
        );
    };
    let change = IncidentChange {
        status: Some(status),
        ..IncidentChange::default()
    };
    match state.incidents.update(&session.principal, id, change).await {
        Ok(_) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn comment(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<IncidentId>, ApiError>,
    Form(form): Form<CommentForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state
        .incidents
        .comment(&session.principal, id, &form.body)
        .await
    {
        Ok(_) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn assign(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<IncidentId>, ApiError>,
    Form(form): Form<AssignForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    let assignee = match form.assignee.as_str() {
        "" => None,
        text => match text.parse::<UserId>() {
            Ok(user) => Some(user),
            Err(_) => {
                let error = rampart_core::Error::invalid_field("assignee", "not a user id");
                return super::error_page(&session, error);
            }
        },
    };
    let change = IncidentChange {
        assignee: Some(assignee),
        ..IncidentChange::default()
    };
    match state.incidents.update(&session.principal, id, change).await {
        Ok(_) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

/// Moves every ticked incident to one status; each move is checked and
/// audited on its own, and the first refusal is shown.
pub async fn bulk(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if !session::csrf_ok(&headers, field("csrf").unwrap_or_default()) {
        return super::csrf_refused(&session);
    }
    if let Err(error) = session.principal.require(Permission::Analyse) {
        return super::error_page(&session, error);
    }
    let Some(status) = field("status").and_then(IncidentStatus::parse) else {
        let error = rampart_core::Error::invalid_field("status", "not an incident status");
        return super::error_page(&session, error);
    };
    for (_, value) in fields.iter().filter(|(k, _)| k == "id") {
        let Ok(id) = value.parse::<IncidentId>() else {
            return super::error_page(&session, rampart_core::Error::not_found("incident"));
        };
        let change = IncidentChange {
            status: Some(status),
            ..IncidentChange::default()
        };
        if let Err(error) = state.incidents.update(&session.principal, id, change).await {
            return super::error_page(&session, error);
        }
    }
    Redirect::to("/incidents").into_response()
}

/// `?event=<id>`: open the incident about this event (its id, addresses,
/// user and host filled in).
#[derive(Deserialize)]
pub struct NewParams {
    event: Option<String>,
}

/// What the form starts with.
#[derive(Default)]
struct Prefill {
    title: String,
    ips: Vec<String>,
    users: Vec<String>,
    hosts: Vec<String>,
    event_ids: Vec<String>,
}

impl Prefill {
    /// From a stored event, as the API shows it.
    fn of_event(id: &str, event: &serde_json::Value) -> Prefill {
        let fields = super::events::dotted_fields(event);
        let value = |name: &str| {
            fields
                .iter()
                .filter(|(n, v)| n == name && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        let message: String = value("message").concat().chars().take(120).collect();
        Prefill {
            title: if message.is_empty() {
                format!("Event {id}")
            } else {
                message
            },
            ips: [value("source.ip"), value("destination.ip")].concat(),
            users: value("user.name"),
            hosts: value("host.name"),
            event_ids: vec![id.to_owned()],
        }
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Query<NewParams>,
) -> Response {
    if let Err(error) = session.principal.require(Permission::Analyse) {
        return super::error_page(&session, error);
    }
    let prefill = match params.event.as_deref().filter(|id| !id.is_empty()) {
        None => Prefill::default(),
        Some(text) => {
            let event = match text.parse::<EventId>() {
                Ok(id) => state.events.get(session.principal.org_id, id).await,
                Err(_) => Err(rampart_core::Error::invalid_field(
                    "event",
                    "must be an event id",
                )),
            };
            match event {
                Ok(event) => Prefill::of_event(text, &event),
                Err(error) => return super::error_page(&session, error),
            }
        }
    };
    let body = html! {
        p.crumbs { a href="/incidents" { "← Incidents" } }
        h1 { "Open an incident" }
        form.editor method="post" action="/incidents/new" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="title" { "Title" }
            input #title name="title" required maxlength="500" value=(prefill.title);
            label for="severity" { "Severity" }
            select #severity name="severity" {
                @for (value, name) in [(1, "info"), (2, "low"), (3, "medium"), (4, "high"), (5, "critical")] {
                    option value=(value) selected[value == 3] { (name) }
                }
            }
            label for="description" { "Description" }
            textarea #description name="description" rows="5" {}
            p.note { "Entities and event ids: one per line (or separated by commas or spaces)." }
            label for="ips" { "Addresses" }
            textarea #ips name="ips" rows="2" { (prefill.ips.join("\n")) }
            label for="users" { "Users" }
            textarea #users name="users" rows="2" { (prefill.users.join("\n")) }
            label for="hosts" { "Hosts" }
            textarea #hosts name="hosts" rows="2" { (prefill.hosts.join("\n")) }
            label for="event_ids" { "Event ids" }
            textarea #event_ids name="event_ids" rows="2" { (prefill.event_ids.join("\n")) }
            div.actions { button type="submit" { "Open" } }
        }
    };
    Html(layout::page("Open an incident", Some(&session), Section::Incidents, body).into_string())
        .into_response()
}

/// A form's list field: items separated by lines, commas or spaces.
fn items(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<NewForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let input = NewIncident {
        title: form.title,
        description: form.description.filter(|d| !d.trim().is_empty()),
        severity: SeverityInput::Number(form.severity),
        entities: Entities {
            ips: items(form.ips.as_deref()),
            users: items(form.users.as_deref()),
            hosts: items(form.hosts.as_deref()),
        },
        event_ids: items(form.event_ids.as_deref()),
        assignee: None,
    };
    match state.incidents.create(&session.principal, input).await {
        Ok(incident) => Redirect::to(&format!("/incidents/{}", incident.id)).into_response(),
        Err(error) => super::error_page(&session, error),
    }
}
