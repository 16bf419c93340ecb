//! The domain error every service and the ingest pipeline return: what
//! went wrong in the domain's words (a [`ErrorKind`], a stable code, a
//! human detail and, for input, the field or position). It knows nothing
//! of HTTP; the edge maps each kind to a status in one place.

use serde::Serialize;

/// What kind of failure this is; the edge maps each to one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is invalid (a field, a position, a value).
    Invalid,
    /// The input's media type, encoding or charset is not supported.
    Unsupported,
    /// The input is larger than allowed.
    TooLarge,
    /// The thing asked for does not exist in the caller's organisation.
    NotFound,
    /// The change conflicts with what exists (a duplicate, a transition).
    Conflict,
    /// The caller is known but may not do this.
    Forbidden,
    /// The caller is not (or no longer) authenticated.
    Unauthenticated,
    /// The caller is refused for a while (login throttling).
    Throttled,
    /// The system is behind; nothing was done, retry later.
    Busy,
    /// A batch was refused as a whole because of the items listed.
    Rejected,
    /// A failure of the system itself; the cause is logged, never sent.
    Internal,
}

/// A failure of a domain operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// Stable, machine-readable code (`invalid_field`, `not_found`, ...).
    pub code: &'static str,
    /// The human detail; for `Internal`, the cause (logged, not sent).
    pub detail: String,
    /// The offending input field, for input errors.
    pub field: Option<String>,
    /// Position in the input, for malformed documents.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// For `Throttled` and `Busy`: when to try again (seconds; small, so
    /// that results carrying this error stay small).
    pub retry_after_secs: Option<u32>,
    /// For `Rejected`: the refused items (boxed: errors stay small).
    pub items: Option<Box<[ItemError]>>,
}

/// Why one item of a batch was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemError {
    /// 0-based: the element of a JSON array, or the line of NDJSON and raw bodies.
    pub index: usize,
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            detail: detail.into(),
            field: None,
            line: None,
            column: None,
            retry_after_secs: None,
            items: None,
        }
    }

    /// Invalid input not tied to one field.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, detail)
    }

    /// An invalid value of one input field.
    pub fn invalid_field(field: &str, detail: impl Into<String>) -> Self {
        Self::bad_request("invalid_field", detail).with_field(field)
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden", detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, detail)
    }

    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: i64) -> Self {
        Self::new(ErrorKind::Throttled, "too_many_requests", detail)
            .retry_after(retry_after_secs.max(1))
    }

    /// The system is behind: nothing was done, retry after `secs`.
    pub fn busy(code: &'static str, detail: impl Into<String>, secs: i64) -> Self {
        Self::new(ErrorKind::Busy, code, detail).retry_after(secs.max(1))
    }

    /// A batch refused whole because of `items`.
    pub fn rejected(detail: impl Into<String>, items: Vec<ItemError>) -> Self {
        Self {
            items: Some(items.into_boxed_slice()),
            ..Self::new(ErrorKind::Rejected, "batch_rejected", detail)
        }
    }

    /// A failure of the system itself: `cause` is kept for the log.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        Self::new(ErrorKind::Internal, "internal", cause.to_string())
    }

    /// The same error, naming the offending input field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same error, at a position of the input.
    pub fn at(mut self, line: Option<u32>, column: Option<u32>) -> Self {
        self.line = line;
        self.column = column;
        self
    }

    fn retry_after(mut self, secs: i64) -> Self {
        self.retry_after_secs = Some(u32::try_from(secs).unwrap_or(u32::MAX));
        self
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_keep_kind_code_and_field() {
        let e = Error::invalid_field("title", "too long");
        assert_eq!(
            (e.kind, e.code, e.field.as_deref()),
            (ErrorKind::Invalid, "invalid_field", Some("title"))
        );
        let e = Error::too_many_requests("slow down", 0);
        assert_eq!(
            (e.kind, e.retry_after_secs),
            (ErrorKind::Throttled, Some(1))
        );
        // Results carrying the error stay small (clippy's result_large_err).
        assert!(std::mem::size_of::<Error>() <= 112);
        assert_eq!(
            Error::not_found("incident").to_string(),
            "incident not found"
        );
    }
}
