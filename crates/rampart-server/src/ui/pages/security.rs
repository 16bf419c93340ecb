//! The signed-in user's own security: an authenticator app (set up from a
//! QR code, confirmed with a code, recovery codes shown once, removed with
//! a code) and a password change (which signs every session out).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup, PreEscaped};
use rampart_core::Permission;
use secrecy::SecretString;
use serde::Deserialize;

use super::super::cookies;
use super::super::layout::{self, Section};
use super::super::session::{self, Session};
use crate::state::AppState;

/// An SVG QR code of `text` (black modules on white, 4-module margin).
pub(super) fn qr_svg(text: &str) -> Markup {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Medium) else {
        return html! { p.note { "(The URI is too long for a QR code; type the secret instead.)" } };
    };
    let size = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + border * 2;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" width=\"220\" height=\"220\" \
         role=\"img\" aria-label=\"QR code for the authenticator app\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/><path d=\"{path}\" fill=\"#000000\"/></svg>"
    );
    html! { div.qr { (PreEscaped(svg)) } }
}

fn page(session: &Session, status: StatusCode, body: Markup) -> Response {
    (
        status,
        Html(layout::page("Security", Some(session), Section::None, body).into_string()),
    )
        .into_response()
}

async fn overview(
    state: &AppState,
    session: &Session,
    problem: Option<String>,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let totp = match state.factors.totp_status(&session.principal).await {
        Ok(totp) => totp,
        Err(error) => return super::error_page(session, error),
    };
    let csrf = &session.csrf;
    let body = html! {
        h1 { "Security" }
        @if let Some(problem) = &problem { (layout::problem(problem)) }
        @if let Some(notice) = notice { p.result role="status" { (notice) } }
        h2 { "Two-factor sign-in" }
        @if totp.enabled {
            p #totp-state { "On: signing in asks for a code from your authenticator app. Recovery codes left: " (totp.recovery_codes_left) "." }
            form.editor #totp-disable method="post" action="/security/totp/disable" {
                input type="hidden" name="csrf" value=(csrf);
                label for="disable-code" { "A current code (or a recovery code) to turn it off" }
                input #disable-code name="code" autocomplete="one-time-code" required maxlength="32";
                div.actions { button.danger type="submit" { "Turn off" } }
            }
        } @else {
            p #totp-state { "Off: a password alone signs you in." }
            form.inline method="post" action="/security/totp" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Set up an authenticator app" }
            }
        }
        h2 { "Password" }
        form.editor #password-change method="post" action="/security/password" {
            input type="hidden" name="csrf" value=(csrf);
            label for="current_password" { "Current password" }
            input #current_password type="password" name="current_password" autocomplete="current-password" required;
            label for="new_password" { "New password (12 characters or more)" }
            input #new_password type="password" name="new_password" autocomplete="new-password" required minlength="12";
            div.actions { button type="submit" { "Change password" } }
            p.note { "Every session ends, this one too; sign in again with the new password." }
        }
    };
    page(session, status, body)
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    overview(&state, &session, None, None, StatusCode::OK).await
}

/// Starts setting up: the QR code, the secret, and the confirm form.
pub async fn begin(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<super::CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Read) {
        return page;
    }
    let setup = match state.factors.begin_totp(&session.principal).await {
        Ok(setup) => setup,
        Err(error) => {
            let status = crate::error::ApiError::from(error.clone()).status;
            return overview(&state, &session, Some(super::detail(&error)), None, status).await;
        }
    };
    confirm_page(
        &session,
        &setup.otpauth_uri,
        &setup.secret,
        None,
        StatusCode::OK,
    )
}

fn confirm_page(
    session: &Session,
    uri: &str,
    secret: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = html! {
        h1 { "Set up an authenticator app" }
        @if let Some(problem) = problem { (layout::problem(problem)) }
        p { "Scan this code with your authenticator app (or type the secret), then enter the 6-digit code it shows." }
        (qr_svg(uri))
        p { "Secret: " code #totp-secret { (secret) } }
        form.editor #totp-confirm method="post" action="/security/totp/confirm" {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="secret" value=(secret);
            input type="hidden" name="uri" value=(uri);
            label for="code" { "Code from the app" }
            input #code name="code" autocomplete="one-time-code" inputmode="numeric" required maxlength="6" autofocus;
            div.actions { button type="submit" { "Turn on" } }
        }
    };
    page(session, status, body)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
    code: String,
    /// Shown again when the code is wrong.
    secret: String,
    uri: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Read) {
        return page;
    }
    match state
        .factors
        .confirm_totp(&session.principal, &form.code)
        .await
    {
        Ok(codes) => {
            let body = html! {
                h1 { "Two-factor sign-in is on" }
                p { "Keep these recovery codes somewhere safe: each signs you in once if you lose the app. They are not shown again." }
                ul #recovery-codes.codes { @for code in &codes.recovery_codes { li { code { (code) } } } }
                p { a href="/security" { "Done" } }
            };
            page(&session, StatusCode::OK, body)
        }
        Err(error) => {
            let status = crate::error::ApiError::from(error.clone()).status;
            confirm_page(
                &session,
                &form.uri,
                &form.secret,
                Some(&super::detail(&error)),
                status,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

pub async fn disable(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Read) {
        return page;
    }
    match state
        .factors
        .disable_totp(&session.principal, &form.code)
        .await
    {
        Ok(()) => Redirect::to("/security").into_response(),
        Err(error) => {
            let status = crate::error::ApiError::from(error.clone()).status;
            overview(&state, &session, Some(super::detail(&error)), None, status).await
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current_password: SecretString,
    new_password: SecretString,
}

pub async fn change_password(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Read) {
        return page;
    }
    match state
        .factors
        .change_password(&session.principal, form.current_password, form.new_password)
        .await
    {
        Ok(()) => {
            let mut response = Redirect::to("/login?reset=done").into_response();
            for cookie in session::cleared_cookies(cookies::over_tls(&headers)) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => {
            let status = crate::error::ApiError::from(error.clone()).status;
            overview(&state, &session, Some(super::detail(&error)), None, status).await
        }
    }
}
