//! Browser sessions: the API's own tokens, kept in cookies. The access
//! token (a short-lived JWT) authenticates each page; when it has expired
//! the refresh token is rotated, as the API's refresh does, and both
//! cookies are replaced. A CSRF token, random per browser and repeated in
//! every form, guards each change (besides SameSite=Strict).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use rampart_app::api::accounts::TokenPair;
use rampart_app::principal::{Actor, Principal};

use super::cookies;
use crate::state::AppState;

/// The signed-in user of a page, with the CSRF token its forms carry.
#[derive(Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    pub theme: Theme,
    /// The path and query of the page asked for (forms in the header
    /// come back to it).
    pub path: String,
}

/// The colour theme pages are drawn in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    /// The system's (light or dark, by `prefers-color-scheme`).
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    pub fn parse(text: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The theme a request's cookie chose.
    pub fn of(headers: &HeaderMap) -> Theme {
        cookies::get(headers, cookies::THEME)
            .and_then(Theme::parse)
            .unwrap_or(Theme::System)
    }
}

impl Session {
    /// Who is signed in, as the header shows it.
    pub fn who(&self) -> &str {
        match &self.principal.actor {
            Actor::User { user, .. } => &user.display_name,
            Actor::ApiKey { key } => &key.name,
        }
    }
}

/// Lets a request through with a [`Session`] in its extensions, or sends
/// the browser to the login page.
pub async fn require_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let secure = cookies::over_tls(headers);
    let mut set_cookies: Vec<HeaderValue> = Vec::new();
    let mut principal = match cookies::get(headers, cookies::ACCESS) {
        Some(token) => state.sessions.authenticate(token).await.ok(),
        None => None,
    };
    if principal.is_none() {
        if let Some(refresh) = cookies::get(headers, cookies::REFRESH) {
            if let Ok(pair) = state.sessions.refresh(refresh).await {
                set_cookies.extend(token_cookies(&pair, secure));
                principal = state.sessions.authenticate(&pair.access_token).await.ok();
            }
        }
    }
    // Only a user's session is a browser session: an API key is not.
    let Some(principal) = principal.filter(|p| matches!(p.actor, Actor::User { .. })) else {
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let mut response =
            Redirect::to(&format!("/login?next={}", encode_next(target))).into_response();
        for cookie in cleared_cookies(secure) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        return response;
    };
    let csrf = match cookies::get(headers, cookies::CSRF) {
        Some(token) => token.to_owned(),
        None => {
            let token = new_csrf();
            set_cookies.push(cookies::set(cookies::CSRF, &token, None, secure));
            token
        }
    };
    let theme = Theme::of(request.headers());
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    request.extensions_mut().insert(Session {
        principal,
        csrf,
        theme,
        path,
    });
    let mut response = next.run(request).await;
    for cookie in set_cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The cookies that hold a token pair.
pub fn token_cookies(pair: &TokenPair, secure: bool) -> [HeaderValue; 2] {
    [
        cookies::set(cookies::ACCESS, &pair.access_token, None, secure),
        cookies::set(cookies::REFRESH, &pair.refresh_token, None, secure),
    ]
}

/// Cookies that remove the session's tokens.
pub fn cleared_cookies(secure: bool) -> [HeaderValue; 2] {
    [
        cookies::set(cookies::ACCESS, "", Some(0), secure),
        cookies::set(cookies::REFRESH, "", Some(0), secure),
    ]
}

/// A fresh CSRF token.
pub fn new_csrf() -> String {
    rampart_app::auth::tokens::random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a submitted form's token is this browser's.
pub fn csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    match cookies::get(headers, cookies::CSRF) {
        Some(expected) => {
            // Compared in full whatever the first difference.
            expected.len() == submitted.len()
                && expected
                    .bytes()
                    .zip(submitted.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        }
        None => false,
    }
}

/// Where to go after signing in: only a path of this site.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

fn encode_next(path: &str) -> String {
    form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(
            safe_next(Some("/incidents?status=open")),
            "/incidents?status=open"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
