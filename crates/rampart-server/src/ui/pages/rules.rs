//! Detection rules: the list with hit counts and on/off switches, and a
//! Sigma editor that validates (errors at their line), tests against
//! sample events, and saves. Built-in rules are shown, not edited.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::rules::{RuleInput, RuleView, TestInput, TestReport};
use rampart_app::paging::{Page, TextPageParams};
use rampart_core::{Error, Permission};
use serde::Deserialize;
use serde_json::Value;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Most sample events one test takes from the form.
const MAX_SAMPLE_EVENTS: usize = 1000;

#[derive(Deserialize)]
pub struct EditorForm {
    csrf: String,
    yaml: String,
    #[serde(default)]
    events: String,
    /// `validate`, `test` or `save`.
    action: String,
}

#[derive(Deserialize)]
pub struct SwitchForm {
    csrf: String,
    enabled: String,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    page: Result<ApiQuery<TextPageParams>, ApiError>,
) -> Response {
    let rules = match page {
        Ok(ApiQuery(page)) => match session.principal.require(Permission::Read) {
            Ok(()) => {
                state
                    .rules
                    .list(session.principal.org_id, &page.into())
                    .await
            }
            Err(error) => Err(error),
        },
        Err(error) => Err(error.error),
    };
    let rules = match rules {
        Ok(rules) => rules,
        Err(error) => return super::error_page(&session, error),
    };
    let admin = session.principal.may(Permission::Admin);
    let body = html! {
        h1 { "Detection rules" }
        p {
            @if admin { a href="/rules/new" { "New Sigma rule" } " · " }
            a href="/rules/field-mapping" { "Field mapping" }
        }
        (rule_table(&rules, &session, admin))
    };
    Html(layout::page("Rules", Some(&session), Section::Rules, body).into_string()).into_response()
}

fn rule_table(rules: &Page<RuleView>, session: &Session, admin: bool) -> Markup {
    html! {
        table {
            thead { tr { th { "Rule" } th { "Kind" } th { "Level" } th.num { "Hits" } th { "Last hit" } th { "State" } } }
            tbody {
                @for rule in &rules.items {
                    tr {
                        td {
                            a href={ "/rules/" (encode(&rule.id)) } { (rule.title) }
                            @if rule.builtin { " " span.note { "(built-in)" } }
                        }
                        td { (rule.kind) }
                        td { (rule.level.as_deref().unwrap_or("—")) }
                        td.num { (rule.hits) }
                        td { @match rule.last_hit_at { Some(at) => (layout::time(at)), None => "never" } }
                        td { (switch(rule, session, admin)) }
                    }
                }
            }
        }
        @if let Some(cursor) = &rules.next_cursor {
            p.paging { a rel="next" href={ "/rules?cursor=" (cursor) } { "More rules →" } }
        }
    }
}

fn switch(rule: &RuleView, session: &Session, admin: bool) -> Markup {
    html! {
        @if admin {
            form.inline method="post" action={ "/rules/" (encode(&rule.id)) "/enabled" } {
                input type="hidden" name="csrf" value=(session.csrf);
                @if rule.enabled {
                    "on " input type="hidden" name="enabled" value="false"; button.danger type="submit" { "Switch off" }
                } @else {
                    "off " input type="hidden" name="enabled" value="true"; button type="submit" { "Switch on" }
                }
            }
        } @else {
            @if rule.enabled { "on" } @else { "off" }
        }
    }
}

pub async fn new_form(Extension(session): Extension<Session>) -> Response {
    if let Err(error) = session.principal.require(Permission::Admin) {
        return super::error_page(&session, error);
    }
    editor_page(
        &session,
        None,
        EXAMPLE_RULE,
        EXAMPLE_EVENTS,
        None,
        StatusCode::OK,
    )
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let rule = match session.principal.require(Permission::Read) {
        Ok(()) => state.rules.get(session.principal.org_id, &id).await,
        Err(error) => Err(error),
    };
    match rule {
        Ok(rule) => {
            let yaml = rule.yaml.clone();
            editor_page(&session, Some(&rule), &yaml, "", None, StatusCode::OK)
        }
        Err(error) => super::error_page(&session, error),
    }
}

/// Validates, tests or saves the editor's rule: a new one (`id` `None`)
/// or a change to rule `id`.
async fn submit(
    state: &AppState,
    session: &Session,
    id: Option<&str>,
    form: EditorForm,
) -> Response {
    let org = session.principal.org_id;
    let existing = match id {
        Some(id) => match state.rules.get(org, id).await {
            Ok(rule) => Some(rule),
            Err(error) => return super::error_page(session, error),
        },
        None => None,
    };
    let outcome = match form.action.as_str() {
        "validate" => state.rules.validate(org, &form.yaml).await.map(|summary| {
            Outcome::Note(format!("Valid {} rule “{}”.", summary.kind, summary.title))
        }),
        "test" => match sample_events(&form.events) {
            Ok(events) => {
                let input = TestInput {
                    yaml: form.yaml.clone(),
                    events,
                };
                state.rules.test(org, input).await.map(Outcome::Tested)
            }
            Err(error) => Err(error),
        },
        "save" => {
            let input = RuleInput {
                yaml: form.yaml.clone(),
                enabled: None,
            };
            let saved = match id {
                Some(id) => state.rules.replace(&session.principal, id, input).await,
                None => state.rules.create(&session.principal, input).await,
            };
            match saved {
                Ok(rule) => {
                    return Redirect::to(&format!("/rules/{}", encode(&rule.id))).into_response()
                }
                Err(error) => Err(error),
            }
        }
        _ => Err(Error::invalid_field("action", "validate, test or save")),
    };
    match outcome {
        Ok(outcome) => editor_page(
            session,
            existing.as_ref(),
            &form.yaml,
            &form.events,
            Some(outcome),
            StatusCode::OK,
        ),
        Err(error) => {
            let status = ApiError::from(error.clone()).status;
            let outcome = Outcome::Problem(error);
            editor_page(
                session,
                existing.as_ref(),
                &form.yaml,
                &form.events,
                Some(outcome),
                status,
            )
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<EditorForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    submit(&state, &session, None, form).await
}

pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<EditorForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    submit(&state, &session, Some(&id), form).await
}

pub async fn set_enabled(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<SwitchForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let enabled = form.enabled == "true";
    match state
        .rules
        .set_enabled(&session.principal, &id, enabled)
        .await
    {
        Ok(_) => Redirect::to("/rules").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

/// The sample events of the form: a JSON array, or one JSON object per line.
fn sample_events(text: &str) -> Result<Vec<Value>, Error> {
    let text = text.trim();
    let events: Vec<Value> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|e| {
            Error::invalid_field("events", format!("not a JSON array of events: {e}"))
        })?
    } else {
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(n, line)| {
                serde_json::from_str(line).map_err(|e| {
                    Error::invalid_field("events", format!("line {}: not a JSON event: {e}", n + 1))
                })
            })
            .collect::<Result<_, _>>()?
    };
    if events.len() > MAX_SAMPLE_EVENTS {
        return Err(Error::invalid_field(
            "events",
            format!("at most {MAX_SAMPLE_EVENTS} sample events"),
        ));
    }
    Ok(events)
}

enum Outcome {
    Note(String),
    Tested(TestReport),
    Problem(Error),
}

fn editor_page(
    session: &Session,
    rule: Option<&RuleView>,
    yaml: &str,
    events: &str,
    outcome: Option<Outcome>,
    status: StatusCode,
) -> Response {
    let admin = session.principal.may(Permission::Admin);
    let editable = admin && rule.is_none_or(|r| !r.builtin);
    let action = match rule {
        Some(rule) => format!("/rules/{}", encode(&rule.id)),
        None => "/rules/new".to_owned(),
    };
    let title = rule.map_or("New rule".to_owned(), |r| r.title.clone());
    let body = html! {
        p.crumbs { a href="/rules" { "← Rules" } }
        h1 { (title) }
        @if let Some(rule) = rule {
            dl.facts {
                dt { "Kind" } dd { (rule.kind) }
                dt { "Level" } dd { (rule.level.as_deref().unwrap_or("—")) }
                dt { "Hits" } dd { (rule.hits) }
                dt { "Last hit" } dd { @match rule.last_hit_at { Some(at) => (layout::time(at)), None => "never" } }
                dt { "State" } dd { (switch(rule, session, admin)) }
            }
            @if rule.builtin { p.note { "A built-in rule: switch it on or off; copy its YAML into a new rule to change it." } }
        }
        @match &outcome {
            Some(Outcome::Note(note)) => p.ok role="status" { (note) },
            Some(Outcome::Problem(error)) => (layout::problem(&problem_text(error))),
            Some(Outcome::Tested(report)) => (test_report(report)),
            None => {},
        }
        form.editor method="post" action=(action) {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="yaml" { "Sigma YAML" }
            textarea #yaml name="yaml" rows="18" spellcheck="false" readonly[!editable] { (yaml) }
            label for="events" { "Sample events (a JSON array, or one JSON object per line)" }
            textarea #events name="events" rows="6" spellcheck="false" { (events) }
            div.actions {
                button type="submit" name="action" value="validate" { "Validate" }
                button type="submit" name="action" value="test" { "Test on the samples" }
                @if editable { button type="submit" name="action" value="save" { "Save" } }
            }
        }
    };
    let page = layout::page("Rule", Some(session), Section::Rules, body);
    (status, Html(page.into_string())).into_response()
}

fn problem_text(error: &Error) -> String {
    match (error.line, error.column, &error.field) {
        (Some(line), Some(column), _) => format!("line {line}, column {column}: {}", error.detail),
        (Some(line), None, _) => format!("line {line}: {}", error.detail),
        _ => super::detail(error),
    }
}

fn test_report(report: &TestReport) -> Markup {
    html! {
        section.report role="status" {
            h2 { (report.matched) " of " (report.total) " sample events matched" }
            @if !report.matches.is_empty() {
                ul {
                    @for m in &report.matches {
                        li { "event " (m.index + 1) ": " (m.rules.iter().map(|r| r.title.as_str()).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
            @if !report.alerts.is_empty() {
                h2 { "Correlation alerts" }
                ul {
                    @for alert in &report.alerts {
                        li { (alert.rule.title) " over events " (alert.events.iter().map(|i| (i + 1).to_string()).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
        }
    }
}

fn encode(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

const EXAMPLE_RULE: &str = "title: Successful login as root over SSH
id: 6b0f4d4e-0000-4000-8000-000000000001
status: experimental
level: high
logsource:
  product: linux
  service: sshd
detection:
  selection:
    event.action: ssh_login
    event.outcome: success
    user.name: root
  condition: selection
";

const EXAMPLE_EVENTS: &str = r#"{"event":{"category":"authentication","action":"ssh_login","outcome":"success"},"user":{"name":"root"},"source":{"ip":"203.0.113.7"},"host":{"name":"bastion-1"}}
{"event":{"category":"authentication","action":"ssh_login","outcome":"success"},"user":{"name":"alice"},"source":{"ip":"192.0.2.10"}}"#;
