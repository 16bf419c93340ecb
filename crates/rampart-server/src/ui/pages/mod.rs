//! The UI's pages, one module per section; each handler extracts, calls
//! one service and renders.

pub mod api_keys;
pub mod assets;
pub mod audit;
pub mod dashboard;
pub mod entities;
pub mod events;
pub mod feedback;
pub mod field_mapping;
pub mod findings;
pub mod flags;
pub mod hunt;
pub mod incidents;
pub mod ioc;
pub mod jobs;
pub mod login;
pub mod notifications;
pub mod organisations;
pub mod phishing;
pub mod rules;
pub mod saved_hunts;
pub mod scans;
pub mod security;
pub mod settings;
pub mod theme;
pub mod users;
pub mod validation;
pub mod watchlists;

use axum::response::{Html, IntoResponse, Response};
use maud::html;

use super::layout::{self, Section};
use super::session::Session;
use crate::error::ApiError;

/// A page saying what went wrong, with the status the API would answer.
/// Causes of internal errors are logged, never shown.
pub fn error_page(session: &Session, error: impl Into<ApiError>) -> Response {
    let error: ApiError = error.into();
    let detail = if error.status.is_server_error() {
        tracing::error!(code = error.error.code, detail = %error.error.detail, "a page failed");
        "Something went wrong on the server; its log has the details.".to_owned()
    } else {
        detail(&error.error)
    };
    let title = error
        .status
        .canonical_reason()
        .unwrap_or("Error")
        .to_owned();
    let body = html! {
        h1 { (title) }
        (layout::problem(&detail))
        p { a href="/" { "Home" } }
    };
    (
        error.status,
        Html(layout::page(&title, Some(session), Section::None, body).into_string()),
    )
        .into_response()
}

/// A problem's detail, with the field it is about.
pub fn detail(error: &rampart_core::Error) -> String {
    match &error.field {
        Some(field) => format!("{} ({field})", error.detail),
        None => error.detail.clone(),
    }
}

/// An error's status and the text a page shows for it.
pub fn problem_of(error: &rampart_core::Error) -> (axum::http::StatusCode, String) {
    (ApiError::from(error.clone()).status, detail(error))
}

/// The timeline page of an entity (`ip`, `user` or `host`).
pub fn entity_link(kind: &str, value: &str) -> String {
    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    format!("/entities/{kind}?value={value}")
}

/// The entity kind of an event field whose value is an address, a user or
/// a host, if it is one.
pub fn entity_kind_of(field: &str) -> Option<&'static str> {
    match field {
        "source.ip" | "destination.ip" | "client.ip" | "server.ip" | "host.ip" => Some("ip"),
        "user.name" | "source.user.name" | "destination.user.name" => Some("user"),
        "host.name" | "host.hostname" => Some("host"),
        _ => None,
    }
}

/// This page's address with `name` set to `value`, the other parameters
/// kept and any page cursor dropped (`name` may be `cursor` itself).
pub fn link_with(uri: &axum::http::Uri, name: &str, value: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        if k != name && k != "cursor" {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair(name, value);
    format!("{}?{}", uri.path(), query.finish())
}

/// The page refusing a form's change: when its CSRF token is not this
/// browser's, or the caller lacks `permission`. `None` lets it through.
pub fn refusal(
    session: &Session,
    headers: &axum::http::HeaderMap,
    csrf: &str,
    permission: rampart_core::Permission,
) -> Option<Response> {
    if !super::session::csrf_ok(headers, csrf) {
        return Some(csrf_refused(session));
    }
    session
        .principal
        .require(permission)
        .err()
        .map(|error| error_page(session, error))
}

/// 403 for a form whose CSRF token is not this browser's.
/// A form that carries nothing but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

pub fn csrf_refused(session: &Session) -> Response {
    error_page(
        session,
        ApiError::from(rampart_core::Error::forbidden(
            "the form has expired or did not come from this site; reload the page and try again",
        )),
    )
}
