//! The colour theme switch in every page's header: a cookie that the
//! layout reads (`data-theme` on the page), back to the page it was
//! chosen on.

use axum::extract::Form;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;

use super::super::cookies;
use super::super::session::{self, Session, Theme};

/// Kept for a year; "system" removes the cookie.
const THEME_MAX_AGE_SECS: i64 = 365 * 86_400;

#[derive(Deserialize)]
pub struct ThemeForm {
    csrf: String,
    theme: String,
    next: Option<String>,
}

pub async fn set(
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<ThemeForm>,
) -> Response {
    if !session::csrf_ok(&headers, &form.csrf) {
        return super::csrf_refused(&session);
    }
    let Some(theme) = Theme::parse(&form.theme) else {
        return super::error_page(
            &session,
            rampart_core::Error::invalid_field("theme", "must be system, light or dark"),
        );
    };
    let secure = cookies::over_tls(&headers);
    let cookie = match theme {
        Theme::System => cookies::set(cookies::THEME, "", Some(0), secure),
        chosen => cookies::set(
            cookies::THEME,
            chosen.as_str(),
            Some(THEME_MAX_AGE_SECS),
            secure,
        ),
    };
    let mut response = Redirect::to(session::safe_next(form.next.as_deref())).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}
