//! Users (admins): the organisation's users with their role and state;
//! adding one, changing a role, disabling and enabling, setting a new
//! password. The safety rules are the API's (an admin cannot lock the
//! organisation out, only a platform admin changes a platform admin).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::accounts::{UserChange, UserInput};
use rampart_app::paging::{Page, PageParams};
use rampart_core::{Permission, Role, User, UserId};
use secrecy::SecretString;
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PathId};
use crate::state::AppState;

const ROLES: [Role; 3] = [Role::Admin, Role::Analyst, Role::Viewer];

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    email: String,
    display_name: Option<String>,
    role: String,
    password: SecretString,
}

/// One change per form: a role, the disabled flag, or a password.
#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: String,
    role: Option<String>,
    disabled: Option<String>,
    password: Option<SecretString>,
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

pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let first = PageParams::default();
    let Ok(role) = form.role.parse::<Role>() else {
        return render(
            &state,
            &session,
            &first,
            Some("Choose a role."),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let input = UserInput {
        email: form.email,
        display_name: form.display_name.filter(|n| !n.trim().is_empty()),
        role,
        password: form.password,
    };
    match state.users.create(&session.principal, input).await {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(error) => {
            let status = ApiError::from(error.clone()).status;
            let detail = super::detail(&error);
            render(&state, &session, &first, Some(&detail), status).await
        }
    }
}

pub async fn change(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<UserId>, ApiError>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    let role = match form.role.as_deref().map(str::parse::<Role>).transpose() {
        Ok(role) => role,
        Err(_) => {
            return super::error_page(
                &session,
                rampart_core::Error::invalid_field("role", "not a role"),
            )
        }
    };
    let change = UserChange {
        display_name: None,
        role,
        disabled: form.disabled.as_deref().map(|d| d == "true"),
        password: form.password,
    };
    match state.users.update(&session.principal, id, change).await {
        Ok(_) => Redirect::to("/admin/users").into_response(),
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
    if let Err(error) = session.principal.require(Permission::Admin) {
        return super::error_page(session, error);
    }
    let users = match state.users.list(session.principal.org_id, page).await {
        Ok(users) => users,
        Err(error) => return super::error_page(session, error),
    };
    let body = html! {
        h1 { "Users" }
        @if let Some(problem) = problem { (layout::problem(problem)) }
        form.filters method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(session.csrf);
            div.field { label for="email" { "E-mail" } input #email type="email" name="email" required autocomplete="off"; }
            div.field { label for="display_name" { "Name" } input #display_name name="display_name" maxlength="200"; }
            div.field {
                label for="role" { "Role" }
                select #role name="role" {
                    @for role in ROLES { option value=(role.as_str()) selected[role == Role::Analyst] { (role.as_str()) } }
                }
            }
            div.field { label for="password" { "Password (12 or more characters)" } input #password type="password" name="password" required minlength="12" autocomplete="new-password"; }
            button type="submit" { "Add user" }
        }
        (user_table(&users, session))
    };
    (
        status,
        Html(layout::page("Users", Some(session), Section::Users, body).into_string()),
    )
        .into_response()
}

fn user_table(users: &Page<User>, session: &Session) -> Markup {
    html! {
        table {
            thead { tr { th { "E-mail" } th { "Name" } th { "Role" } th { "State" } th { "Added" } th { "New password" } } }
            tbody {
                @for user in &users.items {
                    tr {
                        td { (user.email) @if user.platform_admin { " " span.note { "(platform admin)" } } }
                        td { (user.display_name) }
                        td {
                            form.inline method="post" action={ "/admin/users/" (user.id) } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                select name="role" aria-label={ "Role of " (user.email) } {
                                    @for role in ROLES { option value=(role.as_str()) selected[role == user.role] { (role.as_str()) } }
                                }
                                button type="submit" { "Set" }
                            }
                        }
                        td {
                            form.inline method="post" action={ "/admin/users/" (user.id) } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                @if user.disabled {
                                    "disabled "
                                    input type="hidden" name="disabled" value="false";
                                    button type="submit" { "Enable" }
                                } @else {
                                    "active "
                                    input type="hidden" name="disabled" value="true";
                                    button.danger type="submit" { "Disable" }
                                }
                            }
                        }
                        td { (layout::time(user.created_at)) }
                        td {
                            form.inline method="post" action={ "/admin/users/" (user.id) } {
                                input type="hidden" name="csrf" value=(session.csrf);
                                input type="password" name="password" minlength="12" required autocomplete="new-password" aria-label={ "New password for " (user.email) };
                                button type="submit" { "Set" }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = &users.next_cursor {
            p.paging { a rel="next" href={ "/admin/users?cursor=" (cursor) } { "More users →" } }
        }
    }
}
