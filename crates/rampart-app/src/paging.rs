//! Keyset pagination: the `limit` and `cursor` parameters of list
//! endpoints, the page they answer with, and opaque cursors over text keys.
//! Shared by the routes and the services that build pages.

use serde::{Deserialize, Serialize};

use rampart_core::Error;

/// Keyset pagination parameters of list endpoints.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// At most this many items (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<u32, Error> {
        match self.limit {
            None => Ok(100),
            Some(n @ 1..=1000) => Ok(n),
            Some(_) => Err(Error::invalid_field("limit", "must be between 1 and 1000")),
        }
    }

    pub fn cursor<T: std::str::FromStr>(&self) -> Result<Option<T>, Error> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.parse()
                    .map_err(|_| Error::invalid_field("cursor", "not a cursor this API returned"))
            })
            .transpose()
    }
}

/// The cursor of a list keyed by free text (rule ids are whatever a
/// rule's YAML says): the key in unpadded base64url, so that a cursor this
/// API did not hand out is refused like any other list's.
pub struct TextCursor(pub String);

impl TextCursor {
    pub fn encode(key: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    }
}

impl std::str::FromStr for TextCursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| ())?;
        String::from_utf8(bytes).map(TextCursor).map_err(|_| ())
    }
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page; a full page may have more after it.
    pub fn new(items: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Self {
        let full = items.len() >= limit as usize;
        let next_cursor = if full {
            items.last().map(cursor_of)
        } else {
            None
        };
        Self { items, next_cursor }
    }
}
