//! Signing in and out: the API's login (with its throttling and lockout)
//! behind a form, the second step, setting up an authenticator where the
//! organisation requires one; the session's tokens go into cookies.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use rampart_app::api::accounts::{LoginReply, TokenPair};
use rampart_core::ErrorKind;
use secrecy::SecretString;
use serde::Deserialize;

use super::super::cookies;
use super::super::layout::{self, Section};
use super::super::session::{self, Session};
use crate::extract::ClientIp;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: SecretString,
    csrf: String,
    next: Option<String>,
}

pub async fn form(headers: HeaderMap, Query(query): Query<LoginQuery>) -> Response {
    let notice = (query.reset.as_deref() == Some("done"))
        .then_some("Your password was changed; sign in with the new one.");
    login_page(&headers, query.next.as_deref(), notice, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    reset: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = form.next.as_deref();
    if !session::csrf_ok(&headers, &form.csrf) {
        let detail = "The form has expired; please sign in again.";
        return login_page(&headers, next, Some(detail), StatusCode::FORBIDDEN);
    }
    match state.sessions.login(&form.email, form.password, ip).await {
        Ok(reply) => signed_in(&state, &headers, next, reply).await,
        Err(error) => {
            let (status, detail) = refusal_of(&error, "Wrong e-mail or password.");
            login_page(&headers, next, Some(&detail), status)
        }
    }
}

/// The status and words of a failed sign-in step.
fn refusal_of(error: &rampart_core::Error, wrong: &str) -> (StatusCode, String) {
    match error.kind {
        ErrorKind::Throttled => (StatusCode::TOO_MANY_REQUESTS, error.detail.clone()),
        ErrorKind::Unauthenticated | ErrorKind::Invalid => {
            (StatusCode::UNAUTHORIZED, wrong.to_owned())
        }
        _ => {
            tracing::error!(code = error.code, "sign-in failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Signing in failed on the server; try again.".to_owned(),
            )
        }
    }
}

/// Tokens become cookies and the browser goes on; a second factor due
/// shows its form, one to set up its QR code.
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    next: Option<&str>,
    reply: LoginReply,
) -> Response {
    match reply {
        LoginReply::Tokens(pair) => with_tokens(headers, next, &pair),
        LoginReply::MfaRequired(mfa) => {
            mfa_page(headers, next, &mfa.mfa_token, None, StatusCode::OK)
        }
        LoginReply::MfaEnrollmentRequired(enroll) => {
            match state.factors.begin_enrollment(&enroll.mfa_token).await {
                Ok(setup) => {
                    let form = EnrollForm {
                        csrf: String::new(),
                        mfa_token: enroll.mfa_token,
                        code: String::new(),
                        secret: setup.secret,
                        uri: setup.otpauth_uri,
                        next: next.map(str::to_owned),
                    };
                    enroll_page(headers, &form, None, StatusCode::OK)
                }
                Err(error) => {
                    let (status, detail) = refusal_of(&error, "Sign in again.");
                    login_page(headers, next, Some(&detail), status)
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct EnrollForm {
    csrf: String,
    mfa_token: String,
    code: String,
    /// Shown again when the code is wrong.
    secret: String,
    uri: String,
    next: Option<String>,
}

/// The organisation requires two factors: the new authenticator's code
/// turns it on, shows the recovery codes once and signs in.
pub async fn submit_enroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EnrollForm>,
) -> Response {
    let next = form.next.as_deref();
    if !session::csrf_ok(&headers, &form.csrf) {
        let detail = "The form has expired; please sign in again.";
        return login_page(&headers, next, Some(detail), StatusCode::FORBIDDEN);
    }
    match state
        .factors
        .confirm_enrollment(&form.mfa_token, &form.code)
        .await
    {
        Ok(enrolled) => {
            let target = session::safe_next(next).to_owned();
            let mut response = public_page(
                &headers,
                "Two-factor sign-in is on",
                StatusCode::OK,
                |_| {
                    html! {
                        section.login {
                            h1 { "Two-factor sign-in is on" }
                            p { "Keep these recovery codes somewhere safe: each signs you in once if you lose the app. They are not shown again." }
                            ul #recovery-codes.codes { @for code in &enrolled.recovery_codes { li { code { (code) } } } }
                            p { a #continue href=(target) { "Continue" } }
                        }
                    }
                },
            );
            for cookie in session::token_cookies(&enrolled.tokens, cookies::over_tls(&headers)) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) if error.code == "invalid_mfa_token" => login_page(
            &headers,
            next,
            Some(&error.detail),
            StatusCode::UNAUTHORIZED,
        ),
        Err(error) => {
            let status = crate::error::ApiError::from(error.clone()).status;
            enroll_page(&headers, &form, Some(&super::detail(&error)), status)
        }
    }
}

fn enroll_page(
    headers: &HeaderMap,
    form: &EnrollForm,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    public_page(headers, "Set up two-factor sign-in", status, |csrf| {
        html! {
            section.login {
                h1 { "Set up two-factor sign-in" }
                @if let Some(problem) = problem { (layout::problem(problem)) }
                p { "Your organisation requires a second factor. Scan this code with an authenticator app (or type the secret), then enter the 6-digit code it shows." }
                (super::security::qr_svg(&form.uri))
                p { "Secret: " code #totp-secret { (form.secret) } }
                form #enroll method="post" action="/login/enroll" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="mfa_token" value=(form.mfa_token);
                    input type="hidden" name="secret" value=(form.secret);
                    input type="hidden" name="uri" value=(form.uri);
                    @if let Some(next) = &form.next { input type="hidden" name="next" value=(next); }
                    label for="code" { "Code from the app" }
                    input #code name="code" autocomplete="one-time-code" inputmode="numeric" required autofocus maxlength="6";
                    button type="submit" { "Turn on and sign in" }
                }
            }
        }
    })
}

fn with_tokens(headers: &HeaderMap, next: Option<&str>, pair: &TokenPair) -> Response {
    let mut response = Redirect::to(session::safe_next(next)).into_response();
    for cookie in session::token_cookies(pair, cookies::over_tls(headers)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Deserialize)]
pub struct MfaForm {
    csrf: String,
    mfa_token: String,
    code: String,
    next: Option<String>,
}

/// The second step: a code from the authenticator or a recovery code.
pub async fn submit_mfa(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<MfaForm>,
) -> Response {
    let next = form.next.as_deref();
    if !session::csrf_ok(&headers, &form.csrf) {
        let detail = "The form has expired; please sign in again.";
        return login_page(&headers, next, Some(detail), StatusCode::FORBIDDEN);
    }
    match state
        .factors
        .complete_mfa(&form.mfa_token, &form.code)
        .await
    {
        Ok(pair) => with_tokens(&headers, next, &pair),
        Err(error) if error.code == "invalid_mfa_token" => login_page(
            &headers,
            next,
            Some(&error.detail),
            StatusCode::UNAUTHORIZED,
        ),
        Err(error) => {
            let (status, detail) = refusal_of(&error, "That code did not work; try the next one.");
            mfa_page(&headers, next, &form.mfa_token, Some(&detail), status)
        }
    }
}

fn mfa_page(
    headers: &HeaderMap,
    next: Option<&str>,
    mfa_token: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    public_page(headers, "Two-factor sign-in", status, |csrf| {
        html! {
            section.login {
                h1 { "Two-factor sign-in" }
                @if let Some(problem) = problem { (layout::problem(problem)) }
                form #mfa method="post" action="/login/mfa" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="mfa_token" value=(mfa_token);
                    @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                    label for="code" { "Code from your authenticator app, or a recovery code" }
                    input #code name="code" autocomplete="one-time-code" inputmode="numeric" required autofocus maxlength="32";
                    button type="submit" { "Verify" }
                }
            }
        }
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    email: String,
    /// Empty when asking for a code.
    code: Option<String>,
    next: Option<String>,
}

pub async fn code_form(headers: HeaderMap, Query(query): Query<Next>) -> Response {
    code_page(&headers, query.next.as_deref(), None, None, StatusCode::OK)
}

/// Asks for an e-mailed code, or signs in with one.
pub async fn submit_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let next = form.next.as_deref();
    if !session::csrf_ok(&headers, &form.csrf) {
        let detail = "The form has expired; please try again.";
        return code_page(&headers, next, None, Some(detail), StatusCode::FORBIDDEN);
    }
    let code = form
        .code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let Some(code) = code else {
        return match state.factors.request_email_code(&form.email).await {
            Ok(()) => code_page(&headers, next, Some(&form.email), None, StatusCode::OK),
            Err(error) => {
                let (status, detail) = refusal_of(&error, "Try again.");
                code_page(&headers, next, None, Some(&detail), status)
            }
        };
    };
    match state.factors.verify_email_code(&form.email, code).await {
        Ok(reply) => signed_in(&state, &headers, next, reply).await,
        Err(error) => {
            let (status, detail) = refusal_of(
                &error,
                "That code is wrong, used or expired; ask for a new one.",
            );
            code_page(&headers, next, Some(&form.email), Some(&detail), status)
        }
    }
}

/// The e-mail form, or (once a code was asked for) the code form.
fn code_page(
    headers: &HeaderMap,
    next: Option<&str>,
    sent_to: Option<&str>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    public_page(headers, "Sign in with a code", status, |csrf| {
        html! {
            section.login {
                h1 { "Sign in with an e-mailed code" }
                @if let Some(problem) = problem { (layout::problem(problem)) }
                form #code-login method="post" action="/login/code" {
                    input type="hidden" name="csrf" value=(csrf);
                    @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                    @if let Some(email) = sent_to {
                        p.note role="status" { "If " strong { (email) } " has an account that may sign in with codes, a 6-digit code is on its way. It works once, for 10 minutes." }
                        input type="hidden" name="email" value=(email);
                        label for="code" { "Code" }
                        input #code name="code" autocomplete="one-time-code" inputmode="numeric" required autofocus maxlength="6";
                        button type="submit" { "Sign in" }
                    } @else {
                        label for="email" { "E-mail" }
                        input #email type="email" name="email" autocomplete="username" required autofocus;
                        button type="submit" { "E-mail me a code" }
                    }
                }
                p { a href="/login" { "Sign in with a password" } }
            }
        }
    })
}

#[derive(Deserialize)]
pub struct ForgotForm {
    csrf: String,
    email: String,
}

pub async fn forgot_form(headers: HeaderMap) -> Response {
    forgot_page(&headers, false, None, StatusCode::OK)
}

pub async fn submit_forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    if !session::csrf_ok(&headers, &form.csrf) {
        let detail = "The form has expired; please try again.";
        return forgot_page(&headers, false, Some(detail), StatusCode::FORBIDDEN);
    }
    match state.factors.forgot_password(&form.email).await {
        Ok(()) => forgot_page(&headers, true, None, StatusCode::OK),
        Err(error) => {
            let (status, detail) = refusal_of(&error, "Try again.");
            forgot_page(&headers, false, Some(&detail), status)
        }
    }
}

fn forgot_page(
    headers: &HeaderMap,
    sent: bool,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    public_page(headers, "Forgot your password?", status, |csrf| {
        html! {
            section.login {
                h1 { "Forgot your password?" }
                @if let Some(problem) = problem { (layout::problem(problem)) }
                @if sent {
                    p.result role="status" { "If the address has an account, a link to set a new password is on its way. It works once, for 30 minutes." }
                } @else {
                    form #forgot method="post" action="/forgot-password" {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="email" { "E-mail" }
                        input #email type="email" name="email" autocomplete="username" required autofocus;
                        button type="submit" { "E-mail me a link" }
                    }
                }
                p { a href="/login" { "Back to sign-in" } }
            }
        }
    })
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    token: String,
    password: SecretString,
}

pub async fn reset_form(headers: HeaderMap, Query(query): Query<TokenQuery>) -> Response {
    reset_page(
        &headers,
        query.token.as_deref().unwrap_or_default(),
        None,
        StatusCode::OK,
    )
}

pub async fn submit_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Response {
    if !session::csrf_ok(&headers, &form.csrf) {
        let detail = "The form has expired; please try again.";
        return reset_page(&headers, &form.token, Some(detail), StatusCode::FORBIDDEN);
    }
    match state
        .factors
        .reset_password(&form.token, form.password)
        .await
    {
        Ok(()) => Redirect::to("/login?reset=done").into_response(),
        Err(error) => {
            let status = crate::error::ApiError::from(error.clone()).status;
            reset_page(&headers, &form.token, Some(&super::detail(&error)), status)
        }
    }
}

fn reset_page(
    headers: &HeaderMap,
    token: &str,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    public_page(headers, "Set a new password", status, |csrf| {
        html! {
            section.login {
                h1 { "Set a new password" }
                @if let Some(problem) = problem { (layout::problem(problem)) }
                form #reset method="post" action="/reset-password" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="token" value=(token);
                    label for="password" { "New password (12 characters or more)" }
                    input #password type="password" name="password" autocomplete="new-password" required minlength="12" autofocus;
                    button type="submit" { "Set password" }
                }
                p.note { "Every signed-in session ends when the password changes." }
            }
        }
    })
}

pub async fn logout(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<super::CsrfForm>,
) -> Response {
    if !session::csrf_ok(&headers, &form.csrf) {
        return super::csrf_refused(&session);
    }
    if let Err(error) = state.sessions.logout(&session.principal).await {
        return super::error_page(&session, error);
    }
    let mut response = Redirect::to("/login").into_response();
    for cookie in session::cleared_cookies(cookies::over_tls(&headers)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn login_page(
    headers: &HeaderMap,
    next: Option<&str>,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    public_page(headers, "Sign in", status, |csrf| {
        html! {
            section.login {
                h1 { "Sign in to Rampart" }
                @if let Some(problem) = problem { (layout::problem(problem)) }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                    label for="email" { "E-mail" }
                    input #email type="email" name="email" autocomplete="username" required autofocus;
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                }
                p {
                    a href="/login/code" { "Sign in with an e-mailed code" }
                    " · "
                    a href="/forgot-password" { "Forgot your password?" }
                }
            }
        }
    })
}

/// A page for people not signed in, with the CSRF cookie its forms need.
fn public_page(
    headers: &HeaderMap,
    title: &str,
    status: StatusCode,
    body: impl FnOnce(&str) -> maud::Markup,
) -> Response {
    let secure = cookies::over_tls(headers);
    let (csrf, new_cookie) = match cookies::get(headers, cookies::CSRF) {
        Some(token) => (token.to_owned(), None),
        None => {
            let token = session::new_csrf();
            let cookie = cookies::set(cookies::CSRF, &token, None, secure);
            (token, Some(cookie))
        }
    };
    let mut response = (
        status,
        Html(layout::page(title, None, Section::None, body(&csrf)).into_string()),
    )
        .into_response();
    if let Some(cookie) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
