//! The UI's cookies: reading the `Cookie` header and writing `Set-Cookie`
//! values (HttpOnly, SameSite=Strict, Secure behind TLS).

use axum::http::{header, HeaderMap, HeaderValue};

/// The access token (a short-lived JWT).
pub const ACCESS: &str = "rampart_access";
/// The refresh token, rotated on use.
pub const REFRESH: &str = "rampart_refresh";
/// The CSRF token every form repeats.
pub const CSRF: &str = "rampart_csrf";
/// The chosen colour theme (`light` or `dark`; absent: the system's).
pub const THEME: &str = "rampart_theme";

/// The value of cookie `name`, if the request sent it.
pub fn get<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Whether the browser reached us over TLS (directly or through a proxy
/// that says so): cookies are then marked `Secure`.
pub fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value; `max_age` `None` is a cookie for the browser
/// session, `Some(0)` removes it.
pub fn set(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    // Token text is base64url, hex or JWT: always a valid header value.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; rampart_access_x=2; rampart_access=tok; b="),
        );
        assert_eq!(get(&headers, ACCESS), Some("tok"));
        assert_eq!(get(&headers, "b"), None);
        assert_eq!(get(&headers, REFRESH), None);
        let value = set(ACCESS, "tok", Some(60), true);
        assert_eq!(
            value.to_str().unwrap(),
            "rampart_access=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
    }
}
