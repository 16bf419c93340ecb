//! Feature flags: the organisation's (and, for platform admins, the
//! platform's) flags with their kill switch, an editor whose rules and
//! variants are JSON (errors shown with their field), and a form that
//! evaluates a flag for a user and address.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::flags::{EvaluateInput, FlagView};
use rampart_core::flag::{Evaluation, FlagContext};
use rampart_core::Permission;
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::routes::params::PlatformScope;
use crate::state::AppState;

const RULES_EXAMPLE: &str = r#"[{"constraints": [{"field": "role", "operator": "in", "values": ["admin"]}]},
 {"constraints": [{"field": "email_domain", "operator": "in", "values": ["example.com"]}], "rollout": 25, "stickiness": "user_id"}]"#;

#[derive(Deserialize, Default)]
pub struct Params {
    platform: Option<bool>,
    /// Evaluate this flag for `user`/`address`.
    flag: Option<String>,
    user: Option<String>,
    address: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Query<Params>,
) -> Response {
    let platform = params.platform.unwrap_or(false);
    let flags = match state.flags.list(&session.principal, platform).await {
        Ok(flags) => flags,
        Err(error) => return super::error_page(&session, error),
    };
    let evaluated = params
        .flag
        .as_deref()
        .filter(|f| !f.is_empty())
        .map(|flag| {
            let input = EvaluateInput {
                flag: flag.to_owned(),
                context: FlagContext {
                    user_id: params.user.clone().filter(|u| !u.is_empty()),
                    client_address: params.address.clone().filter(|a| !a.is_empty()),
                    ..FlagContext::default()
                },
            };
            (
                flag.to_owned(),
                state.flags.evaluate(&session.principal, input),
            )
        });
    let admin = session.principal.may(Permission::Admin)
        && (!platform || session.principal.require_platform_admin().is_ok());
    let scope = if platform { "?platform=true" } else { "" };
    let body = html! {
        h1 { @if platform { "Platform feature flags" } @else { "Feature flags" } }
        p.note {
            "A flag is off for everyone while switched off; on, it is on for whoever a rule lets in (everyone when it has no rules). "
            "Rollouts bucket callers as Unleash does. Changes reach every node within a second."
        }
        @if session.principal.require_platform_admin().is_ok() {
            nav.ranges aria-label="Whose flags" {
                a href="/admin/flags" aria-current=[(!platform).then_some("page")] { "This organisation's" }
                a href="/admin/flags?platform=true" aria-current=[platform.then_some("page")] { "The platform's" }
            }
        }
        @if flags.is_empty() { p.empty { "No flags yet." } } @else {
            table {
                thead { tr { th { "Flag" } th { "State" } th.num { "Rules" } th { "Variants" } th { "Updated" } th { "" } } }
                tbody {
                    @for flag in &flags {
                        tr {
                            td { a href={ "/admin/flags/" (flag.key) (scope) } { code { (flag.key) } } br; span.note { (flag.description) } }
                            td { @if flag.enabled { "on" } @else { strong { "off" } } }
                            td.num { (flag.rules.len()) }
                            td { (flag.variants.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")) }
                            td { (layout::time(flag.updated_at)) }
                            td {
                                @if admin {
                                    form.inline method="post" action={ "/admin/flags/" (flag.key) "/delete" (scope) } {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        button.danger type="submit" { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Evaluate" }
        form.filters method="get" action="/admin/flags" {
            @if platform { input type="hidden" name="platform" value="true"; }
            div.field { label for="flag" { "Flag" } input #flag name="flag" required value=[params.flag.as_deref()]; }
            div.field { label for="user" { "User id" } input #user name="user" value=[params.user.as_deref()]; }
            div.field { label for="address" { "Client address" } input #address name="address" value=[params.address.as_deref()]; }
            button type="submit" { "Evaluate" }
        }
        @if let Some((flag, result)) = &evaluated {
            @match result {
                Ok(e) => (evaluation(flag, e)),
                Err(error) => (layout::problem(&super::detail(error))),
            }
        }
        @if admin {
            h2 { "New flag" }
            (editor(&session, None, platform, &Draft::default(), None))
        }
    };
    Html(layout::page("Feature flags", Some(&session), Section::Flags, body).into_string())
        .into_response()
}

fn evaluation(flag: &str, e: &Evaluation) -> Markup {
    html! {
        p.result role="status" {
            code { (flag) } " is " strong { @if e.enabled { "on" } @else { "off" } }
            " (" (e.reason) ")"
            @if let Some(variant) = &e.variant { ", variant " code { (variant) } }
        }
    }
}

/// The editor's fields as text.
#[derive(Default)]
struct Draft {
    key: String,
    description: String,
    enabled: bool,
    rules: String,
    variants: String,
}

impl Draft {
    fn of(flag: &FlagView) -> Draft {
        Draft {
            key: flag.key.clone(),
            description: flag.description.clone(),
            enabled: flag.enabled,
            rules: serde_json::to_string_pretty(&flag.rules).unwrap_or_default(),
            variants: serde_json::to_string_pretty(&flag.variants).unwrap_or_default(),
        }
    }
}

fn editor(
    session: &Session,
    key: Option<&str>,
    platform: bool,
    draft: &Draft,
    problem: Option<&str>,
) -> Markup {
    let scope = if platform { "?platform=true" } else { "" };
    let action = match key {
        Some(key) => format!("/admin/flags/{key}{scope}"),
        None => format!("/admin/flags{scope}"),
    };
    html! {
        @if let Some(problem) = problem { (layout::problem(problem)) }
        form.editor method="post" action=(action) {
            input type="hidden" name="csrf" value=(session.csrf);
            @if key.is_none() {
                label for="key" { "Key" }
                input #key name="key" required maxlength="100" placeholder="beta.hunting" value=(draft.key);
            }
            label for="description" { "Description" }
            input #description name="description" value=(draft.description);
            label { input type="checkbox" name="enabled" value="true" checked[draft.enabled]; " On (unticked: off for everyone)" }
            label for="rules" { "Rules (JSON; empty: everyone)" }
            textarea #rules name="rules" rows="8" placeholder=(RULES_EXAMPLE) { (draft.rules) }
            label for="variants" { "Variants (JSON, weights adding up to 1000)" }
            textarea #variants name="variants" rows="3" placeholder=r#"[{"name": "a", "weight": 500}, {"name": "b", "weight": 500}]"# { (draft.variants) }
            div.actions { button type="submit" { @if key.is_some() { "Save" } @else { "Create" } } }
        }
    }
}

#[derive(Deserialize)]
pub struct FlagForm {
    csrf: String,
    key: Option<String>,
    description: String,
    enabled: Option<String>,
    rules: String,
    variants: String,
}

impl FlagForm {
    fn draft(&self) -> Draft {
        Draft {
            key: self.key.clone().unwrap_or_default(),
            description: self.description.clone(),
            enabled: self.enabled.is_some(),
            rules: self.rules.clone(),
            variants: self.variants.clone(),
        }
    }

    /// The form as the API's body: a new flag (with its key and scope)
    /// or a definition.
    fn body<T: serde::de::DeserializeOwned>(
        &self,
        new: Option<bool>,
    ) -> Result<T, rampart_core::Error> {
        let json = |field: &str, text: &str| -> Result<serde_json::Value, rampart_core::Error> {
            if text.trim().is_empty() {
                return Ok(serde_json::json!([]));
            }
            serde_json::from_str(text)
                .map_err(|e| rampart_core::Error::invalid_field(field, e.to_string()))
        };
        let mut body = serde_json::json!({
            "description": self.description,
            "enabled": self.enabled.is_some(),
            "rules": json("rules", &self.rules)?,
            "variants": json("variants", &self.variants)?,
        });
        if let Some(platform) = new {
            body["key"] = serde_json::json!(self.key.clone().unwrap_or_default());
            body["platform"] = serde_json::json!(platform);
        }
        serde_json::from_value(body)
            .map_err(|e| rampart_core::Error::invalid_field("rules", e.to_string()))
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Query(scope): Query<PlatformScope>,
    Form(form): Form<FlagForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let platform = scope.platform();
    let saved = match form.body(Some(platform)) {
        Ok(input) => state.flags.create(&session.principal, input).await,
        Err(error) => Err(error),
    };
    after_save(&session, saved, None, platform, &form)
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(key): Path<String>,
    Query(scope): Query<PlatformScope>,
) -> Response {
    let platform = scope.platform();
    match state.flags.get(&session.principal, &key, platform).await {
        Ok(flag) => edit_page(
            &session,
            &key,
            platform,
            &Draft::of(&flag),
            None,
            StatusCode::OK,
        ),
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(scope): Query<PlatformScope>,
    Form(form): Form<FlagForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let platform = scope.platform();
    let saved = match form.body(None) {
        Ok(input) => {
            state
                .flags
                .replace(&session.principal, &key, platform, input)
                .await
        }
        Err(error) => Err(error),
    };
    after_save(&session, saved, Some(&key), platform, &form)
}

fn after_save(
    session: &Session,
    saved: Result<FlagView, rampart_core::Error>,
    key: Option<&str>,
    platform: bool,
    form: &FlagForm,
) -> Response {
    let back = if platform {
        "/admin/flags?platform=true"
    } else {
        "/admin/flags"
    };
    match saved {
        Ok(_) => Redirect::to(back).into_response(),
        Err(error) => {
            let status = ApiError::from(error.clone()).status;
            let detail = super::detail(&error);
            match key {
                Some(key) => {
                    edit_page(session, key, platform, &form.draft(), Some(&detail), status)
                }
                None => {
                    let body = html! {
                        p.crumbs { a href=(back) { "← Feature flags" } }
                        h1 { "New flag" }
                        (editor(session, None, platform, &form.draft(), Some(&detail)))
                    };
                    (
                        status,
                        Html(
                            layout::page("New flag", Some(session), Section::Flags, body)
                                .into_string(),
                        ),
                    )
                        .into_response()
                }
            }
        }
    }
}

fn edit_page(
    session: &Session,
    key: &str,
    platform: bool,
    draft: &Draft,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let back = if platform {
        "/admin/flags?platform=true"
    } else {
        "/admin/flags"
    };
    let body = html! {
        p.crumbs { a href=(back) { "← Feature flags" } }
        h1 { "Flag " code { (key) } }
        (editor(session, Some(key), platform, draft, problem))
    };
    (
        status,
        Html(layout::page("Flag", Some(session), Section::Flags, body).into_string()),
    )
        .into_response()
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(scope): Query<PlatformScope>,
    Form(form): Form<super::CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let platform = scope.platform();
    match state.flags.delete(&session.principal, &key, platform).await {
        Ok(()) if platform => Redirect::to("/admin/flags?platform=true").into_response(),
        Ok(()) => Redirect::to("/admin/flags").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}
