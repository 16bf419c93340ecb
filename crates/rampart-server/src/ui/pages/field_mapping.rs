//! The organisation's field mapping: which event paths a Sigma field name
//! reads, beside the built-in defaults. Admins edit it as lines of
//! `SigmaName = path, other.path`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::rules::{FieldMappingInput, FieldMappingView};
use rampart_core::{Error, Permission};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct MappingForm {
    csrf: String,
    mapping: String,
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    render(&state, &session, None, None, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    session: &Session,
    text: Option<&str>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    if let Err(error) = session.principal.require(Permission::Read) {
        return super::error_page(session, error);
    }
    let view = match state.rules.field_mapping(session.principal.org_id).await {
        Ok(view) => view,
        Err(error) => return super::error_page(session, error),
    };
    let text = text.map_or_else(|| as_lines(&view.mapping), str::to_owned);
    let body = page(&view, session, &text, problem);
    (
        status,
        Html(layout::page("Field mapping", Some(session), Section::Rules, body).into_string()),
    )
        .into_response()
}

fn page(view: &FieldMappingView, session: &Session, text: &str, problem: Option<&str>) -> Markup {
    let admin = session.principal.may(Permission::Admin);
    html! {
        p.crumbs { a href="/rules" { "← Rules" } }
        h1 { "Field mapping" }
        p.note {
            "A Sigma field name reads the event's own key of that name, then the paths given here, then the defaults below. "
            "One line per field: " code { "CommandLine = process.command_line, proc.cmdline" } "; a " code { "*" } " segment matches any one key."
        }
        @if let Some(problem) = problem { (layout::problem(problem)) }
        form.editor method="post" action="/rules/field-mapping" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="mapping" { "The organisation's own mapping" }
            textarea #mapping name="mapping" rows="10" spellcheck="false" readonly[!admin] { (text) }
            @if let Some(at) = view.updated_at { p.note { "Last set " (layout::time(at)) " UTC." } }
            @if admin { div.actions { button type="submit" { "Save" } } }
        }
        h2 { "Defaults" }
        table.fields {
            thead { tr { th { "Sigma field" } th { "Event paths" } } }
            tbody {
                @for (name, paths) in &view.defaults {
                    tr { th scope="row" { (name) } td { (paths.join(", ")) } }
                }
            }
        }
    }
}

fn as_lines(mapping: &BTreeMap<String, Vec<String>>) -> String {
    mapping
        .iter()
        .map(|(name, paths)| format!("{name} = {}\n", paths.join(", ")))
        .collect()
}

/// The mapping the form's lines give; a line without `=` names its line.
fn parse_lines(text: &str) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut mapping = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, paths)) = line.split_once('=') else {
            return Err(Error::invalid_field(
                "mapping",
                format!("line {}: write `SigmaName = path, other.path`", n + 1),
            ));
        };
        let paths: Vec<String> = paths
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        mapping.insert(name.trim().to_owned(), paths);
    }
    Ok(mapping)
}

pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<MappingForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let saved = match parse_lines(&form.mapping) {
        Ok(mapping) => {
            let input = FieldMappingInput { mapping };
            state
                .rules
                .replace_field_mapping(&session.principal, input)
                .await
        }
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => Redirect::to("/rules/field-mapping").into_response(),
        Err(error) => {
            let status = ApiError::from(error.clone()).status;
            let detail = super::detail(&error);
            render(&state, &session, Some(&form.mapping), Some(&detail), status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_a_mapping_and_back() {
        let mapping =
            parse_lines("# comment\nCommandLine = proc.cmdline, x.y\n\nUser=user.name\n").unwrap();
        assert_eq!(mapping["CommandLine"], vec!["proc.cmdline", "x.y"]);
        assert_eq!(mapping["User"], vec!["user.name"]);
        assert_eq!(
            as_lines(&mapping),
            "CommandLine = proc.cmdline, x.y\nUser = user.name\n"
        );
        let error = parse_lines("ok = a\nno equals sign").unwrap_err();
        assert!(error.detail.starts_with("line 2"), "{}", error.detail);
    }
}
