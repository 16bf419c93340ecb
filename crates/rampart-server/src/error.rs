//! The one mapping from failures to HTTP: RFC 9457 problem documents
//! (`application/problem+json`) with a stable `code`. Causes of 5xx are
//! logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use rampart_core::ItemError;
use rampart_core::{Error, ErrorKind};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer of the API: a domain error and the status it is
/// answered with (chosen by its kind, or by the edge for what only HTTP
/// knows: 405, 408, 431, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: Error,
}

/// The problem document as sent.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// Stable, machine-readable error code.
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// For a refused batch: each refused item with its position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ItemError>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        let kind = kind_of(status);
        Self {
            status,
            error: Error::new(kind, code, detail),
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Error::bad_request(code, detail).into()
    }

    /// An invalid value of one input field.
    pub fn invalid_field(field: &str, detail: impl Into<String>) -> Self {
        Error::invalid_field(field, detail).into()
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Error::unauthorized(code, detail).into()
    }

    pub fn not_found(what: &str) -> Self {
        Error::not_found(what).into()
    }

    /// A server-side failure: the cause is logged here and not sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        Error::internal(cause).into()
    }

    /// The same error, naming the offending input field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.error.field = Some(field.into());
        self
    }

    /// A generic problem for a status produced outside the handlers
    /// (routing, body limits, method mismatch).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, detail) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this method is not allowed on this resource",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported_media_type", "unsupported content type")
            }
            StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the service is unavailable"),
            s if s.is_server_error() => ("internal", "the server failed to handle this request"),
            _ => ("bad_request", "the request could not be handled"),
        };
        Self::new(status, code, detail)
    }

    pub fn to_problem(&self) -> Problem {
        let e = &self.error;
        // The cause of an internal error is logged, never sent.
        let detail = if e.kind == ErrorKind::Internal {
            "the server failed to handle this request; it has been logged".to_owned()
        } else {
            e.detail.clone()
        };
        Problem {
            type_: format!("/problems/{}", e.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            code: e.code.to_string(),
            detail,
            field: e.field.clone(),
            line: e.line.map(|l| l as usize),
            column: e.column.map(|c| c as usize),
            errors: e.items.as_ref().map(|items| items.to_vec()),
        }
    }
}

/// The kind of failure a status stands for, for errors the edge makes.
fn kind_of(status: StatusCode) -> ErrorKind {
    match status {
        StatusCode::NOT_FOUND => ErrorKind::NotFound,
        StatusCode::UNAUTHORIZED => ErrorKind::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorKind::Forbidden,
        StatusCode::CONFLICT => ErrorKind::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::TooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorKind::Unsupported,
        StatusCode::TOO_MANY_REQUESTS => ErrorKind::Throttled,
        StatusCode::SERVICE_UNAVAILABLE => ErrorKind::Busy,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorKind::Rejected,
        s if s.is_server_error() => ErrorKind::Internal,
        _ => ErrorKind::Invalid,
    }
}

/// The status each kind of domain error is answered with: the one
/// mapping.
fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Busy => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The human detail, as the CLI shows it.
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error.detail)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.to_problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = self.error.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A domain error answered with its kind's status; an internal cause is
/// logged here.
impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        if error.kind == ErrorKind::Internal {
            tracing::error!(error = %error.detail, "internal error");
        }
        ApiError {
            status: status_of(error.kind),
            error,
        }
    }
}

impl From<rampart_store::StoreError> for ApiError {
    fn from(err: rampart_store::StoreError) -> Self {
        rampart_core::Error::from(err).into()
    }
}

/// Turns any error response that is not yet a problem document (a 405 from
/// the router, a 413 from a body limit, ...) into one.
pub async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    // A problem document, or a page of the UI that says what went wrong.
    let is_document = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(PROBLEM_JSON.as_bytes())
                || v.as_bytes().starts_with(b"text/html")
        });
    if (status.is_client_error() || status.is_server_error()) && !is_document {
        let mut problem = ApiError::from_status(status).into_response();
        if let Some(allow) = response.headers().get(header::ALLOW) {
            problem.headers_mut().insert(header::ALLOW, allow.clone());
        }
        return problem;
    }
    response
}
