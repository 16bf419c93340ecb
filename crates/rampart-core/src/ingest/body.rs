//! Splits a request body into events: one JSON object, a JSON array of
//! them, or NDJSON (one per line). Errors carry the position of the item.

use crate::event::Json;

/// The body as a whole cannot be read (a JSON syntax error, say).
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct BodyError {
    pub line: usize,
    pub column: usize,
    pub detail: String,
}

/// One item of a batch cannot be read; the others still can.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemError {
    pub code: &'static str,
    pub detail: String,
}

/// The items of a JSON body: the elements of a top-level array, otherwise
/// the one value.
pub fn json_items(body: &[u8]) -> Result<Vec<Json<'_>>, BodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        // Nothing to store is not an error (as an empty NDJSON body).
        return Ok(Vec::new());
    }
    let value: Json<'_> = serde_json::from_slice(body).map_err(|e| BodyError {
        line: e.line(),
        column: e.column(),
        detail: format!(
            "malformed JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ),
    })?;
    match value {
        Json::Array(items) => Ok(items),
        one @ Json::Object(_) => Ok(vec![one]),
        _ => Err(BodyError {
            line: 1,
            column: 1,
            detail: "the body must be a JSON object or an array of objects".into(),
        }),
    }
}

/// The non-blank lines of an NDJSON body with their 0-based line index,
/// each parsed on its own so that one bad line spoils nothing else.
pub fn ndjson_lines(
    body: &[u8],
) -> impl Iterator<Item = (usize, Result<Json<'_>, ItemError>)> + '_ {
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(index, line)| {
            let parsed = serde_json::from_slice::<Json<'_>>(line).map_err(|e| ItemError {
                code: "invalid_json",
                detail: format!(
                    "line {}: malformed JSON at column {}: {e}",
                    index + 1,
                    e.column()
                ),
            });
            (index, parsed)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_objects_and_ndjson() {
        assert_eq!(json_items(br#"[{"a":1},{"b":2}]"#).unwrap().len(), 2);
        assert_eq!(json_items(br#"{"a":1}"#).unwrap().len(), 1);
        let err = json_items(b"{\n  \"a\": }").unwrap_err();
        assert_eq!((err.line, err.column), (2, 8));

        let body = b"{\"a\":1}\r\n\n  \n{bad\n{\"c\":3}";
        let items: Vec<_> = ndjson_lines(body).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].0, 0);
        assert!(items[0].1.is_ok());
        assert_eq!(items[1].0, 3);
        assert!(items[1]
            .1
            .as_ref()
            .unwrap_err()
            .detail
            .starts_with("line 4"));
        assert_eq!(items[2].0, 4);
    }
}
