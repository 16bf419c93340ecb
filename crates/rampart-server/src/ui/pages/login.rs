//! Signing in and out: the API's login (with its throttling and lockout)
//! behind a form; the session's tokens go into cookies.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
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

pub async fn form(headers: HeaderMap, Query(query): Query<Next>) -> Response {
    login_page(&headers, query.next.as_deref(), None, StatusCode::OK)
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
        Ok(pair) => {
            let mut response = Redirect::to(session::safe_next(next)).into_response();
            for cookie in session::token_cookies(&pair, cookies::over_tls(&headers)) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => {
            let status = match error.kind {
                ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::Unauthenticated | ErrorKind::Invalid => StatusCode::UNAUTHORIZED,
                _ => {
                    tracing::error!(code = error.code, "login failed");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            let detail = match status {
                StatusCode::TOO_MANY_REQUESTS => error.detail.as_str(),
                StatusCode::UNAUTHORIZED => "Wrong e-mail or password.",
                _ => "Signing in failed on the server; try again.",
            };
            login_page(&headers, next, Some(detail), status)
        }
    }
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
    let secure = cookies::over_tls(headers);
    let (csrf, new_cookie) = match cookies::get(headers, cookies::CSRF) {
        Some(token) => (token.to_owned(), None),
        None => {
            let token = session::new_csrf();
            let cookie = cookies::set(cookies::CSRF, &token, None, secure);
            (token, Some(cookie))
        }
    };
    let body = html! {
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
        }
    };
    let mut response = (
        status,
        Html(layout::page("Sign in", None, Section::None, body).into_string()),
    )
        .into_response();
    if let Some(cookie) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
