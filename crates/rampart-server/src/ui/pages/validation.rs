//! Validation rules: what incoming events must satisfy, with how many
//! passed and failed each rule over the last day (a chart per rule);
//! admins add and delete rules.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::validation::RuleInput;
use rampart_core::validation::{Check, Mode, ValidationRule};
use rampart_core::{Error, Permission, Timestamp, ValidationRuleId};
use serde::Deserialize;
use serde_json::{json, Value};

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    name: String,
    field: String,
    source: Option<String>,
    /// `required`, `type`, `regex`, `allowed_values` or `max_length`.
    check: String,
    /// The check's argument: a type, a pattern, comma-separated values or
    /// a length.
    argument: Option<String>,
    mode: String,
}

/// `(passed, failed)` by hour over the last day, oldest first.
type Counts = Vec<(Timestamp, i64, i64)>;

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    render(&state, &session, None, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    session: &Session,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    if let Err(error) = session.principal.require(Permission::Read) {
        return super::error_page(session, error);
    }
    let org = session.principal.org_id;
    let rules = match state.validation_rules.list(org).await {
        Ok(rules) => rules,
        Err(error) => return super::error_page(session, error),
    };
    let now = state.clock.now();
    let mut counted = Vec::with_capacity(rules.len());
    for rule in rules {
        let from = Some(Timestamp(now.0 - DAY_MS));
        match state
            .validation_rules
            .counts(org, rule.id, from, None, Some(60))
            .await
        {
            Ok(counts) => counted.push((rule, counts)),
            Err(error) => return super::error_page(session, error),
        }
    }
    let admin = session.principal.may(Permission::Admin);
    let body = html! {
        h1 { "Validation rules" }
        p.note { "Every event is checked against these as it is ingested: a warn rule stores it with a warning, a reject rule refuses it." }
        @if let Some(problem) = problem { (layout::problem(problem)) }
        @if admin { (create_form(session)) }
        @if counted.is_empty() { p.empty { "No validation rules yet." } }
        @for (rule, counts) in &counted {
            (rule_card(rule, counts, now, admin.then_some(session)))
        }
    };
    (
        status,
        Html(layout::page("Validation", Some(session), Section::Validation, body).into_string()),
    )
        .into_response()
}

fn create_form(session: &Session) -> Markup {
    html! {
        form.filters method="post" action="/validation" {
            input type="hidden" name="csrf" value=(session.csrf);
            div.field { label for="name" { "Name" } input #name name="name" required maxlength="100"; }
            div.field { label for="field" { "Field" } input #field name="field" required placeholder="host.name"; }
            div.field { label for="source" { "Only source (optional)" } input #source name="source" maxlength="64"; }
            div.field {
                label for="check" { "Check" }
                select #check name="check" {
                    option value="required" { "required" }
                    option value="type" { "type (string, number, boolean, ip, array, object)" }
                    option value="regex" { "matches a regex" }
                    option value="allowed_values" { "one of (comma-separated)" }
                    option value="max_length" { "at most N characters" }
                }
            }
            div.field { label for="argument" { "Argument" } input #argument name="argument" placeholder="ip"; }
            div.field {
                label for="mode" { "Mode" }
                select #mode name="mode" { option value="warn" { "warn" } option value="reject" { "reject" } }
            }
            button type="submit" { "Add rule" }
        }
    }
}

fn rule_card(
    rule: &ValidationRule,
    counts: &Counts,
    now: Timestamp,
    admin: Option<&Session>,
) -> Markup {
    let passed: i64 = counts.iter().map(|c| c.1).sum();
    let failed: i64 = counts.iter().map(|c| c.2).sum();
    html! {
        section.rule {
            h2 { (rule.name) }
            dl.facts {
                dt { "Field" } dd { code { (rule.field) } }
                dt { "Source" } dd { (rule.source.as_deref().unwrap_or("any")) }
                dt { "Check" } dd { code { (serde_json::to_string(&rule.check).unwrap_or_default()) } }
                dt { "Mode" } dd { (match rule.mode { Mode::Warn => "warn", Mode::Reject => "reject" }) }
                dt { "Last 24 hours" } dd { (passed) " passed, " (failed) " failed" }
            }
            (chart(counts, now))
            @if let Some(session) = admin {
                form method="post" action={ "/validation/" (rule.id) "/delete" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button.danger type="submit" { "Delete" }
                }
            }
        }
    }
}

/// Passed (below) and failed (above) per hour of the last day, as SVG.
fn chart(counts: &Counts, now: Timestamp) -> Markup {
    let start = now.0 - DAY_MS;
    let hour = 3_600_000;
    let peak = counts.iter().map(|c| c.1 + c.2).max().unwrap_or(1).max(1);
    let (width, height, bar) = (600.0, 80.0, 600.0 / 24.0);
    html! {
        svg.chart.small viewBox={ "0 0 " (width) " " (height) } preserveAspectRatio="none" role="img"
            aria-label="Passed and failed events per hour over the last day" {
            @for (at, passed, failed) in counts {
                @let slot = (at.0 - start).div_euclid(hour);
                @if (0..24).contains(&slot) {
                    @let scale = (height - 2.0) / peak as f64;
                    @let (p, f) = (*passed as f64 * scale, *failed as f64 * scale);
                    rect.passed x=(format!("{:.1}", slot as f64 * bar)) y=(format!("{:.1}", height - p))
                        width=(format!("{:.1}", bar - 1.0)) height=(format!("{p:.1}")) {
                        title { (passed) " passed from " (at) }
                    }
                    rect.failed x=(format!("{:.1}", slot as f64 * bar)) y=(format!("{:.1}", height - p - f))
                        width=(format!("{:.1}", bar - 1.0)) height=(format!("{f:.1}")) {
                        title { (failed) " failed from " (at) }
                    }
                }
            }
        }
    }
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
    let input = match rule_input(form) {
        Ok(input) => input,
        Err(error) => {
            return render(
                &state,
                &session,
                Some(&error.detail),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    match state
        .validation_rules
        .create(session.principal.org_id, input)
        .await
    {
        Ok(_) => Redirect::to("/validation").into_response(),
        Err(error) => {
            let status = ApiError::from(error.clone()).status;
            render(&state, &session, Some(&error.detail), status).await
        }
    }
}

/// The rule a form describes; the check is read as the API reads it.
fn rule_input(form: CreateForm) -> Result<RuleInput, Error> {
    let argument = form.argument.unwrap_or_default();
    let argument = argument.trim();
    let check = match form.check.as_str() {
        "required" => json!({"type": "required"}),
        "type" => json!({"type": "type", "is": argument}),
        "regex" => json!({"type": "regex", "pattern": argument}),
        "allowed_values" => {
            let values: Vec<&str> = argument
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect();
            json!({"type": "allowed_values", "values": values})
        }
        "max_length" => {
            json!({"type": "max_length", "max": argument.parse::<u64>().map_or(Value::Null, Value::from)})
        }
        _ => return Err(Error::invalid_field("check", "not a kind of check")),
    };
    let check: Check = serde_json::from_value(check)
        .map_err(|e| Error::invalid_field("argument", format!("does not suit the check: {e}")))?;
    let mode = match form.mode.as_str() {
        "warn" => Mode::Warn,
        "reject" => Mode::Reject,
        _ => return Err(Error::invalid_field("mode", "warn or reject")),
    };
    Ok(RuleInput {
        name: form.name,
        source: form.source.filter(|s| !s.trim().is_empty()),
        field: form.field,
        check,
        mode,
        enabled: true,
    })
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<ValidationRuleId>, ApiError>,
    Form(form): Form<super::CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state
        .validation_rules
        .delete(session.principal.org_id, id)
        .await
    {
        Ok(()) => Redirect::to("/validation").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}
