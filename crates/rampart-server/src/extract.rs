//! Request extractors: the authenticated [`Principal`], JSON bodies that fail
//! as problem documents, and the client address.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
pub use rampart_app::{Actor, Principal};
use rampart_core::ids::Identifier;
use serde::de::DeserializeOwned;

pub use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::state::AppState;

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized(
                "missing_credentials",
                "send Authorization: Bearer <token or API key>",
            )
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(bearer_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "invalid_credentials",
                    "the Authorization header must be 'Bearer <token>'",
                )
            })?;
        let principal = state.sessions.authenticate(token).await?;
        crate::limits::check_caller(parts, state, &principal).await?;
        Ok(principal)
    }
}

/// The credential of an `Authorization: Bearer …` value; the scheme name
/// is case-insensitive (RFC 9110 §11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A JSON request body; errors become problem documents with the position
/// (malformed JSON) or the field (wrong shape).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json") || m.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    "payload_too_large",
                    "the request body exceeds the size limit",
                )
            } else {
                ApiError::bad_request("unreadable_body", rejection.body_text())
            }
        })?;
        // Every JSON body of the API is an object; serde would otherwise
        // fill a struct from an array of its fields in order.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request(
                "invalid_body",
                "the body must be a JSON object",
            ));
        }
        parse_json(&bytes).map(ApiJson)
    }
}

/// Query parameters; a value that does not parse is answered with a
/// problem document saying which and why (naming the parameter when it is
/// missing or unknown).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        if let Some(name) = parts.uri.query().and_then(query_param_with_nul) {
            return Err(ApiError::bad_request(
                "invalid_query",
                "a query parameter may not contain NUL (%00)",
            )
            .with_field(name));
        }
        // `name=` with nothing after it is a parameter not given (as a
        // form's empty field is sent), not an empty value to refuse.
        let given: String = parts
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.ends_with('='))
            .collect::<Vec<_>>()
            .join("&");
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(given.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(pairs)
            .map(ApiQuery)
            .map_err(|e| {
                // A bad value is named by where it was found; a missing or
                // unknown parameter by the message.
                let at = e.path().to_string();
                let detail = format!("invalid query string: {}", e.into_inner());
                let field = if at != "." {
                    Some(at)
                } else if detail.contains("missing field") || detail.contains("unknown field") {
                    field_of(&detail)
                } else {
                    None
                };
                let error = rampart_core::Error::bad_request("invalid_query", detail);
                ApiError::from(match field {
                    Some(field) => error.with_field(field),
                    None => error,
                })
            })
    }
}

/// Parses JSON, reporting the line and column of a syntax error and the
/// field of a shape error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    refuse_nul(bytes)?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        json_error(e.into_inner(), &path)
    })?;
    deserializer.end().map_err(|e| json_error(e, "."))?;
    Ok(value)
}

/// The problem for a JSON error found at `path` (`.` for the document).
fn json_error(e: serde_json::Error, path: &str) -> ApiError {
    let message = e.to_string();
    let (code, detail) = match e.classify() {
        serde_json::error::Category::Data => ("invalid_field", message.clone()),
        _ => ("malformed_json", format!("malformed JSON: {e}")),
    };
    // A missing field is named in the message (the path is its parent's);
    // any other shape error by where it happened.
    let field = match code {
        "invalid_field" if message.starts_with("missing field") => {
            field_of(&message).map(|f| match path {
                "." => f,
                parent => format!("{parent}.{f}"),
            })
        }
        "invalid_field" if path != "." => Some(path.to_owned()),
        _ => None,
    };
    let mut error = rampart_core::Error::bad_request(code, detail)
        .at(u32::try_from(e.line()).ok(), u32::try_from(e.column()).ok());
    error.field = field;
    error.into()
}

/// Text input may not hold NUL (`\u0000`): PostgreSQL text cannot store
/// it, and no name, comment or rule needs it. Refused the same way on
/// every backend, naming the field that holds it.
fn refuse_nul(bytes: &[u8]) -> Result<(), ApiError> {
    let escaped_nul = bytes.windows(6).enumerate().any(|(at, w)| {
        w == b"\\u0000"
            && bytes[..at]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count()
                % 2
                == 0
    });
    if !escaped_nul {
        return Ok(());
    }
    let field = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| path_of_nul(&v, String::new()));
    Err(
        ApiError::bad_request("invalid_field", "text may not contain NUL (\\u0000)")
            .with_field(field.unwrap_or_else(|| ".".into())),
    )
}

/// Where in `value` a string (or key) holds NUL, as `a.b[2]`.
fn path_of_nul(value: &serde_json::Value, at: String) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(at),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| path_of_nul(v, format!("{at}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(k))
            } else {
                path_of_nul(v, join(k))
            }
        }),
        _ => None,
    }
}

/// The first query parameter whose name or value holds NUL (`%00`).
fn query_param_with_nul(query: &str) -> Option<String> {
    query
        .split('&')
        .find(|pair| pair.contains('\0') || pair.to_ascii_lowercase().contains("%00"))
        .map(|pair| pair.split('=').next().unwrap_or_default().to_owned())
}

/// serde names the field in its messages as `field` in backticks.
fn field_of(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

/// A typed identifier from the path's one parameter; a value that cannot
/// be such an id names nothing, so it is answered 404 like an unknown id.
pub struct PathId<T>(pub T);

impl<S: Send + Sync, T: Identifier> FromRequestParts<S> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found(T::NOUN))?;
        raw.parse()
            .map(PathId)
            .map_err(|_| ApiError::not_found(T::NOUN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer rk_abc"), Some("rk_abc"));
        assert_eq!(bearer_token("bearer  rk_abc "), Some("rk_abc"));
        assert_eq!(bearer_token("BEARER rk_abc"), Some("rk_abc"));
        assert_eq!(bearer_token("Basic dXNlcg=="), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    #[tokio::test]
    async fn a_body_must_be_an_object_not_an_array_of_its_fields() {
        let request = |body: &'static str| {
            Request::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(body))
                .unwrap()
        };
        let err = ApiJson::<Login>::from_request(request("[\"a@b\"]"), &())
            .await
            .err()
            .unwrap();
        assert_eq!(err.error.code, "invalid_body");
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(
            ApiJson::<Login>::from_request(request(" {\"email\":\"a@b\"}"), &())
                .await
                .is_ok()
        );
    }

    #[test]
    fn syntax_errors_carry_their_position() {
        let err = parse_json::<Login>(b"{\n  \"email\": }").unwrap_err();
        assert_eq!(err.error.code, "malformed_json");
        assert_eq!(err.error.line, Some(2));
        assert!(err.error.column.is_some());
    }

    #[test]
    fn shape_errors_name_the_field() {
        let err = parse_json::<Login>(b"{\"email\": 5}").unwrap_err();
        assert_eq!(err.error.code, "invalid_field");
        let err = parse_json::<Login>(b"{}").unwrap_err();
        assert_eq!(err.error.field.as_deref(), Some("email"));
        let err = parse_json::<Login>(b"{\"email\":\"a\",\"extra\":1}").unwrap_err();
        assert_eq!(err.error.field.as_deref(), Some("extra"));
        // A value of the wrong type names its field, not the value.
        let err = parse_json::<Login>(b"{\"email\": 5}").unwrap_err();
        assert_eq!(err.error.field.as_deref(), Some("email"));
        let err = parse_json::<Vec<Login>>(b"[{\"email\":\"a\"}, {\"email\": true}]").unwrap_err();
        assert_eq!(err.error.field.as_deref(), Some("[1].email"));
        let err = parse_json::<Vec<Login>>(b"[{\"email\":\"a\"}, {\"email\":\"x\\u0000y\"}]")
            .unwrap_err();
        assert_eq!(err.error.field.as_deref(), Some("[1].email"));
        // An escaped backslash before `u0000` is text, not NUL.
        assert!(parse_json::<Login>(b"{\"email\":\"x\\\\u0000\"}").is_ok());
        assert_eq!(query_param_with_nul("a=1&q=x%00y"), Some("q".into()));
        assert_eq!(query_param_with_nul("a=1&q=x%2500"), None);
        let err = parse_json::<Login>(b"{\"email\":\"a\"} trailing").unwrap_err();
        assert_eq!(err.error.code, "malformed_json");
    }
}
